"""Running one command the way the benchmark counts it: whole-process wall
time, CPU time (user + system, children included) and peak memory, both of
the largest single process (`/usr/bin/time`'s maximum resident set size) and
of the whole process tree at once (polled from /proc every 100 ms), which is
what a scan spread over worker processes really costs. The tree's memory is
the sum of each process's proportional set size (PSS): a forked process
shares its parent's pages until either writes them, and summing resident
sizes would count every shared page once per process. Reading a PSS costs
the kernel a walk of the process's pages: polled every 20 ms, the poller
took 40 % of a core next to checkov's dozens of processes, time taken from
the tool being measured.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

TIME = "/usr/bin/time"


@dataclass
class Sample:
    wall: float
    cpu: float
    max_rss_mib: float       # the largest process
    tree_rss_mib: float      # all processes of the run together (PSS), at their peak
    load: float              # 1-minute load average when the run ended
    rc: int


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    error: str = ""

    def median(self, attr: str) -> Optional[float]:
        values = [getattr(s, attr) for s in self.samples]
        return statistics.median(values) if values else None


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _pss_kib(pid: int) -> int:
    """Resident memory with each shared page split among the processes sharing it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return _rss_kib(pid)  # a kernel without smaps_rollup (before 4.14)


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


class _TreePoller(threading.Thread):
    """Peak of the summed proportional resident memory of `pid`'s descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            todo, total = _children(self.pid), 0  # below /usr/bin/time itself
            seen = set()
            while todo:
                p = todo.pop()
                if p in seen:
                    continue
                seen.add(p)
                total += _pss_kib(p)
                todo.extend(_children(p))
            self.peak_kib = max(self.peak_kib, total)
            self.stop.wait(0.1)


def run_once(argv: list[str], cwd: Path, env: dict[str, str], stdout: Optional[Path] = None,
             timeout: float = 3600) -> Sample:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        cmd = [TIME, "-o", tf.name, "-f", "%e %U %S %M %x", *argv]
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL)
            poller = _TreePoller(proc.pid)
            poller.start()
            try:
                proc.wait(timeout=timeout)
            finally:
                poller.stop.set()
                poller.join()
        finally:
            if stdout:
                out.close()  # type: ignore[union-attr]
        fields = tf.read().split()
    # GNU time prints "Command exited with non-zero status N" first on failure
    wall, user, system, rss, rc = fields[-5:]
    return Sample(wall=float(wall), cpu=float(user) + float(system), max_rss_mib=int(rss) / 1024,
                  # a run shorter than one poll: its largest process stands for it
                  tree_rss_mib=poller.peak_kib / 1024 or int(rss) / 1024, load=os.getloadavg()[0], rc=int(rc))


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpu": model or platform.processor(),
            "cores": str(cores), "memory": mem, "os": platform.platform(),
            "python": platform.python_version()}
