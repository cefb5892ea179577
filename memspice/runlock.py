"""A lock on a run's output while one process writes it: a second run into the same place refuses.

:class:`RunLock` creates its lock file with ``O_CREAT | O_EXCL`` (atomic on a
local file system) and writes into it who holds it: host, process id, the
process's start time (so a reused pid is not mistaken for the holder) and the
command. A lock whose holder is gone -- same host, and no process with that
pid and start time -- is *stale*: it is taken over, and the new holder says
so. A lock held by a live process, or by another host, is a DataError that
names the holder and what to do.

``with RunLock(path, what="training run", owner_hint="--out"):`` -- the lock
is removed on leaving the block (also on an exception); a process killed
with SIGKILL leaves it behind, and the next run finds it stale.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from memspice.errors import DataError

__all__ = ["LOCK_NAME", "RunLock", "process_alive", "process_start_time"]

#: the lock file of a run folder (train --out)
LOCK_NAME = ".memspice.lock"


def process_start_time(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat), None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    try:
        return text.rsplit(")", 1)[1].split()[19]
    except IndexError:
        return None


def process_alive(pid: int, start_time: str | None = None) -> bool:
    """Whether a process ``pid`` runs on this host (and, if ``start_time`` is known, is the same process)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    if start_time is not None:
        now = process_start_time(pid)
        if now is not None and now != start_time:
            return False  # the pid was reused by another process
    return True


class RunLock:
    """Exclusive lock file ``path`` held for a block; see the module docstring."""

    def __init__(self, path: str | os.PathLike, *, what: str = "run", owner_hint: str = "the output"):
        self.path = Path(path)
        self.what = what
        self.owner_hint = owner_hint
        self.took_over: dict | None = None  #: the stale holder this lock replaced, if any
        self._held = False
        self._made = False

    def _record(self) -> dict:
        return {"host": socket.gethostname(), "pid": os.getpid(), "start_time": process_start_time(os.getpid()),
                "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(sys.argv)[:500]}

    def _holder(self) -> dict | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: written by a process killed half-way through writing it
        return doc if isinstance(doc, dict) else {}

    def _stale(self, holder: dict) -> bool:
        if not holder:  # empty or damaged: its writer died between creating and filling it
            try:
                return time.time() - self.path.stat().st_mtime > 5.0
            except OSError:
                return True
        if holder.get("host") != socket.gethostname():
            return False  # cannot see another host's processes: never take its lock
        return not process_alive(holder.get("pid"), holder.get("start_time"))

    def acquire(self) -> "RunLock":
        self._made = not self.path.parent.exists()  # a folder made only for the lock goes again if left empty
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is None:
                    continue  # released between our open and our read: try again
                if not self._stale(holder):
                    who = (f"process {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')}: "
                           f"{holder.get('command', '')}".strip() if holder else "a process that is starting")
                    raise DataError(f"{str(self.path.parent)!r} is in use by another {self.what} ({who}); "
                                    f"wait for it to finish, or choose another {self.owner_hint}. Nothing was "
                                    f"written. (If that process is gone, delete {str(self.path)!r}.)")
                self.took_over = holder
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._record(), fh)
            self._held = True
            if self.took_over is not None:
                print(f"memspice: took over the stale lock {str(self.path)!r} of process "
                      f"{self.took_over.get('pid', '?')} (no longer running)", file=sys.stderr)
            return self
        raise DataError(f"cannot take the lock {str(self.path)!r}: it keeps changing; is another {self.what} "
                        f"starting in {str(self.path.parent)!r}?")

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        holder = self._holder()
        if holder and holder.get("pid") == os.getpid():
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            if self._made:  # a run refused before writing anything leaves no empty folder behind
                try:
                    self.path.parent.rmdir()
                except OSError:
                    pass

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> bool:
        self.release()
        return False
