"""Locks and kills: two runs into one folder, SIGINT / SIGTERM / SIGKILL of train, sweep and run.

Every case drives ``python -m memspice`` in subprocesses (the real CLI, real
signals) under hard timeouts. The reference of "nothing lost" is a straight
run of the same config into another folder: a resumed or concurrent run must
end with a metrics.csv identical to it (training is
deterministic given its seed, docs/design.md; :func:`_same_run` says where it is not quite).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from memspice.errors import DataError
from memspice.runlock import LOCK_NAME, RunLock

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "digits_sgd.toml"
EPOCHS = 8
SETS = ["--set", f"training.epochs={EPOCHS}", "--set", "data.max_train=300"]  # ~0.3 s an epoch


def _env(tmp: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "TMPDIR": str(tmp)}


def _memspice(*args) -> list[str]:
    return [sys.executable, "-m", "memspice", *map(str, args)]


def _train(out: Path, *extra) -> list[str]:
    return _memspice("train", CONFIG, "--out", out, "--no-progress", *SETS, *extra)


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _finish(proc: subprocess.Popen, timeout_s: float = 120) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout_s)
    finally:
        proc.kill()
    return proc.returncode, err.decode()


def _same_run(metrics: Path, reference: bytes) -> None:
    """metrics.csv equals the straight run's, byte for byte: losses, accuracies and the energy estimates.

    The energy columns come from operation counters that sum their reads in groups; a checkpoint keeps the
    reads not yet summed (OpCounters.state_dict), so a resumed run sums the same groups as a straight one.
    """
    assert metrics.read_bytes() == reference


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> bytes:
    """metrics.csv of the straight run (the independent reference)."""
    tmp = tmp_path_factory.mktemp("reference")
    done = subprocess.run(_train(tmp / "run"), env=_env(tmp), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert not (tmp / "run" / LOCK_NAME).exists()  # released at the end
    return (tmp / "run" / "metrics.csv").read_bytes()


def test_second_train_into_the_same_folder_refuses_and_touches_nothing(tmp_path, reference):
    out = tmp_path / "run"
    first = subprocess.Popen(_train(out), env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: (out / "checkpoints" / "epoch-001.npz").exists(), 60, "the first run's epoch 1")
        os.kill(first.pid, signal.SIGSTOP)  # hold the first run still, so its folder cannot change by itself
        before = _snapshot(out)
        for extra in ((), ("--resume",)):
            second = subprocess.run(_train(out, *extra), env=_env(tmp_path), capture_output=True, timeout=60)
            assert second.returncode == 2, second.stderr.decode()
            assert "is in use by another training run" in second.stderr.decode()
            assert f"process {first.pid}" in second.stderr.decode()
        assert _snapshot(out) == before  # nothing of the first run touched
    finally:
        os.kill(first.pid, signal.SIGCONT)
    code, err = _finish(first)
    assert code == 0, err
    _same_run(out / "metrics.csv", reference)  # the first run complete and undisturbed
    assert not (out / LOCK_NAME).exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_of_train_save_a_checkpoint_and_resume_exactly(sig, tmp_path, reference):
    out = tmp_path / "run"
    proc = subprocess.Popen(_train(out), env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: (out / "checkpoints" / "epoch-001.npz").exists(), 60, "epoch 1")
    proc.send_signal(sig)
    code, err = _finish(proc)
    assert code == 130 and "checkpoint saved" in err, err
    assert not (out / LOCK_NAME).exists()
    done = subprocess.run(_train(out, "--resume"), env=_env(tmp_path), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    _same_run(out / "metrics.csv", reference)
    assert list(tmp_path.glob("memspice-*")) == []  # no temporary folder left


def test_sigkill_of_train_leaves_a_stale_lock_that_resume_takes_over(tmp_path, reference):
    out = tmp_path / "run"
    proc = subprocess.Popen(_train(out), env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: (out / "checkpoints" / "epoch-002.npz").exists(), 60, "epoch 2")
    proc.kill()
    proc.communicate(timeout=30)
    assert (out / LOCK_NAME).exists()  # SIGKILL: no cleanup runs
    (out / "checkpoints" / "last.npz").write_bytes(b"")  # and, worst case, the kill truncated last.npz
    done = subprocess.run(_train(out, "--resume"), env=_env(tmp_path), capture_output=True, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "took over the stale lock" in err and "resuming from" in err and "newest intact checkpoint" in err
    _same_run(out / "metrics.csv", reference)


def _sweep_file(tmp_path: Path) -> Path:
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        f'[sweep]\nkind = "train"\noutput = "{tmp_path / "t.csv"}"\n'
        f'[base]\nconfig = "{CONFIG}"\n"training.epochs" = 12\n"data.max_train" = 400\n'
        "[grid]\nseed = [1, 2, 3, 4]\n"
    )
    return sweep


def _workers(master: psutil.Process) -> list[psutil.Process]:
    try:
        return [c for c in master.children(recursive=True) if "python" in c.name().lower()]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow  # ~26 s each: two workers training, then the whole sweep again
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_sweep_workers_end_with_their_master(sig, tmp_path):
    sweep = _sweep_file(tmp_path)
    proc = subprocess.Popen(_memspice("sweep", sweep, "--workers", "2", "--no-progress"), env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    master = psutil.Process(proc.pid)
    _wait_for(lambda: len(_workers(master)) >= 2 and any((tmp_path / "t_runs").glob("*/checkpoints/epoch-001.npz")),
              90, "two workers training")
    workers = _workers(master)
    proc.send_signal(sig)
    code, _ = _finish(proc, 60)
    assert code == (-9 if sig == signal.SIGKILL else 130)
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == [], f"orphan workers: {[p.pid for p in alive]}"
    if sig == signal.SIGTERM:
        assert not (tmp_path / "t.csv.lock").exists()
    # run again: the sweep takes over (a stale lock after SIGKILL) and finishes every point
    done = subprocess.run(_memspice("sweep", sweep, "--workers", "2", "--no-progress"), env=_env(tmp_path),
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert "4 ok, 0 failed" in done.stdout.decode() or "0 remaining" in done.stdout.decode()


def test_kill_of_run_leaves_no_ngspice_and_no_temp_folder(tmp_path):
    deck = tmp_path / "long.cir"  # an RC transient at a 1 ps step: minutes of ngspice
    deck.write_text("* long\nV1 in 0 SIN(0 1 1e6)\nR1 in out 1k\nC1 out 0 1n\n.tran 1e-12 2e-3\n.end\n")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen(_memspice("run", deck, "--timeout", "120"), env=_env(tmp_path),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        master = psutil.Process(proc.pid)
        _wait_for(lambda: any("ngspice" in c.name() for c in master.children(recursive=True)), 30, "ngspice")
        children = master.children(recursive=True)
        proc.send_signal(sig)
        code, err = _finish(proc, 30)
        assert code == (-9 if sig == signal.SIGKILL else 130), err
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"{sig.name}: ngspice left running"
        if sig != signal.SIGKILL:
            assert "Traceback" not in err and list(tmp_path.glob("memspice-*")) == []
    # after SIGKILL the folder of the dead process is removed by the next run (its pid is gone)
    subprocess.run(_memspice("run", ROOT / "netlists" / "read_8x8.cir"), env=_env(tmp_path), capture_output=True,
                   timeout=60, check=True)
    assert list(tmp_path.glob("memspice-*")) == []


def test_run_lock_refuses_a_live_holder_and_takes_over_a_dead_one(tmp_path, capsys):
    lock = tmp_path / "t.csv.lock"
    with RunLock(lock, what="sweep", owner_hint="--out table"):
        with pytest.raises(DataError, match=rf"in use by another sweep \(process {os.getpid()} on"):
            RunLock(lock, what="sweep").acquire()
    assert not lock.exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that has ended (and was reaped): its lock is stale
    lock.write_text(f'{{"host": "{os.uname().nodename}", "pid": {dead.pid}, "start_time": "1"}}')
    with RunLock(lock, what="sweep") as held:
        assert held.took_over["pid"] == dead.pid
    assert "took over the stale lock" in capsys.readouterr().err
    lock.write_text('{"host": "another-host", "pid": 1}')  # another machine's process: never taken
    with pytest.raises(DataError, match="another-host"):
        RunLock(lock, what="sweep").acquire()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_the_shared_backend_halts_ngspice_cleanly(sig, tmp_path):
    deck = tmp_path / "long.cir"  # minutes of ngspice inside this process (libngspice)
    deck.write_text("* long\nV1 in 0 SIN(0 1 1e6)\nR1 in out 1k\nC1 out 0 1n\n.tran 1e-12 2e-3\n.end\n")
    proc = subprocess.Popen(_memspice("run", deck, "--backend", "shared", "--timeout", "120"), env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(4)  # python start-up, library load, the run under way
    proc.send_signal(sig)
    code, err = _finish(proc, 60)
    assert code == 130, (code, err)  # was a segfault (-11) on SIGINT: the library torn down under its thread
    assert "interrupted" in err and "Traceback" not in err
