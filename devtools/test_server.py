"""The Java time-skipping test server, for tests of month-long timelines in seconds.

The dev server runs timers in real time; dossiers wait days (8:30 on the next working day,
convocations 15 days before an exam). Temporal's Java test server skips time whenever the
workflows under test only wait on timers. It is fetched from Maven Central with Maven (no
internet download of a native build is possible here) into the cache outside the repository,
and started through a small wrapper script that `WorkflowEnvironment.start_time_skipping` runs.

`python -m devtools.test_server` prints the wrapper's path, resolving it if needed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from devtools.temporal_binary import cache_dir

VERSION = "1.32.1"
POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.inscriptions</groupId><artifactId>test-server</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
      <version>{VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""


class TestServerUnavailable(RuntimeError):
    pass


def home() -> Path:
    return cache_dir().parent / f"java-test-server-{VERSION}"


def ensure(log=print) -> Path:
    wrapper = home() / "temporal-test-server"
    if wrapper.is_file():
        return wrapper
    java, mvn = shutil.which("java"), shutil.which("mvn")
    if not java or not mvn:
        raise TestServerUnavailable(
            "The time-skipping tests need Java 11+ and Maven (packages default-jdk-headless, maven)."
        )
    folder = home()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pom.xml").write_text(POM)
    log(f"Resolving the Temporal Java test server {VERSION} with Maven into {folder}...")
    result = subprocess.run(
        [mvn, "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={folder / 'classpath.txt'}"],
        cwd=folder,
    )
    if result.returncode != 0:
        raise TestServerUnavailable("Maven could not resolve io.temporal:temporal-test-server")
    classpath = (folder / "classpath.txt").read_text().strip()
    tmp = wrapper.with_suffix(".part")
    tmp.write_text(f'#!/bin/sh\nexec "{java}" -Xmx512m -cp "{classpath}" io.temporal.testserver.TestServer "$@"\n')
    tmp.chmod(0o755)
    tmp.rename(wrapper)
    return wrapper


def main() -> int:
    try:
        print(ensure(log=lambda m: print(m, file=sys.stderr)))
    except TestServerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
