"""Stochastic pulse-level models: statistical PCM and CBRAM Poisson switching.

Both are values (frozen dataclasses, SI units) built by ``get_model("pcm")`` /
``get_model("cbram")``. Every random draw comes from a ``numpy.random.Generator``
the caller passes in; in SPICE the draws are written into the netlist (instance
parameters or PWL sources), so a seeded SPICE run is reproducible too.

PCM (Nandakumar et al. 2018): a conductance G in [g_min, g_max] that SET
pulses increase by a Gaussian step whose mean and spread depend on G,
conductance drift G(t) = G(t0) (t/t0)^-nu and Gaussian read noise. The pulse
is not resolved in time: this is the published statistical model.

CBRAM (Jo et al. 2009; Lammie et al. 2021): a binary device whose SET is a
Poisson process with rate 1/tau(V), tau(V) = tau0 exp(-V/V0), so a pulse of
amplitude V and flat-top width t switches it with P = 1 - exp(-t/tau(V)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from memspice.devices.definition import Constraint, Parameter, StateVariable
from memspice.devices.spice_render import HOLD_RESISTANCE_OHM, STATE_NODE
from memspice.errors import ParameterError

_PCM_CITE = (
    "S. R. Nandakumar, M. Le Gallo, I. Boybat, B. Rajendran, A. Sebastian, E. Eleftheriou, "
    "'Mixed-precision architecture based on computational memory for training deep neural networks', "
    "IEEE ISCAS 2018 (arXiv:1712.01192), statistical PCM model (Sec. III, Fig. 2)"
)
_PCM_SET = "Nandakumar et al. 2018 PCM model fit, as quoted in memspice ALGORITHMS.md Sec. 4"

_CBRAM_CITE = (
    "S. H. Jo, K.-H. Kim, W. Lu, 'Programmable resistance switching in nanoscale two-terminal devices', "
    "Nano Letters 9(1):496-500, 2009 (tau(V) = tau0 exp(-V/V0)); used for stochastic bitstreams by "
    "C. Lammie et al., IEEE TCAS-II 68(5), 2021, doi:10.1109/TCSII.2021.3065932"
)
_CBRAM_SET = "Jo et al. 2009, Fig. 3 fit of the Ag/a-Si switching time (tau0 = 2.85e5 s, V0 = 0.155 V)"


def _resolve(name: str, parameters: tuple[Parameter, ...], constraints: tuple[Constraint, ...],
             overrides: Mapping[str, float]) -> dict[str, float]:
    known = {p.name: p for p in parameters}
    for key in overrides:
        if key not in known:
            raise ParameterError(f"model {name} has no parameter {key!r}; its parameters are: {', '.join(known)}")
    values = {p.name: p.check(overrides.get(p.name, p.default), name) for p in parameters}
    for c in constraints:
        if not c.holds(values):
            raise ParameterError(f"{name}: parameters must satisfy {c.text}; change them so it holds")
    return values


def _digest(params: Mapping[str, float]) -> str:
    return hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:8]


# =========================================================================== PCM
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
        values = _resolve("pcm", PCM_PARAMETERS, (Constraint("g_min_s < g_max_s", lambda p: p["g_min_s"] < p["g_max_s"]),),
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
        return "ms_pcm" if self.is_default else f"ms_pcm_{_digest(self.params)}"

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
            xi = _require_rng(rng, "pcm set_pulse").standard_normal(g.shape)
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
        return g + sigma * _require_rng(rng, "pcm read").standard_normal(g.shape)

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

    def spice_instance(self, inst: str, node_p: str, node_n: str, x0: float | None = None) -> str:
        x0 = self.x0_default if x0 is None else self.check_state(x0, "x0")
        return f"X{inst} {node_p} {node_n} {self.subckt_name} x0={x0:.12g}"

    def pulse_response(self, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None, x0=None,
                       engine="numpy", rng=None, backend="subprocess", timeout_s=300.0):
        """SET pulses; one standard-normal draw per pulse from ``rng``, used by both engines
        (so numpy and ngspice see the same noise). Pulses below ``v_set_min_v`` do nothing."""
        from memspice.devices.pulses import PulseResponse
        from memspice.devices.waveforms import pulse_train

        rng = _require_rng(rng, "pcm pulse_response")
        train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
        g0 = self.x0_default if x0 is None else self.check_state(x0, "x0")
        xi = rng.standard_normal(train.n_pulses)
        if engine == "numpy":
            g, out = g0, []
            for k in range(train.n_pulses):
                if train.amplitudes_v[k] > self.params["v_set_min_v"]:
                    g = float(self.set_pulse(g, None, xi=xi[k]))
                out.append(g)
            x = np.array(out)
            return PulseResponse("pcm", g0, x, x.copy(), train, "numpy")
        if engine != "ngspice":
            raise ParameterError(f"engine must be 'numpy' or 'ngspice', got {engine!r}")
        from memspice.devices.waveforms import pwl_source
        from memspice.spice import simulate

        t, v = train.breakpoints()
        # xi steps to pulse k's draw during the rest before pulse k (v = 0, nothing moves then).
        t_xi = [0.0]
        v_xi = [float(xi[0])]
        for k in range(1, train.n_pulses):
            t_switch = k * train.period_s - 0.5 * train.gap_s if train.gap_s > 0 else k * train.period_s
            t_xi += [t_switch - 1e-3 * train.period_s, t_switch]
            v_xi += [float(xi[k - 1]), float(xi[k])]
        t_xi.append(train.duration_s)
        v_xi.append(float(xi[-1]))
        # the step is spread over the time the pulse is above v_set_min: flat top plus that part of the edges
        a = np.abs(train.amplitudes_v).max()
        frac = max(0.0, 1 - self.params["v_set_min_v"] / a) if a > 0 else 0.0
        effective_width = train.width_s + frac * (train.rise_s + train.fall_s)
        tmax = min(train.rise_s, train.fall_s) / 5
        deck = "\n".join([
            "memspice pcm pulse response",
            self.spice_pulse_subckt(effective_width).rstrip(),
            pwl_source("Vdrive", "p", "0", t, v),
            pwl_source("Vxi", "xi", "0", np.array(t_xi), np.array(v_xi)),
            f"Xdut p 0 xi {self.subckt_name}_pulse x0={g0!r}",
            ".options method=gear reltol=1e-5",
            f".tran {tmax!r} {float(t[-1])!r} 0 {tmax!r}",
            ".end", "",
        ])
        res = simulate(deck, backend=backend, timeout_s=timeout_s)
        x = np.interp(train.sample_times_s, res.time, res.v(f"xdut.{STATE_NODE}"))
        return PulseResponse("pcm", g0, x, x.copy(), train, "ngspice")

    def verilog_a(self) -> str:
        raise ParameterError("pcm is a statistical pulse model; it has no Verilog-A rendering (use its .toml card)")


# =========================================================================== CBRAM
CBRAM_PARAMETERS = (
    Parameter("tau0_s", 2.85e5, "s", "tau0: SET time constant at 0 V", _CBRAM_SET, low=0.0),
    Parameter("v0_v", 0.155, "V", "V0: voltage scale of tau(V) = tau0 exp(-V/V0)", _CBRAM_SET, low=0.0),
    Parameter("tau0_reset_s", 2.85e5, "s", "tau0 of RESET under negative bias (memspice: mirrored SET values)",
              "memspice choice (Jo et al. 2009 give the SET kinetics only)", low=0.0),
    Parameter("v0_reset_v", 0.155, "V", "V0 of RESET, tau_r(V) = tau0_r exp(V/V0_r) for V < 0",
              "memspice choice (mirrored SET value)", low=0.0),
    Parameter("r_on_ohm", 1e4, "ohm", "R_on: resistance after SET (memspice choice, typical Ag/a-Si LRS)",
              "memspice choice; Jo et al. 2009 report LRS ~ 10 kOhm range", low=0.0),
    Parameter("r_off_ohm", 1e7, "ohm", "R_off: resistance before SET", "memspice choice", low=0.0),
    Parameter("t_switch_s", 1e-10, "s", "duration of the conductance jump once the filament forms (SPICE only)",
              "memspice choice: much shorter than any pulse", low=0.0),
    Parameter("v_read_v", 0.1, "V", "read voltage", "memspice choice", low=0.0),
)


@dataclass(frozen=True)
class CbramModel:
    """CBRAM with Poisson switching. State x in {0 (OFF), 1 (ON)}.

    Under a voltage V > 0 an OFF device switches ON at rate 1/tau(V),
    tau(V) = tau0 exp(-V/V0); under V < 0 an ON device switches OFF at rate
    1/tau_r(V) = exp(-|V|/V0_r)/tau0_r. A trapezoidal pulse (amplitude A,
    flat top t, edges t_r, t_f) accumulates the hazard
    H = [t + (t_r + t_f) (V0/A)(1 - exp(-A/V0))] / tau(A), and switches the
    device with probability 1 - exp(-H).

    Draws: in numpy one unit-exponential E per device and per pulse from the
    caller's Generator (switch when E < H). In SPICE each instance carries
    drawn thresholds ``e_set``/``e_reset`` (unit exponentials written into the
    instance line) and a hazard node integrating 1/tau(v(t)); it switches when
    the hazard crosses the threshold. By the memorylessness of the exponential
    the two are the same process; a SPICE instance switches at most once per
    direction per run (draw new thresholds for the next run).
    """

    params: Mapping[str, float] = field(default_factory=dict)
    name: str = "cbram"

    def __post_init__(self):
        values = _resolve("cbram", CBRAM_PARAMETERS,
                          (Constraint("r_on_ohm < r_off_ohm", lambda p: p["r_on_ohm"] < p["r_off_ohm"]),), self.params)
        object.__setattr__(self, "params", MappingProxyType(values))

    citation = _CBRAM_CITE
    parameters = CBRAM_PARAMETERS
    state = StateVariable("x", 0.0, 1.0, "1", "0 = OFF (no filament), 1 = ON")
    title = "CBRAM with Poisson (exponential switching time) SET/RESET"
    x_min = 0.0
    x_max = 1.0
    state_name = "x"
    x0_default = 0.0

    @property
    def v_read_v(self) -> float:
        return self.params["v_read_v"]

    @property
    def is_default(self) -> bool:
        return all(self.params[p.name] == p.default for p in CBRAM_PARAMETERS)

    @property
    def subckt_name(self) -> str:
        return "ms_cbram" if self.is_default else f"ms_cbram_{_digest(self.params)}"

    @property
    def spice_state_node(self) -> str:
        return STATE_NODE

    def tau_s(self, v) -> np.ndarray:
        """Mean SET switching time tau(V) = tau0 exp(-V/V0) (s)."""
        return self.params["tau0_s"] * np.exp(-np.asarray(v, float) / self.params["v0_v"])

    def effective_time_s(self, amplitude_v, width_s, rise_s=0.0, fall_s=0.0) -> np.ndarray:
        """Flat-top time with the same hazard as the whole trapezoid (edges weighted by exp(v/V0))."""
        a = np.asarray(amplitude_v, float)
        v0 = self.params["v0_v"] if np.all(a >= 0) else self.params["v0_reset_v"]
        u = np.abs(a) / v0
        edge = np.where(u > 1e-12, (1 - np.exp(-u)) / np.where(u > 1e-12, u, 1.0), 1.0)
        return width_s + (rise_s + fall_s) * edge

    def switch_probability(self, amplitude_v, width_s, rise_s=0.0, fall_s=0.0) -> np.ndarray:
        """P(an OFF device is ON after one pulse) = 1 - exp(-t_eff/tau(V)) for V > 0."""
        t_eff = self.effective_time_s(amplitude_v, width_s, rise_s, fall_s)
        return -np.expm1(-t_eff / self.tau_s(amplitude_v))

    def _hazard(self, amplitude_v, width_s, rise_s, fall_s) -> tuple[float, float]:
        a = float(amplitude_v)
        p = self.params
        if a >= 0:
            tau = p["tau0_s"] * np.exp(-a / p["v0_v"])
            u = a / p["v0_v"]
            edge = (1 - np.exp(-u)) / u if u > 1e-12 else 1.0
            return (width_s + (rise_s + fall_s) * edge) / tau, 0.0
        tau = p["tau0_reset_s"] * np.exp(a / p["v0_reset_v"])
        u = -a / p["v0_reset_v"]
        edge = (1 - np.exp(-u)) / u if u > 1e-12 else 1.0
        return 0.0, (width_s + (rise_s + fall_s) * edge) / tau

    def apply_pulse(self, x, amplitude_v: float, width_s: float, rng: np.random.Generator, *,
                    rise_s: float = 0.0, fall_s: float = 0.0) -> np.ndarray:
        """One pulse on every device of ``x`` (0/1 array): one Exp(1) draw per device."""
        x = np.asarray(x, float)
        h_set, h_reset = self._hazard(amplitude_v, width_s, rise_s, fall_s)
        e = _require_rng(rng, "cbram apply_pulse").standard_exponential(x.shape)
        on = np.where(x > 0.5, 1.0, 0.0)
        on = np.where((on == 0) & (e < h_set), 1.0, on)
        on = np.where((x > 0.5) & (e < h_reset), 0.0, on)
        return on

    def conductance(self, x, v_read: float | None = None) -> np.ndarray:
        p = self.params
        return 1 / p["r_off_ohm"] + np.asarray(x, float) * (1 / p["r_on_ohm"] - 1 / p["r_off_ohm"])

    def current(self, v, x) -> np.ndarray:
        return np.asarray(v, float) * self.conductance(x)

    def check_state(self, x, label: str = "x") -> float:
        x = float(x)
        if x not in (0.0, 1.0):
            raise ParameterError(f"cbram: {label} must be 0 (OFF) or 1 (ON), got {x!r}")
        return x

    def draw_thresholds(self, rng: np.random.Generator, shape=()) -> tuple[np.ndarray, np.ndarray]:
        """Unit-exponential SET and RESET thresholds for SPICE instances (one pair per device)."""
        rng = _require_rng(rng, "cbram draw_thresholds")
        return rng.standard_exponential(shape), rng.standard_exponential(shape)

    def spice_subckt(self) -> str:
        """Subcircuit ``p n x0=0 e_set=1 e_reset=1``; see the class docstring."""
        p = self.params
        g_on, g_off = 1 / p["r_on_ohm"], 1 / p["r_off_ohm"]
        s = f"v({STATE_NODE})"
        k = 1 / p["t_switch_s"]
        lam_set = f"exp(v(p,n)/{p['v0_v']!r})/{p['tau0_s']!r}"
        lam_reset = f"exp(-v(p,n)/{p['v0_reset_v']!r})/{p['tau0_reset_s']!r}"
        # smooth step of the hazard crossing its threshold, 1e-3 wide (thresholds are O(1))
        fire_set = "(0.5 + 0.5*tanh((v(hs) - e_set)/1e-3))"
        fire_reset = "(0.5 + 0.5*tanh((v(hr) - e_reset)/1e-3))"
        hold = HOLD_RESISTANCE_OHM
        return "\n".join([
            f"* {self.title}",
            f"* source: {self.citation}",
            f"* state: x = 0 OFF / 1 ON, node {STATE_NODE}; hazards hs (SET), hr (RESET) integrate 1/tau(v)",
            "* e_set, e_reset: unit-exponential draws written per instance (memspice CbramModel.draw_thresholds)",
            "* parameters: " + ", ".join(f"{kk}={vv!r}" for kk, vv in p.items()),
            "* generated by memspice.devices; do not edit by hand",
            f".subckt {self.subckt_name} p n x0=0 e_set=1 e_reset=1",
            f"Bi p n I = v(p,n)*({g_off!r} + {s}*{g_on - g_off!r})",
            f"Cx {STATE_NODE} 0 1",
            f"Rx {STATE_NODE} 0 {hold!r}",
            f"Ix 0 {STATE_NODE} DC {{x0/{hold!r}}}",
            f"Bx 0 {STATE_NODE} I = ((time > 0) ? ({k!r}*({fire_set.replace('e_set', '{e_set}')}*(1 - {s}) "
            f"- {fire_reset.replace('e_reset', '{e_reset}')}*{s})) : (0))",
            "Chs hs 0 1",
            f"Rhs hs 0 {hold!r}",
            f"Bhs 0 hs I = ((time > 0) ? ({lam_set}*(1 - {s})) : (0))",
            "Chr hr 0 1",
            f"Rhr hr 0 {hold!r}",
            f"Bhr 0 hr I = ((time > 0) ? ({lam_reset}*{s}) : (0))",
            f".ends {self.subckt_name}",
        ]) + "\n"

    def spice_instance(self, inst: str, node_p: str, node_n: str, x0: float | None = None,
                       rng: np.random.Generator | None = None, e_set: float | None = None,
                       e_reset: float | None = None) -> str:
        """Instance line with drawn thresholds: from ``rng`` (one SET and one RESET draw), or given."""
        x0 = self.x0_default if x0 is None else self.check_state(x0, "x0")
        if e_set is None or e_reset is None:
            e_s, e_r = self.draw_thresholds(_require_rng(rng, "cbram spice_instance"))
            e_set = float(e_s) if e_set is None else e_set
            e_reset = float(e_r) if e_reset is None else e_reset
        return f"X{inst} {node_p} {node_n} {self.subckt_name} x0={x0:.12g} e_set={e_set!r} e_reset={e_reset!r}"

    def pulse_response(self, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None, x0=None,
                       engine="numpy", rng=None, backend="subprocess", timeout_s=300.0):
        """State (0/1) after each pulse of one device; draws from ``rng``."""
        from memspice.devices.pulses import PulseResponse
        from memspice.devices.testbench import drive
        from memspice.devices.waveforms import pulse_train

        rng = _require_rng(rng, "cbram pulse_response")
        train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
        x = self.x0_default if x0 is None else self.check_state(x0, "x0")
        if engine == "numpy":
            out = []
            for a in train.amplitudes_v:
                x = float(self.apply_pulse(x, a, train.width_s, rng, rise_s=train.rise_s, fall_s=train.fall_s))
                out.append(x)
            xs = np.array(out)
            return PulseResponse("cbram", float(x0 or 0.0), xs, self.conductance(xs), train, "numpy")
        t, v = train.breakpoints()
        e_set, e_reset = self.draw_thresholds(rng)
        trace = drive(self, t, v, x, engine=engine, max_step_s=min(train.rise_s, train.fall_s) / 5,
                      backend=backend, timeout_s=timeout_s,
                      instance=self.spice_instance("dut", "p", "0", x0=x, e_set=float(e_set), e_reset=float(e_reset)))
        xs = trace.state_at(train.sample_times_s)
        return PulseResponse("cbram", x, xs, self.conductance(xs), train, engine, trace)

    def verilog_a(self) -> str:
        raise ParameterError("cbram's stochastic thresholds are netlist draws; it has no Verilog-A rendering here")


def _require_rng(rng, where: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            f"{where} needs rng=numpy.random.Generator (e.g. numpy.random.default_rng(seed)) for its random draws, "
            f"got {rng!r}"
        )
    return rng
