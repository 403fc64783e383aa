"""What every benchmark script needs: progress lines, free ports, the stack's processes (Temporal
dev server, worker, web app, mail sink), CPU and memory accounting, latency percentiles."""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.testing import WorkflowEnvironment

from devtools import temporal_binary
from devtools.mail_sink import MailSink
from devtools.run_local import web_command, web_environment
from infra.settings import PROJECT_ROOT, Settings
from infra.temporal import DATA_CONVERTER
from workflows import names

T0 = time.monotonic()
# The worker's cache when INSCRIPTIONS_WORKER_CACHED_WORKFLOWS is not set (`infra.settings`).
SDK_DEFAULT_CACHE = Settings.model_fields["worker_cached_workflows"].default


def say(message: str) -> None:
    """A progress line with the seconds since the benchmark started."""
    print(f"[{time.monotonic() - T0:7.1f} s] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- CPU, memory, load
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB: its resident memory now, and at its peak."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024  # kB
    return values["VmRSS"], values["VmHWM"]


def machine_busy_seconds() -> float:
    """CPU time spent by the whole machine so far, idle and iowait excluded (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def uptime() -> str:
    """What `uptime` prints (its load averages are the ones to quote)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return load()


@dataclass
class CpuWatch:
    """CPU used over a phase by named processes and by everything else on the machine (other
    people's tests...), in cores busy on average."""

    pids: dict[str, list[int]]
    wall0: float = field(default_factory=time.monotonic)
    cpu0: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cpu0 = self._sample()

    def _sample(self) -> dict[str, float]:
        ours = {name: sum(_cpu_or_zero(p) for p in pids) for name, pids in self.pids.items()}
        return {**ours, "other processes": machine_busy_seconds() - sum(ours.values())}

    def used(self) -> dict[str, float]:
        """CPU seconds per name since the start of the phase."""
        now = self._sample()
        return {k: now[k] - self.cpu0[k] for k in now}

    def report(self) -> str:
        wall = time.monotonic() - self.wall0
        return ", ".join(f"{k} {v / wall:.2f}" for k, v in self.used().items()) + " cores"

    def seconds(self) -> str:
        wall = time.monotonic() - self.wall0
        used = self.used()
        return (
            ", ".join(f"{k} {v:.1f} s ({v / wall:.2f} cores)" for k, v in used.items()) + f" over {wall:.0f} s of wall"
        )


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # exited meanwhile
        return 0.0


# --------------------------------------------------------------------------- latencies
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> str:
    """n, p50, p95, p99, max in milliseconds."""
    ms = [v * 1000 for v in values]
    return (
        f"n={len(ms):5d}  p50={percentile(ms, 50):7.1f}  p95={percentile(ms, 95):7.1f}  "
        f"p99={percentile(ms, 99):7.1f}  max={max(ms):7.1f} ms"
    )


def seconds_summary(values: list[float]) -> str:
    """n, p50, p90, p99, max in seconds (for latencies that may run to tens of seconds)."""
    if not values:
        return "n=0"
    return (
        f"n={len(values):5d}  p50={percentile(values, 50):6.2f}  p90={percentile(values, 90):6.2f}  "
        f"p99={percentile(values, 99):6.2f}  max={max(values):6.2f} s"
    )


# --------------------------------------------------------------------------- pages
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise RuntimeError("no CSRF token in the page")
    return html.unescape(found.group(1))


async def wait_http(url: str, process: subprocess.Popen | asyncio.subprocess.Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            code = process.poll() if isinstance(process, subprocess.Popen) else process.returncode
            if code is not None:
                raise SystemExit(f"{url}: the process exited with code {code}")
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {timeout:.0f} s")
            await asyncio.sleep(0.2)


# --------------------------------------------------------------------------- Temporal dev server
async def start_dev_server(log_level: str = "error", db_file: Path | None = None) -> WorkflowEnvironment:
    """The Temporal CLI dev server with the project's search attributes, as the tests start it;
    with `db_file`, on a SQLite file as `scripts/dev.sh` runs it (else in memory)."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary.ensure(log=say)),
        search_attributes=list(names.SEARCH_ATTRIBUTES),
        data_converter=DATA_CONVERTER,
        dev_server_database_filename=str(db_file) if db_file else None,
        dev_server_log_level=log_level,
        dev_server_extra_args=["--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"],
        dev_server_startup_timeout=timedelta(seconds=60),
    )


def record_stacks(processes: dict[str, list[int]], *options: str) -> list[subprocess.Popen]:
    """With BENCH_PYSPY=DIR (and py-spy on PATH or in BENCH_PYSPY_BIN), record each process's
    stacks until `stop_recording` into DIR/<name>-<pid>.json (speedscope), to find where the
    time goes, with py-spy's `options`; nothing otherwise."""
    target = os.environ.get("BENCH_PYSPY")
    if not target:
        return []
    Path(target).mkdir(parents=True, exist_ok=True)
    spy = os.environ.get("BENCH_PYSPY_BIN", "py-spy")
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "-p",
                str(pid),
                "-o",
                f"{target}/{name}-{pid}.json",
                "-f",
                "speedscope",
                "-r",
                "50",
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pids in processes.items()
        for pid in pids
    ]


def stop_recording(recorders: list[subprocess.Popen]) -> None:
    for recorder in recorders:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    for recorder in recorders:
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()


def child_pids(pid: int) -> list[int]:
    """The live children of process `pid` (Linux's /proc/PID/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def dev_server_pids() -> list[int]:
    """The Temporal dev server: a child of this process whose command is the CLI binary."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and comm.startswith("temporal"):
            pids.append(int(entry.name))
    return pids


def app_environment(workdir: Path, temporal: str, smtp_port: int, task_queue: str, **more: str) -> dict[str, str]:
    """The INSCRIPTIONS_* environment of the worker and web processes, all in `workdir`."""
    return {
        **os.environ,
        "INSCRIPTIONS_ENVIRONMENT": "dev",
        "INSCRIPTIONS_DATA_DIR": str(workdir),
        "INSCRIPTIONS_TEMPORAL_ADDRESS": temporal,
        "INSCRIPTIONS_TASK_QUEUE": task_queue,
        "INSCRIPTIONS_SMTP_HOST": "127.0.0.1",
        "INSCRIPTIONS_SMTP_PORT": str(smtp_port),
        "PYTHONUNBUFFERED": "1",
        **more,
    }


# --------------------------------------------------------------------------- processes
async def migrate(env: dict[str, str]) -> None:
    """The migrate step (`python -m ops.migrate`) on the processes' database, as a deploy runs it
    before starting them (they refuse a schema that is not at head); a no-op once done."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ops.migrate",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode:
        raise SystemExit(f"migrate step failed (code {proc.returncode}):\n{out.decode(errors='replace')}")


def log_problems(log_path: Path) -> Counter[str]:
    """What went wrong in a process's log: failed activity attempts and exception messages."""
    found: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        if "Completing activity as failed" in line:
            found["activity attempts failed (retried by the workflow)"] += 1
        elif line and not line[0].isspace() and ("Error: " in line or "Exception: " in line or "Error(" in line):
            found[line[:200]] += 1
    return found


class WorkerProcess:
    """`python -m bench.worker_process`: the production worker (`worker.main`, what `python
    worker.py` runs), alone in its process."""

    def __init__(self, env: dict[str, str], log_path: Path, max_cached: int | None = None) -> None:
        self.env = dict(env)
        if max_cached:
            self.env["INSCRIPTIONS_WORKER_CACHED_WORKFLOWS"] = str(max_cached)
        self.log_path = log_path
        self.max_cached = max_cached
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def cache_size(self) -> int:
        return self.max_cached or SDK_DEFAULT_CACHE

    async def start(self, timeout: float = 60) -> None:
        await migrate(self.env)
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.worker_process",
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "Worker polling task queue" not in self.log_path.read_text(errors="replace"):
            if self.proc.returncode is not None:
                raise SystemExit(f"worker exited (code {self.proc.returncode}) at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"worker not polling after {timeout:.0f} s:\n{self.log_tail()}")
            await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 60) -> None:
        """SIGTERM, as a supervisor would: the worker finishes its tasks in flight and exits."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            say(f"worker {self.pid} still running {timeout:.0f} s after SIGTERM: killing it")
            self.proc.kill()
            await self.proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def problems(self) -> Counter[str]:
        return log_problems(self.log_path)

    def report_problems(self) -> list[str]:
        found = self.problems()
        if found:
            say(f"Worker log ({self.log_path.name}):")
            for what, times in found.most_common(6):
                say(f"  {times:5d} x {what}")
        return [f"{times} x {what}" for what, times in found.most_common(3)]


class WebProcess:
    """The web app in one uvicorn process, with the arguments `scripts/dev.sh` gives it
    (`devtools.run_local`: log level info, access log on), its output in `log_path`."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        port: int | None = None,
        *,
        behind_proxy: bool = False,
        processes: int = 1,
    ) -> None:
        self.port = port or free_port()
        self.processes = processes
        # As in production behind the centre's reverse proxy: the client's address comes from
        # X-Forwarded-For and the instant of receipt from X-Request-Start, trusted from this
        # machine only (the simulated clients set them, as the proxy would).
        environ = {
            **env,
            "INSCRIPTIONS_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "FORWARDED_ALLOW_IPS": "127.0.0.1" if behind_proxy else "",
        }
        self.env = web_environment(environ, processes, log_path.parent / "web-metrics")
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def pids(self) -> list[int]:
        """uvicorn and, with several processes, the ones it started (they do the work)."""
        return [self.pid, *child_pids(self.pid)]

    async def start(self, timeout: float = 60) -> None:
        await migrate(self.env)
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *web_command(self.port),
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        await wait_http(f"{self.base_url}/healthz", self.proc, timeout)

    async def stop(self, timeout: float = 30) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def problems(self) -> Counter[str]:
        """Exceptions in the log, and answers by status code (from the access log lines)."""
        found: Counter[str] = Counter()
        for line in self.log_path.read_text(errors="replace").splitlines():
            if not line or line[0].isspace() or line.startswith(("Traceback", "ERROR:    Exception in ASGI")):
                continue
            if line.startswith("{") and '"level": "INFO"' in line:
                continue  # the app's JSON request log: every request, not a problem
            if "HTTP/1.1" in line:
                match = re.search(r'" (\d{3})', line)
                if match and match.group(1).startswith("5"):
                    found[f"access log: HTTP {match.group(1)}"] += 1
            elif not line.startswith("INFO:"):
                found[line[:200]] += 1  # exceptions, warnings, the app's own log lines
        return found


# --------------------------------------------------------------------------- mail
class CountingSink(MailSink):
    """The development SMTP sink, counting each dossier's emails and waking whoever waits for them.

    Emails are counted once per Message-ID (the mail activity derives it from the event's key);
    a second copy of the same email is counted apart, as a duplicate. `arrivals` keeps, per
    kind of email (its subject's first part), the instants (time.time()) distinct emails arrived.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, set[str]] = {}
        self.duplicates: Counter[str] = Counter()
        self.arrivals: dict[str, list[float]] = {}
        self._waiters: dict[str, list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}
        self._index = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if not reply.startswith("250"):
            return reply
        received = self.messages[-1]  # no await since the append: it is this message
        with self._index:
            seen = self.ids.setdefault(received.dossier, set())
            if received.message_id in seen:
                self.duplicates[received.dossier] += 1
            else:  # per kind of email: the subject without the grade and the dossier number
                kind = received.subject.split(" — ")[0]
                self.arrivals.setdefault(kind, []).append(time.time())
            seen.add(received.message_id)
            count = len(seen)
            waiting = self._waiters.get(received.dossier, [])
            ready = [w for w in waiting if w[0] <= count]
            self._waiters[received.dossier] = [w for w in waiting if w[0] > count]
        for _, loop, future in ready:
            loop.call_soon_threadsafe(_resolve, future)
        return reply

    def total(self) -> int:
        """Distinct emails received so far."""
        with self._index:
            return sum(len(ids) for ids in self.ids.values())

    def duplicate_total(self) -> int:
        with self._index:
            return sum(self.duplicates.values())

    def count(self, dossier: str) -> int:
        with self._index:
            return len(self.ids.get(dossier, ()))

    def complete(self, expected: dict[str, int]) -> int:
        """How many of these dossiers have received (at least) their expected emails."""
        with self._index:
            return sum(1 for d, n in expected.items() if len(self.ids.get(d, ())) >= n)

    def subjects(self) -> Counter[str]:
        with self._index:
            return Counter({s: len(times) for s, times in self.arrivals.items()})

    async def wait_for(self, dossier: str, count: int, timeout: float) -> None:
        """Until `dossier` has received `count` distinct emails."""
        loop = asyncio.get_running_loop()
        with self._index:
            if len(self.ids.get(dossier, ())) >= count:
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(dossier, []).append((count, loop, future))
        await asyncio.wait_for(future, timeout)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def wait_until(condition: Callable[[], bool], until: float, every: float = 0.5) -> bool:
    """Poll `condition` until it holds or time.time() passes `until`; whether it held."""
    while not condition():
        if time.time() >= until:
            return False
        await asyncio.sleep(every)
    return True
