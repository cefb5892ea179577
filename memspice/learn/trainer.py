"""The training loop: epochs, mini-batches, validation, metrics, checkpoints, resume.

:func:`train` runs a :class:`~memspice.learn.config.TrainConfig` and writes,
into its output folder:

``metrics.csv``       one row per epoch (:data:`~memspice.learn.metrics.METRIC_COLUMNS`);
                      reproducible: same seed and config give the same file
``timing.csv``        wall-clock seconds per epoch (training and evaluation)
``curves.png``        loss and accuracy per epoch (and co-simulation errors, energy: memspice.learn.plots)
``checkpoints/epoch-NNN.npz``  state after each epoch
``checkpoints/last.npz``       the latest state (after an epoch, or at Ctrl-C)
``summary.json``      final test accuracy, timings, rule counters and the energy table used
``counters.csv``, ``operations.json``  operation counts per epoch and layer, the run's
                      totals and energy (memspice.learn.counters.RunAccounting)

The network and the random streams are made (and restored from a
checkpoint) by :mod:`memspice.learn.run_state`; every stream's exact state
goes into the checkpoint, with the position inside the current epoch (its
permutation and the next mini-batch), so ``resume=True`` continues bit for
bit where the run stopped: the final weights equal those of an uninterrupted
run. What a run returns and summary.json: :mod:`memspice.learn.run_summary`.

The loop knows rules only through :class:`~memspice.learn.rules.base.Rule`:
``rule.train_pass`` for the passes, ``rule.step(..., counters)`` for the
update, with the run's operation counters passed in
(:class:`~memspice.learn.counters.RunAccounting`).

Ctrl-C (SIGINT) or SIGTERM during training finishes the current mini-batch,
writes ``checkpoints/last.npz`` and returns with ``interrupted=True``; a
second one aborts at once. ``resume=True`` takes last.npz, or the newest
intact ``epoch-NNN.npz`` when last.npz is missing or damaged (and says so).
While a run writes its folder it holds ``.memspice.lock`` there
(:class:`memspice.runlock.RunLock`): a second run into the same folder refuses
before writing anything; the lock of a killed run is recognised as stale.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from memspice.errors import ConfigError, DataError, ParameterError
from memspice.learn import checkpoint as ckpt
from memspice.learn.activations import cross_entropy
from memspice.learn.circuit_metrics import circuit_columns, circuit_epoch_metrics
from memspice.learn.config import TrainConfig
from memspice.learn.metrics import METRIC_COLUMNS, TIMING_COLUMNS, accuracy, write_csv
from memspice.learn.plots import plot_run
from memspice.learn.network import Network
from memspice.learn.rules import Rule, build_rule
from memspice.learn.run_state import Streams, check_sizes, load_dataset, network_from_state, network_state, new_network
from memspice.learn.run_summary import TrainResult, check_same_run, resume_config, write_summary
from memspice.learn.target import TARGET_COLUMNS, first_reached, target_metrics
from memspice.runlock import LOCK_NAME, RunLock

def make_rule(config: TrainConfig) -> Rule:
    """The update rule object named by ``config.rule`` (through the rule registry)."""
    return build_rule(config.rule)


class _InterruptFlag:
    """SIGINT/SIGTERM handler that asks the loop to stop after the current mini-batch; a second Ctrl-C aborts."""

    def __init__(self):
        self.requested = False
        self._previous = None
        self._installed = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # SIGTERM (kill, a batch system) as Ctrl-C
            self._previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
            for s in self._previous:
                signal.signal(s, self._handle)
            self._installed = True
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._installed:
            for s, previous in self._previous.items():
                signal.signal(s, previous)
        return False


def evaluate(net: Network, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
    """(mean cross-entropy in nats, accuracy) of ``net`` on (x, y)."""
    probs = net.predict_proba(x, batch_size)
    return cross_entropy(probs, y), accuracy(probs, y)


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after_epochs: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    plot: bool = True,
) -> TrainResult:
    """Run (or continue, with ``resume``) the training described by ``config``.

    ``stop_after_epochs``: return after this many epochs of the whole run have
    completed (the checkpoint lets a later ``resume=True`` call go on).
    ``on_batch(epoch, batch)``: called after every mini-batch (0-based), e.g.
    for a caller's own progress display. ``plot=False``: no curves.png (a study of many short runs,
    where drawing it after every epoch would cost more than the training).
    """
    out_dir = Path(out_dir)
    with RunLock(out_dir / LOCK_NAME, what="training run", owner_hint="--out folder"):  # one run writes a folder
        return _train(config, out_dir, resume=resume, progress=progress, stop_after_epochs=stop_after_epochs,
                      on_batch=on_batch, plot=plot)


def _train(config, out_dir, *, resume, progress, stop_after_epochs, on_batch, plot) -> TrainResult:
    last_path = out_dir / "checkpoints" / "last.npz"
    streams = Streams(config.seed)
    data = load_dataset(config, streams.data)
    check_sizes(config, data)
    rule = make_rule(config)
    batch = config.training.batch_size
    n_train = len(data.train)
    n_batches = -(-n_train // batch)

    if resume:
        state, _ = ckpt.load_resume_checkpoint(last_path.parent)
        check_same_run(state["config"], config)
        net, tile_rngs = network_from_state(state["network"], config.network.activation)
        rule.load_state_dict(state["rule"])
        streams.shuffle = ckpt.generator_from_state(state["rngs"]["shuffle"])
        streams.rule = ckpt.generator_from_state(state["rngs"]["rule"])
        epoch, next_batch = int(state["epoch"]), int(state["next_batch"])
        order = state["order"]
        partial = dict(state["partial"])
        history, timing = list(state["history"]), list(state["timing"])
        if epoch > config.training.epochs:
            raise ConfigError(
                f"the checkpoint has {epoch} epochs done but training.epochs = {config.training.epochs}; "
                "raise training.epochs to train on"
            )
    else:
        if ckpt.run_checkpoints(last_path.parent):
            raise DataError(
                f"{str(out_dir)!r} already holds a run (checkpoints/last.npz); continue it with --resume, "
                "or choose another --out folder"
            )
        net, tile_rngs = new_network(config, rule, streams)
        epoch, next_batch, order = 0, 0, None
        partial = {"loss_sum": 0.0, "correct": 0, "seen": 0, "train_time_s": 0.0}
        history, timing = [], []

    def save(path: Path) -> None:
        ckpt.save_checkpoint(
            path,
            {
                "config": config.to_dict(),
                "epoch": epoch,
                "next_batch": next_batch,
                "order": order,
                "partial": partial,
                "history": history,
                "timing": timing,
                "network": network_state(net, tile_rngs),
                "rule": rule.state_dict(),
                "rngs": {"shuffle": ckpt.generator_state(streams.shuffle), "rule": ckpt.generator_state(streams.rule)},
                "accounting": accounting.state_dict(),
            },
        )

    from memspice.validate.cosim import make_cosim

    cosim = make_cosim(config, out_dir, rule, net, resume=resume)  # None unless [cosim] every_steps > 0
    from memspice.learn.counters import RunAccounting  # operation counters and energy per epoch (issue 14)

    accounting = RunAccounting.start(net, rule.name, config, state if resume else None)
    x_train, y_train = data.train.x, data.train.y
    if not config.network.conv:
        accounting.use_samples(x_train)  # the first layer's read statistics, once per sample
    end_epoch = config.training.epochs
    if stop_after_epochs is not None:
        end_epoch = min(end_epoch, stop_after_epochs)
    interrupted = False
    target = config.training.target_loss  # updates to a training-loss target (memspice.learn.target)
    stop_at_target = target is not None and config.training.target_action == "stop"
    title = f"{data.name} {config.network.label()}, rule {rule.name}, seed {config.seed}"
    with _InterruptFlag() as flag:
        while epoch < end_epoch and not interrupted and not (stop_at_target and first_reached(history)):
            if config.training.learning_rate_decay != 1.0:  # η·γ^epoch (a function of the epoch: resumes exactly)
                rule.learning_rate = config.rule.learning_rate * config.training.learning_rate_decay**epoch
            if order is None:
                order = streams.shuffle.permutation(n_train)
                next_batch = 0
                partial = {"loss_sum": 0.0, "correct": 0, "seen": 0, "train_time_s": 0.0}
            bar = tqdm(
                total=n_batches, initial=next_batch, desc=f"epoch {epoch + 1}/{config.training.epochs}",
                disable=not progress, leave=False, unit="batch",
            )
            t0 = time.perf_counter()
            while next_batch < n_batches:
                idx = order[next_batch * batch : (next_batch + 1) * batch]
                xb, yb = x_train[idx], y_train[idx]
                trace, deltas = rule.train_pass(net, xb, yb, streams.rule)  # forward/backward, or the rule's own
                if not np.isfinite(trace.probs).all():
                    raise ParameterError(
                        f"training diverged in epoch {epoch + 1}, mini-batch {next_batch + 1}: the network's outputs "
                        f"are not finite (rule {rule.name}, learning rate {rule.learning_rate:g}); lower "
                        "[rule] learning_rate or set [training] learning_rate_decay. Completed epochs are in "
                        f"{last_path}"
                    )
                rule.step(net, trace.inputs, deltas, streams.rule, accounting.counters)
                accounting.after_step(net, trace, deltas, batch=(xb, idx))
                if cosim is not None:
                    step = epoch * n_batches + next_batch + 1
                    if cosim.due(step):  # a SPICE checkpoint can take a minute: say so on the bar
                        bar.set_postfix_str(f"SPICE checkpoint at step {step} ...", refresh=True)
                    cosim.after_step(net, trace.inputs, deltas, step=step, epoch=epoch + 1)
                partial["loss_sum"] += cross_entropy(trace.probs, yb) * len(idx)
                partial["correct"] += int(np.sum(np.argmax(trace.probs, axis=1) == yb))
                partial["seen"] += len(idx)
                next_batch += 1
                bar.update(1)
                if next_batch % 20 == 0:
                    bar.set_postfix(loss=f"{partial['loss_sum'] / partial['seen']:.4f}")
                if on_batch is not None:
                    on_batch(epoch, next_batch - 1)
                if flag.requested and next_batch < n_batches:
                    interrupted = True
                    break
            bar.close()
            partial["train_time_s"] += time.perf_counter() - t0
            if interrupted:
                save(last_path)
                break
            t1 = time.perf_counter()
            eb = config.training.eval_batch_size
            val_loss, val_acc = evaluate(net, data.validation.x, data.validation.y, eb)
            _, test_acc = evaluate(net, data.test.x, data.test.y, eb)
            epoch += 1
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": partial["loss_sum"] / partial["seen"],
                    "train_accuracy": partial["correct"] / partial["seen"],
                    "validation_loss": val_loss,
                    "validation_accuracy": val_acc,
                    "test_accuracy": test_acc,
                }
            )
            timing.append(
                {"epoch": epoch, "train_time_s": partial["train_time_s"], "eval_time_s": time.perf_counter() - t1}
            )
            order, next_batch = None, 0
            if cosim is not None:
                history[-1].update(cosim.epoch_metrics(epoch))
            history[-1].update(circuit_epoch_metrics(net))  # circuit-in-the-loop layers' write-model agreement
            if target is not None:
                train_set_loss, _ = evaluate(net, x_train, y_train, eb)
                history[-1].update(target_metrics(train_set_loss, accounting.counters, target))
            history[-1].update(accounting.epoch_metrics(out_dir, epoch))
            write_csv(out_dir / "metrics.csv", METRIC_COLUMNS + (cosim.metric_columns if cosim else ()) + circuit_columns(net)
                      + (TARGET_COLUMNS if target is not None else ()) + accounting.metric_columns, history)
            write_csv(out_dir / "timing.csv", TIMING_COLUMNS, timing)
            if plot:
                plot_run(out_dir / "curves.png", history, title)
            save(out_dir / "checkpoints" / f"epoch-{epoch:03d}.npz")
            save(last_path)
            if progress:
                tqdm.write(
                    f"epoch {epoch}/{config.training.epochs}: train loss {history[-1]['train_loss']:.4f}, "
                    f"validation accuracy {100 * val_acc:.2f} %, test accuracy {100 * test_acc:.2f} % "
                    f"({timing[-1]['train_time_s']:.2f} s)",
                    file=sys.stderr,
                )
            if stop_at_target and history[-1]["target_reached"]:
                if progress:
                    tqdm.write(f"training loss {history[-1]['train_set_loss']:.4g} <= target {target:g} after "
                               f"epoch {epoch}: stopping (training.target_action = 'stop')", file=sys.stderr)
                break
            if flag.requested:
                interrupted = epoch < config.training.epochs
                break

    result = TrainResult(
        out_dir=out_dir,
        epochs_completed=epoch,
        history=history,
        timing=timing,
        test_accuracy=history[-1]["test_accuracy"] if history else float("nan"),
        weights=net.weights(),
        stats=rule.stats(),
        interrupted=interrupted,
    )
    write_summary(out_dir, config, rule.name, result, accounting.energy_source)
    return result


__all__ = ["TrainResult", "train", "evaluate", "load_dataset", "make_rule", "resume_config"]
