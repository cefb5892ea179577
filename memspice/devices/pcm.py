"""Statistical PCM device (Nandakumar et al. 2018): its parameter card and the numpy statistics.

A conductance G in [g_min, g_max] that SET pulses increase by a Gaussian step
whose mean and spread depend on G, conductance drift G(t) = G(t0) (t/t0)^-nu
and Gaussian read noise. The pulse is not resolved in time: this is the
published statistical model. ``PCM_PARAMETERS`` is the one place the published
numbers are written (``models/pcm.toml`` is rendered from it, and the surrogate
presets read :data:`PCM_DEFAULTS`). Every draw comes from the caller's
``numpy.random.Generator``; the SPICE pulse run is in ``memspice.cell.stochastic_spice``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from memspice.devices.definition import Constraint, Parameter, StateVariable
from memspice.devices.spice_render import HOLD_RESISTANCE_OHM, STATE_NODE
from memspice.devices.stochastic_params import parameters_digest, require_rng, resolve_parameters
from memspice.errors import ParameterError

_PCM_CITE = (
    "S. R. Nandakumar, M. Le Gallo, I. Boybat, B. Rajendran, A. Sebastian, E. Eleftheriou, "
    "'Mixed-precision architecture based on computational memory for training deep neural networks', "
    "IEEE ISCAS 2018 (arXiv:1712.01192), statistical PCM model (Sec. III, Fig. 2)"
)
_PCM_SET = "Nandakumar et al. 2018 PCM model fit, as quoted in memspice docs/algorithms.md, Statistical PCM"

PCM_PARAMETERS = (
    Parameter("g_min_s", 0.1e-6, "S", "G_min: lowest conductance (after RESET)", _PCM_SET, low=0.0),
    Parameter("g_max_s", 20e-6, "S", "G_max: highest conductance", _PCM_SET, low=0.0),
    Parameter("mean_slope", -0.084, "1", "a_mu in mean dG = a_mu G + b_mu per SET pulse", _PCM_SET),
    Parameter("mean_offset_s", 0.892e-6, "S", "b_mu in mean dG = a_mu G + b_mu", _PCM_SET),
    Parameter("std_slope", 0.09, "1", "a_sigma in std dG = a_sigma G + b_sigma", _PCM_SET, low=0.0, low_inclusive=True),
    Parameter("std_offset_s", 0.575e-6, "S", "b_sigma in std dG = a_sigma G + b_sigma", _PCM_SET, low=0.0, low_inclusive=True),
    Parameter("drift_nu", 0.04, "1", "nu: drift exponent, G(t) = G(t0) (t/t0)^-nu", _PCM_SET, low=0.0, low_inclusive=True),
    Parameter("read_noise_slope", 0.03, "1", "a_r in read noise std = a_r G + b_r", _PCM_SET, low=0.0, low_inclusive=True),
    Parameter("read_noise_offset_s", 0.13e-6, "S", "b_r in read noise std = a_r G + b_r", _PCM_SET, low=0.0, low_inclusive=True),
    Parameter("v_set_min_v", 0.5, "V", "smallest pulse amplitude counted as a SET pulse (memspice choice)",
              "memspice: pulse detection threshold for the SPICE rendering", low=0.0),
    Parameter("v_read_v", 0.2, "V", "read voltage (below the SET threshold)", "memspice choice", low=0.0),
)

#: The card's values by parameter name (the published set plus memspice's two choices): the one
#: source of the Nandakumar numbers for the surrogate presets and the robustness defaults.
PCM_DEFAULTS: Mapping[str, float] = MappingProxyType({p.name: p.default for p in PCM_PARAMETERS})


@dataclass(frozen=True)
class PcmModel:
    """Statistical PCM device (Nandakumar et al. 2018). State: conductance G in siemens.

    ``set_pulses(g, n, rng)`` applies n SET pulses: each adds
    dG ~ N(a_mu G + b_mu, (a_sigma G + b_sigma)^2), then G is held inside
    [g_min, g_max] -- the saturation is part of the published model (the
    device cannot go beyond its crystalline/amorphous limits), not a numerical
    clip. ``reset(g)`` returns G_min. ``drift(g, t, t0)`` and ``read(g, rng)``
    model retention and read noise.
    """

    params: Mapping[str, float] = field(default_factory=dict)
    name: str = "pcm"

    def __post_init__(self):
        values = resolve_parameters("pcm", PCM_PARAMETERS, (Constraint("g_min_s < g_max_s", lambda p: p["g_min_s"] < p["g_max_s"]),),
                          self.params)
        object.__setattr__(self, "params", MappingProxyType(values))

    citation = _PCM_CITE
    parameters = PCM_PARAMETERS
    state = StateVariable("g_s", 0.0, 1.0, "S", "device conductance G (bounds: g_min_s, g_max_s)")
    title = "Statistical phase-change memory pulse model"

    @property
    def x_min(self) -> float:
        return self.params["g_min_s"]

    @property
    def x_max(self) -> float:
        return self.params["g_max_s"]

    @property
    def state_name(self) -> str:
        return "g_s"

    @property
    def v_read_v(self) -> float:
        return self.params["v_read_v"]

    @property
    def x0_default(self) -> float:
        return self.params["g_min_s"]

    @property
    def subckt_name(self) -> str:
        return "ms_pcm" if self.is_default else f"ms_pcm_{parameters_digest(self.params)}"

    @property
    def is_default(self) -> bool:
        return all(self.params[p.name] == p.default for p in PCM_PARAMETERS)

    @property
    def spice_state_node(self) -> str:
        return STATE_NODE

    # --- statistics ---------------------------------------------------------------
    def step_mean_s(self, g) -> np.ndarray:
        """Mean conductance change of one SET pulse at conductance ``g`` (S)."""
        p = self.params
        return p["mean_slope"] * np.asarray(g, float) + p["mean_offset_s"]

    def step_std_s(self, g) -> np.ndarray:
        """Standard deviation of the change of one SET pulse at ``g`` (S)."""
        p = self.params
        return p["std_slope"] * np.asarray(g, float) + p["std_offset_s"]

    def bound(self, g) -> np.ndarray:
        """G held inside [g_min, g_max] (the model's saturation)."""
        return np.minimum(np.maximum(g, self.x_min), self.x_max)

    def set_pulse(self, g, rng: np.random.Generator, xi=None) -> np.ndarray:
        """One SET pulse on every device of ``g``; ``xi`` (standard normals) may be given instead of drawn."""
        g = np.asarray(g, float)
        if xi is None:
            xi = require_rng(rng, "pcm set_pulse").standard_normal(g.shape)
        return self.bound(g + self.step_mean_s(g) + self.step_std_s(g) * xi)

    def set_pulses(self, g, n_pulses: int, rng: np.random.Generator) -> np.ndarray:
        """``n_pulses`` SET pulses; returns (n_pulses, *g.shape), the conductance after each."""
        out = []
        for _ in range(int(n_pulses)):
            g = self.set_pulse(g, rng)
            out.append(g)
        return np.array(out)

    def reset(self, g) -> np.ndarray:
        """RESET: every device back to G_min."""
        return np.full(np.shape(g), self.x_min)

    def drift(self, g, t_s, t0_s: float = 1.0) -> np.ndarray:
        """Conductance at time ``t_s`` after programming, G(t0) (t/t0)^-nu (t >= t0 > 0)."""
        t = np.asarray(t_s, float)
        if t0_s <= 0 or np.any(t < t0_s):
            raise ParameterError(f"drift needs t_s >= t0_s > 0, got t0_s={t0_s!r}, min t_s={np.min(t)!r}")
        return np.asarray(g, float) * (t / t0_s) ** (-self.params["drift_nu"])

    def read(self, g, rng: np.random.Generator) -> np.ndarray:
        """A noisy read of ``g``: G + N(0, (a_r G + b_r)^2)."""
        g = np.asarray(g, float)
        p = self.params
        sigma = p["read_noise_slope"] * g + p["read_noise_offset_s"]
        return g + sigma * require_rng(rng, "pcm read").standard_normal(g.shape)

    def conductance(self, x, v_read: float | None = None) -> np.ndarray:
        return np.asarray(x, float)

    def current(self, v, x) -> np.ndarray:
        return np.asarray(v, float) * np.asarray(x, float)

    def check_state(self, x, label: str = "x") -> float:
        x = float(x)
        if not (self.x_min <= x <= self.x_max):
            raise ParameterError(f"pcm: {label} = {x!r} S is outside [{self.x_min:g}, {self.x_max:g}] S")
        return x

    # --- SPICE ----------------------------------------------------------------------
    def _pcm_expressions(self) -> tuple[str, str]:
        p = self.params
        g = f"v({STATE_NODE})"
        mean = f"({p['mean_slope']!r}*{g} + {p['mean_offset_s']!r})"
        std = f"({p['std_slope']!r}*{g} + {p['std_offset_s']!r})"
        return mean, std

    def spice_subckt(self) -> str:
        """Read subcircuit ``p n x0=G``: a conductance v(state) = G held at x0 (pulses are applied in numpy
        between runs, or with :meth:`spice_pulse_subckt` in a transient)."""
        return "\n".join([
            f"* {self.title} (read subcircuit; state = conductance in S)",
            f"* source: {self.citation}",
            "* generated by memspice.devices; do not edit by hand",
            f".subckt {self.subckt_name} p n x0={self.x0_default!r}",
            f"Bi p n I = v(p,n)*v({STATE_NODE})",
            f"Cx {STATE_NODE} 0 1",
            f"Rx {STATE_NODE} 0 {HOLD_RESISTANCE_OHM!r}",
            f"Ix 0 {STATE_NODE} DC {{x0/{HOLD_RESISTANCE_OHM!r}}}",
            f".ends {self.subckt_name}",
        ]) + "\n"

    def spice_pulse_subckt(self, width_s: float) -> str:
        """Transient subcircuit ``p n xi x0=G`` that applies the statistical SET step in SPICE.

        During a SET pulse (v > v_set_min) the state moves at
        (mean(G_h) + std(G_h) v(xi)) / ``width_s``, so a pulse of flat-top width
        ``width_s`` adds exactly one drawn step. ``xi`` carries the pulse's
        standard-normal draw (a PWL source written from the caller's Generator).
        G_h (node ``gh``) is G sampled before the pulse: it tracks G between
        pulses (time constant width/100) and holds during a pulse, as the
        published per-pulse model evaluates mean and spread at the pre-pulse G.
        The bounds are a smooth guard 0.1 % of G_max wide.
        """
        p = self.params
        g = f"v({STATE_NODE})"
        gh = "v(gh)"
        mean = f"({p['mean_slope']!r}*{gh} + {p['mean_offset_s']!r})"
        std = f"({p['std_slope']!r}*{gh} + {p['std_offset_s']!r})"
        delta = 1e-3 * p["g_max_s"]
        gate = f"(v(p,n) > {p['v_set_min_v']!r} ? 1 : 0)"
        step = f"({mean} + {std}*v(xi))/{float(width_s)!r}"
        up = f"(1 - exp(({g} - {p['g_max_s']!r})/{delta!r}))"
        down = f"(1 - exp(({p['g_min_s']!r} - {g})/{delta!r}))"
        track = 100.0 / float(width_s)
        hold = HOLD_RESISTANCE_OHM
        name = f"{self.subckt_name}_pulse"
        return "\n".join([
            f"* {self.title}: pulse subcircuit (SET steps drawn per pulse, fed through node xi)",
            f".subckt {name} p n xi x0={self.x0_default!r}",
            f"Bi p n I = v(p,n)*{g}",
            f"Cx {STATE_NODE} 0 1",
            f"Rx {STATE_NODE} 0 {hold!r}",
            f"Ix 0 {STATE_NODE} DC {{x0/{hold!r}}}",
            f"Bx 0 {STATE_NODE} I = ((time > 0) ? ({gate}*(max({step}, 0)*{up} - max(-({step}), 0)*{down})) : (0))",
            "Cgh gh 0 1",
            f"Rgh gh 0 {hold!r}",
            f"Igh 0 gh DC {{x0/{hold!r}}}",
            f"Bgh 0 gh I = ((time > 0) ? ((1 - {gate})*{track!r}*({g} - {gh})) : (0))",
            f".ends {name}",
        ]) + "\n"

    #: its crossbar subcircuit (:meth:`spice_subckt`) holds G: SET steps are drawn in numpy or in the
    #: single-cell pulse bench, so a crossbar write would leave every cell unchanged (memspice.circuit refuses it)
    circuit_holds_state = True

    def spice_instance(self, inst: str, node_p: str, node_n: str, x0: float | None = None) -> str:
        x0 = self.x0_default if x0 is None else self.check_state(x0, "x0")
        return f"X{inst} {node_p} {node_n} {self.subckt_name} x0={x0:.12g}"


    # --- pulse trains ---------------------------------------------------------------
    def pulse_draws(self, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None, x0=None,
                    rng=None):
        """(train, G before the first pulse, one standard normal per pulse drawn from ``rng``).

        The draws are shared by the numpy and the SPICE pulse run, so both see the same noise.
        """
        from memspice.devices.waveforms import pulse_train

        rng = require_rng(rng, "pcm pulse_response")
        train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
        g0 = self.x0_default if x0 is None else self.check_state(x0, "x0")
        xi = rng.standard_normal(train.n_pulses)
        return train, g0, xi

    def pulse_states(self, train, g0: float, xi) -> np.ndarray:
        """G after each pulse of ``train`` from ``g0`` with the given draws; pulses below ``v_set_min_v`` do nothing."""
        g, out = g0, []
        for k in range(train.n_pulses):
            if train.amplitudes_v[k] > self.params["v_set_min_v"]:
                g = float(self.set_pulse(g, None, xi=xi[k]))
            out.append(g)
        return np.array(out)

    def pulse_response(self, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None, x0=None,
                       simulator="numpy", rng=None):
        """SET pulses in numpy; one standard-normal draw per pulse from ``rng``. Pulses below
        ``v_set_min_v`` do nothing. The ngspice run of the same draws is
        ``memspice.cell.pulse_response(model, ..., simulator="ngspice")``."""
        from memspice.devices.pulses import PulseResponse

        if simulator != "numpy":
            raise ParameterError(
                f"pcm pulse_response here runs in numpy only (simulator={simulator!r}); for simulator='ngspice' "
                "call memspice.cell.pulse_response(model, ..., simulator='ngspice')"
            )
        train, g0, xi = self.pulse_draws(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s,
                                         x0=x0, rng=rng)
        x = self.pulse_states(train, g0, xi)
        return PulseResponse("pcm", g0, x, x.copy(), train, "numpy")

    def verilog_a(self) -> str:
        raise ParameterError("pcm is a statistical pulse model; it has no Verilog-A rendering (use its .toml card)")
