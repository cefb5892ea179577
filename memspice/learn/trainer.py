"""The training loop: epochs, mini-batches, validation, metrics, checkpoints, resume.

:func:`train` runs a :class:`~memspice.learn.config.TrainConfig` and writes,
into its output folder:

``metrics.csv``       one row per epoch (:data:`~memspice.learn.metrics.METRIC_COLUMNS`);
                      reproducible: same seed and config give the same file
``timing.csv``        wall-clock seconds per epoch (training and evaluation)
``accuracy.png``      the accuracy curves
``checkpoints/epoch-NNN.npz``  state after each epoch
``checkpoints/last.npz``       the latest state (after an epoch, or at Ctrl-C)
``summary.json``      final test accuracy, timings, rule counters and the energy table used
``counters.csv``, ``operations.json``  operation counts per epoch and layer, the run's
                      totals and energy (memspice.learn.counters.RunAccounting)

The network is the MLP of ``network.sizes`` or, with ``network.conv``, the
CNN of :func:`memspice.learn.conv.build_cnn` (conv layers, then the dense
layers ``sizes[1:]``), floating-point for rule "sgd" and on one tile per
layer for every other rule; conv layers are checkpointed like dense ones
(weights or tile, output gain, the tile's random stream, plus their image
shape and kernel).

Randomness: one :class:`numpy.random.SeedSequence` from ``config.seed`` is
split into independent streams: data split, initial weights, shuffling, the
rule's draws (pulse trains), and one stream per tile (device-to-device and
cycle-to-cycle draws, read noise). Every stream's exact state goes into the
checkpoint, with the position inside the current epoch (its permutation and
the next mini-batch), so ``resume=True`` continues bit for bit where the run
stopped: the final weights equal those of an uninterrupted run.

Ctrl-C (SIGINT) during training finishes the current mini-batch, writes
``checkpoints/last.npz`` and returns with ``interrupted=True``; a second
Ctrl-C aborts at once.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from memspice.errors import ConfigError, DataError, ParameterError
from memspice.learn import checkpoint as ckpt
from memspice.learn.activations import cross_entropy
from memspice.learn.config import TrainConfig, config_from_dict
from memspice.learn.conv import Conv2d, build_cnn
from memspice.learn.datasets import Dataset, load_digits, load_fashion_mnist, load_idx
from memspice.learn.layers import AnalogDense, FloatDense
from memspice.learn.metrics import (
    METRIC_COLUMNS,
    TIMING_COLUMNS,
    accuracy,
    plot_accuracy,
    write_csv,
)
from memspice.learn.network import Network, build_network
from memspice.learn.rules import FloatSGD, MixedPrecision, StochasticCoincidence

_STREAMS = ("data", "init", "shuffle", "rule", "tiles")


@dataclass(frozen=True)
class TrainResult:
    """What a run (or a run segment) ended with."""

    out_dir: Path
    epochs_completed: int
    history: list
    """One dict per epoch with the METRIC_COLUMNS."""
    timing: list
    """One dict per epoch with the TIMING_COLUMNS."""
    test_accuracy: float
    """Test accuracy after the last completed epoch (nan if none completed)."""
    weights: list
    """(W, b) per layer at the end, float arrays."""
    stats: dict
    """The rule's counters (pulses applied, clipped probabilities, refreshed pairs)."""
    interrupted: bool


def load_dataset(config: TrainConfig, rng: np.random.Generator) -> Dataset:
    """The dataset named by ``config.data``, split with ``rng``."""
    d = config.data
    limits = {"max_train": d.max_train, "max_test": d.max_test, "validation_fraction": d.validation_fraction}
    if d.name == "digits":
        return load_digits(rng, test_fraction=d.test_fraction, **limits)
    if d.name == "fashion-mnist":
        kwargs = {"directory": d.directory} if d.directory else {}
        return load_fashion_mnist(rng, **kwargs, **limits)
    return load_idx(d.train_images, d.train_labels, d.test_images, d.test_labels, rng, name="idx", **limits)


def make_rule(config: TrainConfig):
    """The update rule object named by ``config.rule``."""
    r = config.rule
    if r.name == "sgd":
        return FloatSGD(r.learning_rate)
    if r.name == "stochastic-coincidence":
        return StochasticCoincidence(r.learning_rate, bl=r.bl, update_management=r.update_management)
    if r.name == "mixed-precision":
        return MixedPrecision(
            r.learning_rate, refresh_every=r.refresh_every, refresh_threshold=r.refresh_threshold, epsilon=r.epsilon
        )
    from memspice.learn.rules_extra import make_extra_rule  # issue 8's rules

    return make_extra_rule(r)


class _Streams:
    """The run's independent random streams, created from the seed."""

    def __init__(self, seed: int):
        children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
        self.seeds = dict(zip(_STREAMS, children))
        self.data = np.random.default_rng(self.seeds["data"])
        self.init = np.random.default_rng(self.seeds["init"])
        self.shuffle = np.random.default_rng(self.seeds["shuffle"])
        self.rule = np.random.default_rng(self.seeds["rule"])

    def tile_rngs(self, n: int) -> list[np.random.Generator]:
        return [np.random.default_rng(s) for s in self.seeds["tiles"].spawn(n)]


def _build(config: TrainConfig, rng: np.random.Generator, tile_factory=None) -> Network:
    """The MLP, or with ``network.conv`` the CNN (memspice.learn.conv), of ``config.network``."""
    n = config.network
    omega = n.weight_scaling_omega if tile_factory is not None else None
    if not n.conv:
        return build_network(n.sizes, rng, activation=n.activation, tile_factory=tile_factory,
                             weight_scaling_omega=omega)
    return build_cnn(
        n.input_shape(config.data.name), [(c.filters, c.kernel) for c in n.conv], n.sizes[1:], rng,
        activation=n.activation, tile_factory=tile_factory, weight_scaling_omega=omega,
    )


def _new_network(config: TrainConfig, rule, streams: _Streams) -> tuple[Network, list]:
    if not rule.needs_tiles:
        return _build(config, streams.init), []
    from memspice.learn.tiles import make_tile, tile_config_from_table

    tile_config = tile_config_from_table(config.tile)
    rngs = streams.tile_rngs(len(config.network.conv) + len(config.network.sizes) - 1)  # one per layer, in order
    pending = list(rngs)

    def factory(n_out: int, n_cols: int):
        return make_tile(n_out, n_cols, tile_config, pending.pop(0))

    return _build(config, streams.init, factory), rngs


def _network_state(net: Network, tile_rngs: list) -> list:
    """Per layer: its weights (float) or its tile, output gain and the tile's random stream (analog);
    conv layers also their image shape and kernel."""
    out = []
    for k, layer in enumerate(net.layers):
        if layer.kind == "float":
            entry = {"kind": "float", "w": layer.w.copy(), "b": layer.b.copy()}
        else:
            entry = {
                "kind": "analog",
                "tile": layer.tile.state_dict(),
                "out_scale": layer.out_scale,
                "rng": ckpt.generator_state(tile_rngs[k]),
            }
        if isinstance(layer, Conv2d):
            entry["conv"] = {"in_shape": list(layer.in_shape), "kernel": layer.kernel}
        out.append(entry)
    return out


def _network_from_state(state: list, activation: str) -> tuple[Network, list]:
    layers, rngs = [], []
    for entry in state:
        conv = entry.get("conv")  # absent: a dense layer (and every layer of checkpoints before CNNs)
        if entry["kind"] == "float":
            if conv is None:
                layers.append(FloatDense(entry["w"], entry["b"]))
            else:
                layers.append(Conv2d(conv["in_shape"], conv["kernel"], w=entry["w"], b=entry["b"]))
        else:
            from memspice.learn.tiles import tile_from_state

            rng = ckpt.generator_from_state(entry["rng"])
            tile = tile_from_state(entry["tile"], rng)
            if conv is None:
                layers.append(AnalogDense(tile, out_scale=entry["out_scale"]))
            else:
                layers.append(Conv2d(conv["in_shape"], conv["kernel"], tile=tile, out_scale=entry["out_scale"]))
            rngs.append(rng)
    return Network(layers, activation), rngs


def _check_sizes(config: TrainConfig, data: Dataset) -> None:
    sizes = list(config.network.sizes)
    if sizes[0] != data.n_features or sizes[-1] != data.n_classes:
        raise ConfigError(
            f"network.sizes = {sizes} does not fit dataset {data.name!r}, which has {data.n_features} "
            f"inputs and {data.n_classes} classes; use sizes = [{data.n_features}, ..., {data.n_classes}]"
            + (" and a network.image_shape of as many pixels" if config.network.image_shape is not None else "")
        )


def _same_run(saved: dict, config: TrainConfig) -> None:
    """A checkpoint may be resumed only with the config that made it (epochs may grow)."""
    now = config.to_dict()
    differences = []
    for section in sorted(set(saved) | set(now)):
        a, b = saved.get(section), now.get(section)
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if section == "training" and key == "epochs":
                    continue
                if a.get(key) != b.get(key):
                    differences.append(f"{section}.{key}: checkpoint {a.get(key)!r}, config {b.get(key)!r}")
        elif a != b:
            differences.append(f"{section}: checkpoint {a!r}, config {b!r}")
    if differences:
        raise ConfigError(
            "the checkpoint was made with a different configuration (" + "; ".join(differences) + "); "
            "resume with the original config, or start afresh in another --out folder"
        )


class _InterruptFlag:
    """SIGINT handler that asks the loop to stop after the current mini-batch; a second Ctrl-C aborts."""

    def __init__(self):
        self.requested = False
        self._previous = None
        self._installed = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
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
) -> TrainResult:
    """Run (or continue, with ``resume``) the training described by ``config``.

    ``stop_after_epochs``: return after this many epochs of the whole run have
    completed (the checkpoint lets a later ``resume=True`` call go on).
    ``on_batch(epoch, batch)``: called after every mini-batch (0-based), e.g.
    for a caller's own progress display.
    """
    out_dir = Path(out_dir)
    last_path = out_dir / "checkpoints" / "last.npz"
    streams = _Streams(config.seed)
    data = load_dataset(config, streams.data)
    _check_sizes(config, data)
    rule = make_rule(config)
    batch = config.training.batch_size
    n_train = len(data.train)
    n_batches = -(-n_train // batch)

    if resume:
        state = ckpt.load_checkpoint(last_path)
        _same_run(state["config"], config)
        net, tile_rngs = _network_from_state(state["network"], config.network.activation)
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
        if last_path.exists():
            raise DataError(
                f"{str(out_dir)!r} already holds a run (checkpoints/last.npz); continue it with --resume, "
                "or choose another --out folder"
            )
        net, tile_rngs = _new_network(config, rule, streams)
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
                "network": _network_state(net, tile_rngs),
                "rule": rule.state_dict(),
                "rngs": {"shuffle": ckpt.generator_state(streams.shuffle), "rule": ckpt.generator_state(streams.rule)},
                "accounting": accounting.state_dict(),
            },
        )

    from memspice.validate.cosim import make_cosim

    cosim = make_cosim(config, out_dir, rule, net, resume=resume)  # None unless [cosim] every_steps > 0
    from memspice.learn.counters import RunAccounting  # operation counters and energy per epoch (issue 14)

    accounting = RunAccounting.start(net, rule, config, state if resume else None)
    x_train, y_train = data.train.x, data.train.y
    end_epoch = config.training.epochs
    if stop_after_epochs is not None:
        end_epoch = min(end_epoch, stop_after_epochs)
    interrupted = False
    title = f"{data.name} {config.network.label()}, rule {rule.name}, seed {config.seed}"
    with _InterruptFlag() as flag:
        while epoch < end_epoch and not interrupted:
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
                if hasattr(rule, "train_pass"):  # rules that replace the passes (binary stochastic)
                    trace, deltas = rule.train_pass(net, xb, yb, streams.rule)
                else:
                    trace = net.forward_train(xb)
                    deltas = net.backward(trace, yb)
                if not np.isfinite(trace.probs).all():
                    raise ParameterError(
                        f"training diverged in epoch {epoch + 1}, mini-batch {next_batch + 1}: the network's outputs "
                        f"are not finite (rule {rule.name}, learning rate {rule.learning_rate:g}); lower "
                        "[rule] learning_rate or set [training] learning_rate_decay. Completed epochs are in "
                        f"{last_path}"
                    )
                rule.step(net, trace.inputs, deltas, streams.rule)
                accounting.after_step(net, trace, deltas)
                if cosim is not None:
                    cosim.after_step(net, trace.inputs, deltas, step=epoch * n_batches + next_batch + 1, epoch=epoch)
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
            history[-1].update(accounting.epoch_metrics(out_dir, epoch))
            write_csv(out_dir / "metrics.csv", METRIC_COLUMNS + (cosim.metric_columns if cosim else ())
                      + accounting.metric_columns, history)
            write_csv(out_dir / "timing.csv", TIMING_COLUMNS, timing)
            plot_accuracy(out_dir / "accuracy.png", history, title)
            save(out_dir / "checkpoints" / f"epoch-{epoch:03d}.npz")
            save(last_path)
            if progress:
                tqdm.write(
                    f"epoch {epoch}/{config.training.epochs}: train loss {history[-1]['train_loss']:.4f}, "
                    f"validation accuracy {100 * val_acc:.2f} %, test accuracy {100 * test_acc:.2f} % "
                    f"({timing[-1]['train_time_s']:.2f} s)",
                    file=sys.stderr,
                )
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
    _write_summary(out_dir, config, rule.name, result, accounting.energy_source)
    return result


def _write_summary(out_dir: Path, config: TrainConfig, rule_name: str, result: TrainResult,
                   energy_table: str | None = None) -> None:
    times = [t["train_time_s"] for t in result.timing]
    doc = {
        "dataset": config.data.name,
        "sizes": list(config.network.sizes),
        "rule": rule_name,
        "seed": config.seed,
        "epochs_completed": result.epochs_completed,
        "interrupted": result.interrupted,
        "test_accuracy": result.test_accuracy if result.history else None,
        "best_validation_accuracy": max((h["validation_accuracy"] for h in result.history), default=None),
        "mean_train_time_per_epoch_s": float(np.mean(times)) if times else None,
        "stats": result.stats,
        "energy_table": energy_table,  # which energy table priced the energy_*_j columns (operations.json)
        "config": config.to_dict(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def resume_config(out_dir: str | Path) -> TrainConfig:
    """The configuration stored in a run folder's last checkpoint."""
    state = ckpt.load_checkpoint(Path(out_dir) / "checkpoints" / "last.npz")
    return config_from_dict(state["config"])


__all__ = ["TrainResult", "train", "evaluate", "load_dataset", "make_rule", "resume_config"]
