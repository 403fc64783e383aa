"""What every benchmark script needs: timestamped progress lines, free ports, process CPU."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

T0 = time.monotonic()


def say(message: str) -> None:
    """A progress line with the seconds since the benchmark started."""
    print(f"[{time.monotonic() - T0:7.1f} s] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
