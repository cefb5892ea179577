"""Run a sweep: the points not yet in the results table, on a local process pool or a Dask cluster.

Every point runs in :func:`run_point`, which never raises for a point's own
failure: a non-converging circuit, a timeout or a bad value becomes a row
with ``status = "error"`` and the error's text, and the sweep goes on. Rows
are appended to the table by this process as results arrive (in completion
order), so a sweep that is killed keeps everything it finished, and a
restart runs only the missing points.

Local runs use :class:`concurrent.futures.ProcessPoolExecutor` (ngspice runs
and numpy fits are CPU-bound; one process per core). Given a scheduler
address, the points go to a Dask cluster through
:class:`dask.distributed.Client` (``pip install "dask[distributed]"``); the
cluster's workers need memspice (and ngspice, for SPICE tasks) installed.
"""

from __future__ import annotations

import datetime as _dt
import os
import signal
import socket
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from memspice.errors import ConfigError, MemspiceError, ParameterError
from memspice.runlock import RunLock
from memspice.sweep.spec import Point, SweepSpec
from memspice.sweep.table import ResultTable, columns_for, export_parquet
from memspice.sweep.tasks import TASKS, run_task

__all__ = ["SweepRun", "default_workers", "run_point", "run_sweep"]


@dataclass(frozen=True)
class SweepRun:
    """What one call of :func:`run_sweep` did."""

    output: Path  #: the results CSV
    total: int  #: points in the sweep
    skipped: int  #: points already in the table (not run again)
    ran: int  #: points run by this call
    ok: int  #: of those, finished without error
    failed: int  #: of those, recorded with an error
    elapsed_s: float  #: wall-clock time of this call (s)
    interrupted: bool  #: stopped early (Ctrl-C or ``stop_after``); run again to finish
    run_id: str  #: written into every row this call added
    executor: str  #: "process pool (N workers)" or "dask <address>"

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.ran

    def as_dict(self) -> dict:
        return {"output": str(self.output), "total": self.total, "skipped": self.skipped, "ran": self.ran, "ok": self.ok,
                "failed": self.failed, "remaining": self.remaining, "elapsed_s": self.elapsed_s,
                "interrupted": self.interrupted, "run_id": self.run_id, "executor": self.executor}


def default_workers() -> int:
    """The cores this process may use: sweep points are independent and CPU-bound."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in str(text).strip().splitlines() if line.strip())


def run_point(kind: str, params: dict, base_dir: str, workdir: str) -> dict:
    """Run one point in this process; a failure becomes ``status = "error"`` with the error's text (never raised).

    Errors memspice raises on purpose keep their message; anything else is a
    bug somewhere, recorded with the place it came from so it can be fixed.
    """
    t0 = time.perf_counter()
    out = {"status": "ok", "error_type": "", "error": "", "metrics": {}}
    _BUSY[0] = True
    try:
        out["metrics"] = run_task(kind, params, base_dir=Path(base_dir), workdir=Path(workdir))
    except MemspiceError as exc:
        out.update(status="error", error_type=type(exc).__name__, error=_one_line(exc))
    except Exception as exc:  # noqa: BLE001 - a sweep records every failure of a point and goes on
        where = traceback.extract_tb(exc.__traceback__)[-1]
        out.update(status="error", error_type=type(exc).__name__,
                   error=_one_line(f"{exc} (unexpected error at {Path(where.filename).name}:{where.lineno} in {where.name})"))
    finally:
        _BUSY[0] = False
    out["elapsed_s"] = time.perf_counter() - t0
    out["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return out


_BUSY = [False]  # in a worker: a point is running (run_point sets it)
#: how long a worker whose master died may take to stop its point (a training point saves its checkpoint)
ORPHAN_GRACE_S = 60.0


def _worker_sigterm(signum, frame):
    if not _BUSY[0]:
        os._exit(143)  # between points: nothing to clean up, no traceback
    raise KeyboardInterrupt  # unwind the point: its ngspice group killed, its temporary folders removed


def _orphan_watch(parent: int) -> None:
    """Worker thread: once the master is gone, leave as soon as no point runs (or after the grace time)."""
    while os.getppid() == parent:
        time.sleep(0.2)
    t0 = time.monotonic()
    while _BUSY[0] and time.monotonic() - t0 < ORPHAN_GRACE_S:
        time.sleep(0.05)
    os._exit(143)


def _worker_init() -> None:
    """A local sweep worker ends with its master: SIGTERM when the master dies (Linux: PR_SET_PDEATHSIG;
    a training point then saves its checkpoint and stops, as on Ctrl-C), and the worker exits once its point
    has stopped instead of waiting for work that will never come."""
    import threading

    from memspice.spice.process import die_with_parent

    signal.signal(signal.SIGTERM, _worker_sigterm)
    parent = os.getppid()
    die_with_parent(signal.SIGTERM)
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True, name="memspice-orphan-watch").start()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM every worker of ``pool`` (its point stops, see :func:`_worker_init`), let them leave, and kill
    any that is still there after :data:`ORPHAN_GRACE_S`."""
    import threading

    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    killer = threading.Timer(ORPHAN_GRACE_S, lambda: [p.kill() for p in procs if p.is_alive()])
    killer.daemon = True
    killer.start()
    try:
        pool.shutdown(wait=True, cancel_futures=True)  # the workers take the stop sentinel after their point
    finally:
        killer.cancel()


def _workdir(spec: SweepSpec, point: Point) -> Path:
    return spec.output.with_name(f"{spec.output.stem}_runs") / point.key


def run_sweep(spec: SweepSpec, *, workers: int | None = None, scheduler: str | None = None, resume: bool = True,
              retry_failed: bool = False, progress: bool = True, stop_after: int | None = None,
              on_result: Callable[[dict], None] | None = None, scheduler_timeout_s: float = 20.0) -> SweepRun:
    """Run the points of ``spec`` that are not in its results table yet; append each result as it arrives.

    ``workers``: local worker processes (default: every usable core).
    ``scheduler``: a Dask scheduler address (``tcp://host:8786``); the points
    then run on that cluster and ``workers`` is ignored.
    ``resume``: keep the rows of an earlier run and skip their points (default);
    False starts the table afresh. ``retry_failed``: also run again the points
    an earlier run recorded with an error. ``stop_after``: return after this
    many results (an interruption for tests and batch jobs; run again to go on).
    ``on_result(row)``: called with every row as it is written.
    ``scheduler_timeout_s``: how long to try to reach the Dask scheduler (s).
    """
    if not isinstance(spec, SweepSpec):
        raise ParameterError(f"run_sweep takes a SweepSpec (memspice.sweep.load_sweep), got {type(spec).__name__}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"workers = {workers!r}: need an integer >= 1")
    if stop_after is not None and stop_after < 1:
        raise ParameterError(f"stop_after = {stop_after!r}: need an integer >= 1 (or None)")
    lock = RunLock(spec.output.with_name(spec.output.name + ".lock"), what="sweep", owner_hint="--out table")
    with lock:  # one sweep appends to a table at a time
        return _run_locked(spec, workers=workers, scheduler=scheduler, resume=resume, retry_failed=retry_failed,
                           progress=progress, stop_after=stop_after, on_result=on_result,
                           scheduler_timeout_s=scheduler_timeout_s)


def _run_locked(spec: SweepSpec, *, workers, scheduler, resume, retry_failed, progress, stop_after, on_result,
                scheduler_timeout_s) -> SweepRun:
    task = TASKS[spec.kind]
    table = ResultTable(spec.output, columns_for(spec.param_names, task.metrics))
    if resume:
        done = table.finished(include_failed=not retry_failed)
    else:
        done = {}
    table.create(overwrite=not resume)
    todo = [p for p in spec.points if p.key not in done]
    skipped = len(spec.points) - len(todo)
    run_id = uuid.uuid4().hex[:12]
    counts = {"ok": 0, "failed": 0}
    t_start = time.perf_counter()

    from tqdm import tqdm

    bar = tqdm(total=len(spec.points), initial=skipped, desc=spec.name, unit="point", disable=not progress,
               dynamic_ncols=True)

    def record(point: Point, out: dict) -> None:
        row = {"key": point.key, "point": point.index, "status": out["status"], "error_type": out["error_type"],
               "error": out["error"], "elapsed_s": out.get("elapsed_s"), "worker": out.get("worker", ""),
               "run_id": run_id, "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
               **point.params, **out.get("metrics", {})}
        table.append(row)
        counts["ok" if out["status"] == "ok" else "failed"] += 1
        bar.update(1)
        if counts["failed"]:
            bar.set_postfix(failed=counts["failed"])
        if on_result is not None:
            on_result(row)

    interrupted = False
    try:
        if todo:
            if scheduler:
                executor = f"dask {scheduler}"
                interrupted = _run_dask(spec, todo, scheduler, record, stop_after, scheduler_timeout_s)
            else:
                n = default_workers() if workers is None else workers
                executor = f"process pool ({n} worker{'s' if n > 1 else ''})"
                interrupted = _run_pool(spec, todo, n, record, stop_after)
        else:
            executor = "nothing to run"
    except KeyboardInterrupt:
        interrupted = True
        executor = f"dask {scheduler}" if scheduler else "process pool"
    finally:
        bar.close()
    if spec.parquet and not interrupted:
        export_parquet(spec.output)
    return SweepRun(output=spec.output, total=len(spec.points), skipped=skipped, ran=counts["ok"] + counts["failed"],
                    ok=counts["ok"], failed=counts["failed"], elapsed_s=time.perf_counter() - t_start,
                    interrupted=interrupted, run_id=run_id, executor=executor)


def _died(exc: BaseException) -> dict:
    return {"status": "error", "error_type": type(exc).__name__, "metrics": {},
            "error": _one_line(f"the worker running this point died ({exc or type(exc).__name__}); a crash of this "
                               "or of a point running next to it -- run again with --retry-failed")}


def _run_pool(spec: SweepSpec, todo: list[Point], workers: int, record, stop_after: int | None) -> bool:
    """Local process pool; at most ``workers`` points in flight, so a crashed worker takes down only those."""
    pending = deque(todo)
    n_done = 0
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=_worker_init)
    inflight: dict = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < workers:
                p = pending.popleft()
                inflight[pool.submit(run_point, spec.kind, dict(p.params), str(spec.base_dir), str(_workdir(spec, p)))] = p
            finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                p = inflight.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool as exc:
                    out, broken = _died(exc), True
                record(p, out)
                n_done += 1
                if stop_after is not None and n_done >= stop_after:
                    return True
            if broken:  # every in-flight future of a broken pool fails too; record them and start a new pool
                for fut, p in list(inflight.items()):
                    record(p, _died(BrokenProcessPool("process pool broken")))
                    n_done += 1
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = ProcessPoolExecutor(max_workers=min(workers, max(1, len(pending))), initializer=_worker_init)
        return False
    except BaseException:  # Ctrl-C or SIGTERM of the master: the workers stop too, nothing keeps running
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=not inflight, cancel_futures=True)


def _run_dask(spec: SweepSpec, todo: list[Point], scheduler: str, record, stop_after: int | None,
              timeout_s: float) -> bool:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ConfigError('--scheduler needs Dask: pip install "dask[distributed]" (or memspice[sweep])') from None
    try:
        client = Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}; "
                          "check the address (tcp://host:8786) and that `dask scheduler` runs there") from None
    futures = {}
    try:
        for p in todo:
            fut = client.submit(run_point, spec.kind, dict(p.params), str(spec.base_dir), str(_workdir(spec, p)),
                                key=f"memspice-sweep-{p.key}-{uuid.uuid4().hex[:8]}", pure=False)
            futures[fut] = p
        n_done = 0
        for fut in as_completed(list(futures)):
            p = futures.pop(fut)
            try:
                out = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError...: recorded, the sweep goes on
                out = _died(exc)
            record(p, out)
            n_done += 1
            if stop_after is not None and n_done >= stop_after:
                return True
        return False
    finally:
        if futures:
            client.cancel(list(futures))
        client.close()
