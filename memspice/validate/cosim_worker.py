"""The co-simulation worker: one checkpoint's reads and update in SPICE, in a fresh interpreter with a hard time limit."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time

from memspice.errors import MemspiceError
from memspice.spice.process import run_in_group

__all__ = ["run_in_worker"]


def _spice_job(job: dict) -> dict:
    """Runs in the worker: the reads and the update of one checkpoint in ngspice."""
    from memspice.circuit import ReadStimulus, read
    from memspice.circuit.spec import CrossbarSpec
    from memspice.validate.circuit_run import run_schedule

    xb = CrossbarSpec(model=job["model"], model_params=job["model_params"], states=job["states"],
                      wire_ohm=job["wire_ohm"]).build()
    t0 = time.perf_counter()
    rd = read(xb, ReadStimulus(job["v_reads"]), job["settings"], solver="ngspice")
    upd = run_schedule(xb, job["schedule"], job["settings"])
    return {"i_cols_a": rd.i_cols_a, "states_after": upd.states_after, "energy_j": upd.total_energy_j,
            "spice_s": time.perf_counter() - t0}


def run_in_worker(job: dict, timeout_s: float) -> dict:
    """Run ``_spice_job(job)`` in a worker process; raise MemspiceError on its error or on timeout.

    The worker is ``python -m memspice.validate.cosim_worker`` with the pickled job on
    its standard input and the pickled answer on its standard output (a
    fresh interpreter: no fork of a threaded trainer, no re-import of the
    caller's main module as multiprocessing's spawn would do). It runs in its
    own session, so a timeout kills the worker and the ngspice it started,
    by their process group, and nothing else.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    try:
        proc = run_in_group([sys.executable, "-m", "memspice.validate.cosim_worker"], timeout_s=timeout_s,
                            input=pickle.dumps(job), env=env, merge_stderr=False)
    except subprocess.TimeoutExpired:
        raise MemspiceError(f"SPICE checkpoint timed out after {timeout_s:g} s (cosim.timeout_s); the worker was stopped") from None
    try:
        msg = pickle.loads(proc.stdout)
    except Exception:  # noqa: BLE001 - anything unreadable means the worker died
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise MemspiceError(f"the SPICE worker died (exit code {proc.returncode}): {' / '.join(tail)}") from None
    if msg[0] == "ok":
        return msg[1]
    raise MemspiceError(f"{msg[1]}: {msg[2]}")


def _worker_main() -> None:
    job = pickle.loads(sys.stdin.buffer.read())
    try:
        msg = ("ok", _spice_job(job))
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the trainer, which logs it
        msg = ("error", type(exc).__name__, str(exc))
    sys.stdout.buffer.write(pickle.dumps(msg))
    sys.stdout.flush()


if __name__ == "__main__":  # the worker process of run_in_worker
    _worker_main()
