"""CBRAM with Poisson switching: the one switching law, the device's parameter card and its numpy pulses.

The SET of a CBRAM cell is a Poisson process (Jo, Kim & Lu, Nano Lett. 2009:
the wait time to switching is exponentially distributed, its mean falling
exponentially with voltage), so a pulse of amplitude V and flat-top width t
switches a cell with

    P(V, t) = 1 - exp(-t/tau(V)),   tau(V) = tau0 exp(-V/V0).

:class:`PoissonSwitching` is that law, written once; :class:`CbramModel` (the
device, built by ``get_model("cbram")``) and the bit-stream encoder of the
cbram-sc rule (``memspice.learn.stochastic_computing``) both use it, with the
values of ``CBRAM_PARAMETERS``. Every draw comes from the caller's
``numpy.random.Generator``; in SPICE the draws are written into the instance
lines. The SPICE pulse run is in ``memspice.cell.stochastic_spice``.
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

_CBRAM_CITE = (
    "S. H. Jo, K.-H. Kim, W. Lu, 'Programmable resistance switching in nanoscale two-terminal devices', "
    "Nano Letters 9(1):496-500, 2009 (tau(V) = tau0 exp(-V/V0)); used for stochastic bitstreams by "
    "C. Lammie et al., IEEE TCAS-II 68(5), 2021, doi:10.1109/TCSII.2021.3065932"
)
_CBRAM_SET = "Jo et al. 2009, Fig. 3 fit of the Ag/a-Si switching time (tau0 = 2.85e5 s, V0 = 0.155 V)"


@dataclass(frozen=True)
class PoissonSwitching:
    """Switching as a Poisson process with rate 1/tau(V), tau(V) = tau0 exp(-V/V0) (Jo et al. 2009).

    ``tau0_s`` (s) is the mean switching time extrapolated to 0 V, ``v0_v`` (V)
    the voltage that shortens it by a factor e. The RESET of a CbramModel is
    the same law in -V with its own constants.
    """

    tau0_s: float
    v0_v: float

    def tau_s(self, v_v) -> np.ndarray:
        """Mean switching time tau(V) = tau0 exp(-V/V0) (s)."""
        return self.tau0_s * np.exp(-np.asarray(v_v, dtype=np.float64) / self.v0_v)

    def switch_probability(self, v_v, time_s) -> np.ndarray:
        """P = 1 - exp(-t/tau(V)): probability that the process fires within ``time_s`` at ``v_v``."""
        return -np.expm1(-np.asarray(time_s, dtype=np.float64) / self.tau_s(v_v))

    def voltage_for_tau_v(self, tau_s) -> np.ndarray:
        """The voltage whose mean switching time is ``tau_s``: V = V0 ln(tau0/tau) (inverse of :meth:`tau_s`)."""
        return self.v0_v * np.log(self.tau0_s / tau_s)

    def spice_rate(self, v_expr: str) -> str:
        """1/tau(V) as an ngspice expression of the voltage expression ``v_expr``."""
        return f"exp({v_expr}/{self.v0_v!r})/{self.tau0_s!r}"


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

#: The card's values by parameter name: the one source of tau0 and V0 for the device and the cbram-sc encoder.
CBRAM_DEFAULTS: Mapping[str, float] = MappingProxyType({p.name: p.default for p in CBRAM_PARAMETERS})



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
        values = resolve_parameters("cbram", CBRAM_PARAMETERS,
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
        return "ms_cbram" if self.is_default else f"ms_cbram_{parameters_digest(self.params)}"

    @property
    def spice_state_node(self) -> str:
        return STATE_NODE

    @property
    def set_law(self) -> PoissonSwitching:
        """The SET switching law with this device's tau0 and V0."""
        return PoissonSwitching(self.params["tau0_s"], self.params["v0_v"])

    @property
    def reset_law(self) -> PoissonSwitching:
        """The RESET law, in -V: tau_r(V) = tau0_r exp(V/V0_r) = reset_law.tau_s(-V)."""
        return PoissonSwitching(self.params["tau0_reset_s"], self.params["v0_reset_v"])

    def tau_s(self, v) -> np.ndarray:
        """Mean SET switching time tau(V) = tau0 exp(-V/V0) (s)."""
        return self.set_law.tau_s(v)

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
        return self.set_law.switch_probability(amplitude_v, t_eff)

    def _hazard(self, amplitude_v, width_s, rise_s, fall_s) -> tuple[float, float]:
        a = float(amplitude_v)
        p = self.params
        if a >= 0:
            tau = self.set_law.tau_s(a)
            u = a / p["v0_v"]
            edge = (1 - np.exp(-u)) / u if u > 1e-12 else 1.0
            return (width_s + (rise_s + fall_s) * edge) / tau, 0.0
        tau = self.reset_law.tau_s(-a)
        u = -a / p["v0_reset_v"]
        edge = (1 - np.exp(-u)) / u if u > 1e-12 else 1.0
        return 0.0, (width_s + (rise_s + fall_s) * edge) / tau

    def apply_pulse(self, x, amplitude_v: float, width_s: float, rng: np.random.Generator, *,
                    rise_s: float = 0.0, fall_s: float = 0.0) -> np.ndarray:
        """One pulse on every device of ``x`` (0/1 array): one Exp(1) draw per device."""
        x = np.asarray(x, float)
        h_set, h_reset = self._hazard(amplitude_v, width_s, rise_s, fall_s)
        e = require_rng(rng, "cbram apply_pulse").standard_exponential(x.shape)
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
        rng = require_rng(rng, "cbram draw_thresholds")
        return rng.standard_exponential(shape), rng.standard_exponential(shape)

    def spice_subckt(self) -> str:
        """Subcircuit ``p n x0=0 e_set=1 e_reset=1``; see the class docstring."""
        p = self.params
        g_on, g_off = 1 / p["r_on_ohm"], 1 / p["r_off_ohm"]
        s = f"v({STATE_NODE})"
        k = 1 / p["t_switch_s"]
        lam_set = self.set_law.spice_rate("v(p,n)")
        lam_reset = self.reset_law.spice_rate("-v(p,n)")
        # smooth step of the hazard crossing its threshold, 1e-3 of the threshold wide (at most 1e-3): a
        # fixed width fired for the small draws (e < ~3e-3, 0.3 % of Exp(1)) before any pulse
        fire_set = "(0.5 + 0.5*tanh((v(hs) - e_set)/(1e-3*min(e_set, 1))))"
        fire_reset = "(0.5 + 0.5*tanh((v(hr) - e_reset)/(1e-3*min(e_reset, 1))))"
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
            e_s, e_r = self.draw_thresholds(require_rng(rng, "cbram spice_instance"))
            e_set = float(e_s) if e_set is None else e_set
            e_reset = float(e_r) if e_reset is None else e_reset
        return f"X{inst} {node_p} {node_n} {self.subckt_name} x0={x0:.12g} e_set={e_set!r} e_reset={e_reset!r}"


    def pulse_response(self, n_pulses, amplitude_v, width_s, *, rise_s=None, fall_s=None, gap_s=None, x0=None,
                       simulator="numpy", rng=None):
        """State (0/1) after each pulse of one device, in numpy; draws from ``rng``. The ngspice run
        (drawn thresholds on the instance line) is ``memspice.cell.pulse_response(model, ..., simulator="ngspice")``."""
        from memspice.devices.pulses import PulseResponse
        from memspice.devices.waveforms import pulse_train

        if simulator != "numpy":
            raise ParameterError(
                f"cbram pulse_response here runs in numpy only (simulator={simulator!r}); for simulator='ngspice' "
                "call memspice.cell.pulse_response(model, ..., simulator='ngspice')"
            )
        rng = require_rng(rng, "cbram pulse_response")
        train = pulse_train(n_pulses, amplitude_v, width_s, rise_s=rise_s, fall_s=fall_s, gap_s=gap_s)
        x = self.x0_default if x0 is None else self.check_state(x0, "x0")
        out = []
        for a in train.amplitudes_v:
            x = float(self.apply_pulse(x, a, train.width_s, rng, rise_s=train.rise_s, fall_s=train.fall_s))
            out.append(x)
        xs = np.array(out)
        return PulseResponse("cbram", float(x0 or 0.0), xs, self.conductance(xs), train, "numpy")

    def verilog_a(self) -> str:
        raise ParameterError("cbram's stochastic thresholds are netlist draws; it has no Verilog-A rendering here")
