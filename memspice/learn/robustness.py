"""Inference robustness: test accuracy of a trained network under swept perturbations, with an FP reference.

Perturbations (each swept over user-given levels; level 0 is the clean network):

``gaussian``         input noise x' = x + σ·ξ, ξ ~ N(0, 1), σ = level (input units);
``salt_pepper``      a fraction ``level`` of the inputs replaced by 0 or 1 (half each);
``read_noise``       conductance read noise σ_G = level·G on every device at every
                     read (the tile's ``g_noise_rel``; forward and backward path);
``drift``            power-law drift G(t) = G(t0)(t/t0)^(−ν) after ``level`` seconds
                     (ν = ``drift_nu``, device-to-device std ``drift_nu_d2d``;
                     default: the PCM card's ν, Nandakumar et al. 2018);
``d2d``              device-to-device programming variation: every conductance
                     multiplied once by (1 + level·ξ), floored at 0 (a conductance
                     cannot be negative: a floored device is counted in the result).

Input perturbations keep the inputs inside ``input_range`` (default [0, 1],
the pixel range of the datasets): a noisy pixel beyond the range is set to
its bound, and the number of such pixels is reported per point
(``inputs_at_bound``), never hidden.

The reference is a floating-point network of the same architecture
(``reference``: e.g. the network of an ``sgd`` run; by default the FP copy of
the evaluated network's own weights). Device perturbations need conductances:
the reference is then deployed on tiles of the evaluated network's tile
configuration (weights programmed ideally, output gain max|W|/w_max), so both
networks meet the same hardware. Each point is the mean over ``repeats``
independent draws from the generator given.

Layers may be dense (:class:`~memspice.learn.layers.FloatDense`,
:class:`~memspice.learn.layers.AnalogDense`) or convolutions
(:class:`~memspice.learn.conv.Conv2d`, one tile of F x (C·k·k + 1) read at
every position): copies and redeployments keep each layer's kind, image shape
and kernel, so a CNN's reference is a CNN of the same architecture.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memspice.devices.pcm import PCM_DEFAULTS
from memspice.errors import ParameterError
from memspice.learn.conv import Conv2d
from memspice.learn.layers import AnalogDense, FloatDense, program_weights
from memspice.learn.metrics import accuracy
from memspice.learn.network import Network

PERTURBATIONS = ("gaussian", "salt_pepper", "read_noise", "drift", "d2d")
INPUT_PERTURBATIONS = ("gaussian", "salt_pepper")
CSV_COLUMNS = ("perturbation", "level", "network", "accuracy", "accuracy_std", "repeats", "inputs_at_bound",
               "devices_at_zero")


@dataclass(frozen=True)
class RobustnessPoint:
    """Accuracy of one network at one perturbation level (mean and std over the repeats)."""

    perturbation: str
    level: float
    network: str  #: "evaluated" or "reference"
    accuracy: float
    accuracy_std: float
    repeats: int
    inputs_at_bound: int = 0  #: inputs set to the input-range bound (input perturbations, summed over repeats)
    devices_at_zero: int = 0  #: conductances floored at 0 S (d2d, summed over repeats)


@dataclass(frozen=True)
class RobustnessSettings:
    """Which perturbations at which levels (module docstring)."""

    levels: dict  #: perturbation name -> tuple of levels (0 = clean); see PERTURBATIONS
    repeats: int = 3
    drift_nu: float = PCM_DEFAULTS["drift_nu"]  #: the PCM card's drift exponent (Nandakumar et al. 2018)
    drift_nu_d2d: float = 0.0
    input_range: tuple[float, float] = (0.0, 1.0)
    batch_size: int = 1000

    def __post_init__(self):
        unknown = sorted(set(self.levels) - set(PERTURBATIONS))
        if unknown:
            raise ParameterError(f"unknown perturbation(s) {unknown}; choose from {', '.join(PERTURBATIONS)}")
        levels = {}
        for name, values in self.levels.items():
            v = tuple(float(x) for x in np.atleast_1d(values))
            if not v or any(not np.isfinite(x) or x < 0 for x in v):
                raise ParameterError(f"levels of {name!r} = {values!r}: give finite levels >= 0")
            if name == "salt_pepper" and max(v) > 1:
                raise ParameterError(f"salt_pepper levels {v} are fractions of the inputs: give values in [0, 1]")
            levels[name] = v
        object.__setattr__(self, "levels", levels)
        if int(self.repeats) != self.repeats or self.repeats < 1:
            raise ParameterError(f"repeats = {self.repeats!r}: give an integer >= 1")
        lo, hi = self.input_range
        if not hi > lo:
            raise ParameterError(f"input_range = {self.input_range!r}: give (low, high) with low < high")
        if self.drift_nu < 0 or self.drift_nu_d2d < 0:
            raise ParameterError("drift_nu and drift_nu_d2d must be >= 0")


def perturb_inputs(x: np.ndarray, kind: str, level: float, rng: np.random.Generator,
                   input_range=(0.0, 1.0)) -> tuple[np.ndarray, int]:
    """(perturbed copy of ``x``, number of inputs set to a bound of ``input_range``)."""
    lo, hi = input_range
    if kind == "gaussian":
        y = x + level * rng.standard_normal(x.shape)
        out = (y < lo) | (y > hi)
        return np.clip(y, lo, hi), int(np.count_nonzero(out))
    if kind == "salt_pepper":
        y = np.array(x, dtype=np.float64, copy=True)
        hit = rng.random(x.shape) < level
        salt = rng.random(x.shape) < 0.5
        y[hit & salt] = hi
        y[hit & ~salt] = lo
        return y, 0
    raise ParameterError(f"{kind!r} is not an input perturbation; choose one of {INPUT_PERTURBATIONS}")


def _copy_tile(tile, rng, *, read_update: dict | None = None, nu: np.ndarray | None = None):
    """An independent copy of ``tile`` drawing from ``rng``, optionally with changed read configs."""
    from memspice.surrogate import AnalogTile
    from memspice.surrogate.serialise import config_to_dict

    state = tile.state_dict()
    if read_update:
        cfg = tile.config
        read = dataclasses.replace(cfg.read, **read_update)
        bwd = None if cfg.backward_read is None else dataclasses.replace(cfg.backward_read, **read_update)
        state["config"] = config_to_dict(dataclasses.replace(cfg, read=read, backward_read=bwd))
    if nu is not None:
        state["nu"] = nu
    return AnalogTile.from_state_dict(state, rng)


def perturb_network(net: Network, kind: str, level: float, rng: np.random.Generator,
                    settings: RobustnessSettings) -> tuple[Network, int]:
    """(a perturbed copy of an analog network, devices floored at 0 S); ``net`` is left untouched."""
    layers, floored = [], 0
    for layer in net.layers:
        tile = getattr(layer, "tile", None)
        if tile is None:
            raise ParameterError(f"perturbation {kind!r} needs conductances; the network has a {layer.kind} layer")
        if kind == "read_noise":
            new = _copy_tile(tile, rng, read_update={"g_noise_rel": level})
        elif kind == "drift":
            shape = (2,) + tile.shape
            nu = settings.drift_nu + settings.drift_nu_d2d * rng.standard_normal(shape)
            new = _copy_tile(tile, rng, read_update={"drift_nu": settings.drift_nu,
                                                      "drift_nu_d2d": settings.drift_nu_d2d}, nu=nu)
            # programmed at the tile's clock; read ``level`` seconds later (t0 = drift_t0_s after programming)
            new.advance_time(level)
        elif kind == "d2d":
            new = _copy_tile(tile, rng)
            g = np.stack([new.g_plus, new.g_minus]) * (1.0 + level * rng.standard_normal((2,) + tile.shape))
            floored += int(np.count_nonzero(g < 0))
            new.set_conductances(np.maximum(g[0], 0.0), np.maximum(g[1], 0.0))
        else:
            raise ParameterError(f"{kind!r} is not a device perturbation; choose read_noise, drift or d2d")
        layer2 = copy.copy(layer)
        layer2.tile = new
        layers.append(layer2)
    return Network(layers, net.activation.name), floored


def _layer_shape(layer) -> tuple:
    """What fixes a layer's architecture: ("conv", image shape, kernel, filters) or ("dense", n_in, n_out)."""
    if isinstance(layer, Conv2d):
        return ("conv", layer.in_shape, layer.kernel, layer.filters)
    return ("dense", layer.n_in, layer.n_out)


def _describe(shapes: list) -> str:
    return ", ".join(f"conv {s[3]}x{s[2]}x{s[2]} on {'x'.join(map(str, s[1]))}" if s[0] == "conv"
                     else f"dense {s[1]}->{s[2]}" for s in shapes)


def check_same_architecture(net: Network, other: Network, what: str = "the reference") -> None:
    """ParameterError unless ``other`` has ``net``'s layers: same kinds (conv/dense), shapes and kernels."""
    a = [_layer_shape(layer) for layer in net.layers]
    b = [_layer_shape(layer) for layer in other.layers]
    if a != b:
        raise ParameterError(
            f"{what} has layers [{_describe(b)}] but the evaluated network has [{_describe(a)}]; "
            "give a reference of the same architecture (e.g. the sgd run of the same [network] table)"
        )


def _rebuilt(layer, *, w=None, b=None, tile=None, out_scale: float = 1.0):
    """A layer of ``layer``'s architecture (conv: same image shape and kernel) with new weights or a new tile."""
    if isinstance(layer, Conv2d):
        if tile is None:
            return Conv2d(layer.in_shape, layer.kernel, w=w, b=b)
        return Conv2d(layer.in_shape, layer.kernel, tile=tile, out_scale=out_scale)
    return FloatDense(w, b) if tile is None else AnalogDense(tile, out_scale=out_scale)


def float_copy(net: Network) -> Network:
    """The floating-point network with ``net``'s current weights (W, b) = s·W_tile, layer by layer.

    Dense layers become FloatDense, conv layers a floating-point Conv2d of the
    same image shape and kernel (filters W: (F, C·k·k)).
    """
    return Network([_rebuilt(layer, w=w, b=b) for layer, (w, b) in zip(net.layers, net.weights())],
                   net.activation.name)


def deploy_on_tiles(net: Network, like: Network, rng: np.random.Generator) -> Network:
    """``net``'s weights programmed (ideally) on tiles configured like ``like``'s, gain max|W|/w_max per layer.

    Each layer keeps its architecture (a conv layer's tile holds its F x
    (C·k·k + 1) filter matrix, bias last, as in training); ``like`` must have
    the same layers (:func:`check_same_architecture`).
    """
    from memspice.surrogate import AnalogTile

    check_same_architecture(like, net, "the network to deploy")
    layers = []
    for layer, (w, b), ref in zip(net.layers, net.weights(), like.layers):
        tile_ref = getattr(ref, "tile", None)
        if tile_ref is None:
            raise ParameterError("deploy_on_tiles: the network to copy the tile configuration from has a float layer")
        wb = np.concatenate([w, b[:, None]], axis=1)
        tile = AnalogTile(wb.shape[0], wb.shape[1], tile_ref.config, rng)
        scale = max(float(np.abs(wb).max()), 1e-300) / tile.mapping.w_max
        program_weights(tile, wb / scale)
        layers.append(_rebuilt(layer, tile=tile, out_scale=scale))
    return Network(layers, net.activation.name)


def _acc(net: Network, x, y, batch_size: int) -> float:
    return accuracy(net.predict_proba(x, batch_size), y)


def robustness_sweep(net: Network, x: np.ndarray, y: np.ndarray, settings: RobustnessSettings,
                     rng: np.random.Generator, reference: Network | None = None) -> list[RobustnessPoint]:
    """Accuracy of ``net`` and the FP ``reference`` at every level of every perturbation in ``settings``."""
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if reference is None:
        reference = float_copy(net)
    else:
        check_same_architecture(net, reference)
    analog = all(getattr(layer, "tile", None) is not None for layer in net.layers)
    device_kinds = [kind for kind in settings.levels if kind not in INPUT_PERTURBATIONS]
    if device_kinds and not analog:
        raise ParameterError(
            f"perturbation(s) {', '.join(device_kinds)} need an analog network (tiles); this network has "
            "floating-point layers: sweep only gaussian and salt_pepper"
        )
    deployed = deploy_on_tiles(reference, net, rng) if analog else None
    points = []
    for kind, levels in settings.levels.items():
        for level in levels:
            for name, base in (("evaluated", net), ("reference", reference)):
                accs, at_bound, floored = [], 0, 0
                for _ in range(settings.repeats):
                    if kind in INPUT_PERTURBATIONS:
                        xp, n_b = perturb_inputs(x, kind, level, rng, settings.input_range)
                        at_bound += n_b
                        accs.append(_acc(base, xp, y, settings.batch_size))
                    else:
                        target = base if name == "evaluated" else deployed
                        pert, n_f = perturb_network(target, kind, level, rng, settings)
                        floored += n_f
                        accs.append(_acc(pert, x, y, settings.batch_size))
                points.append(RobustnessPoint(kind, level, name, float(np.mean(accs)), float(np.std(accs)),
                                              settings.repeats, at_bound, floored))
    return points


def write_robustness_csv(path: str | Path, points: list[RobustnessPoint]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for p in points:
            w.writerow([repr(v) if isinstance(v, float) else v for v in dataclasses.astuple(p)])
    return path


_XLABELS = {"gaussian": "input noise σ", "salt_pepper": "salt-and-pepper fraction", "read_noise": "read noise σ_G/G",
            "drift": "time after programming (s)", "d2d": "d2d variation σ_G/G"}


def plot_robustness(path: str | Path, points: list[RobustnessPoint], title: str = "", labels: dict | None = None) -> Path:
    """One panel per perturbation, accuracy (%) against level, one curve per network (error bars: std)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = labels or {"evaluated": "evaluated", "reference": "FP reference"}
    kinds = [k for k in PERTURBATIONS if any(p.perturbation == k for p in points)]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.6), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for name, style in (("evaluated", "o-"), ("reference", "s--")):
            pts = sorted((p for p in points if p.perturbation == kind and p.network == name), key=lambda p: p.level)
            if pts:
                ax.errorbar([p.level for p in pts], [100 * p.accuracy for p in pts],
                            yerr=[100 * p.accuracy_std for p in pts], fmt=style, capsize=2, label=labels.get(name, name))
        if kind == "drift" and any(p.level > 0 for p in points if p.perturbation == kind):
            ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlabel(_XLABELS[kind])
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def load_checkpoint_network(path: str | Path):
    """(network, TrainConfig, state) from a training checkpoint (.npz written by memspice train)."""
    from memspice.learn import checkpoint as ckpt
    from memspice.learn.config import config_from_dict
    from memspice.learn.run_state import network_from_state

    state = ckpt.load_checkpoint(Path(path))
    config = _config_of(state["config"], config_from_dict)
    net, _ = network_from_state(state["network"], config.network.activation)
    return net, config, state


def _config_of(doc: dict, config_from_dict):
    """The TrainConfig of a checkpoint's stored dict.

    Workaround: TrainConfig.to_dict() (at the time of writing) stores every
    [rule] key, also those that apply to another rule only, which
    config_from_dict then rejects; such keys are dropped here, using the
    rule registry's table of rule-only keys.
    """
    from memspice.errors import ConfigError
    from memspice.learn.rules.registry import rule_only_keys

    try:
        return config_from_dict(doc)
    except ConfigError:
        rule = dict(doc.get("rule", {}))
        name = rule.get("name", "sgd")
        for key, only in rule_only_keys().items():
            if name not in (only if isinstance(only, tuple) else (only,)):
                rule.pop(key, None)
        return config_from_dict({**doc, "rule": rule})


def checkpoint_test_split(config):
    """The test split of the run's dataset, drawn exactly as the trainer drew it (same seed stream)."""
    from memspice.learn.run_state import Streams, load_dataset

    return load_dataset(config, Streams(config.seed).data).test


__all__ = ["CSV_COLUMNS", "PERTURBATIONS", "RobustnessPoint", "RobustnessSettings", "check_same_architecture",
           "checkpoint_test_split", "deploy_on_tiles", "float_copy", "load_checkpoint_network", "perturb_inputs",
           "perturb_network", "plot_robustness", "robustness_sweep", "write_robustness_csv"]
