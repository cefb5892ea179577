"""The validate-update job as a value, from TOML (``memspice validate-update --config job.toml``).

Keys (all optional; unknown keys are ConfigErrors)::

    seed = 1                      # states and coincidence pulse trains

    [crossbar]
    rows = 16
    cols = 16
    cell = "1R"                   # 1R | 1T1R
    model = "vteam"               # memspice.devices model name (defaults: memspice/validate/defaults.py)
    wire_ohm = 0.01               # one row and one column segment (ohm)
    row_wire_ohm, col_wire_ohm    # override wire_ohm per direction
    contact_ohm = 0.0
    driver_ohm = 0.0
    state = 0.6                   # every cell; or leave it out and give state_range
    state_range = [0.4, 0.9]      # uniform random states (seeded), default the model's whole range
    [crossbar.model_params]       # compact-model parameter overrides, SI units
    k_on_m_per_s = -0.01

    [pulse]                       # one pulse: plateau and edges (s)
    width_s = 50e-9
    rise_s = 5e-9
    fall_s = 5e-9
    max_step_s = 0.5e-9           # transient step bound; default min(rise, fall)/10

    [update]
    kind = "write"                # write | coincidence
    scheme = "v/2"                # write: v/2 | v/3
    amplitude_v = -0.27           # write: signed cell voltage of the programming pulse
    cells = [[3, 4], [7, 1]]      # write: chosen cells (default: 6 cells spread over the array)
    n_pulses = 1                  # write: pulses per chosen cell
    amplitude_up_v = -0.27        # coincidence: voltage that raises G
    amplitude_down_v = 0.038      # coincidence: voltage that lowers G
    bl = 10                       # coincidence: bit-stream length
    c_x = 1.0                     # coincidence: p_i = min(c_x |x_i|, 1)
    c_d = 1.0                     # coincidence: q_j = min(c_d |delta_j|, 1)
    x = [...]                     # coincidence: input vector (rows); default uniform(-1, 1), seeded
    delta = [...]                 # coincidence: error vector (cols); default uniform(-1, 1), seeded

    [surrogate]
    kind = "array"                # array: array-aware (nodal solve of the write, response over amplitude)
                                  # tabulated: wire-blind, from the compact model
                                  # calibrated: wire-blind, fitted to ngspice pulse trains
    amplitude_up_v, amplitude_down_v   # calibrated: the programming pair (default from [update])
    n_pulses = 30                 # calibrated: pulses per direction in the calibration train
    x0 = 0.95                     # calibrated: initial state of the train (default: the array's lowest-G cell)

    [spice]
    backend = "subprocess"
    timeout_s = 600.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memspice.config import check_table, read_toml
from memspice.errors import ConfigError, MemspiceError
from memspice.spice.settings import DEFAULT_TIMEOUT_S, RunSettings
from memspice.validate import defaults

__all__ = ["ValidateConfig", "validate_config_from_dict", "load_validate_config", "build_job", "run_job"]


@dataclass(frozen=True)
class CrossbarSection:
    rows: int = 16
    cols: int = 16
    cell: str = "1R"
    model: str = defaults.MODEL
    model_params: dict = field(default_factory=lambda: dict(defaults.MODEL_PARAMS))
    wire_ohm: float = 0.01
    row_wire_ohm: float | None = None
    col_wire_ohm: float | None = None
    contact_ohm: float = 0.0
    driver_ohm: float = 0.0
    state: float | None = None
    state_range: tuple | None = (0.4, 0.9)

    def spec(self):
        """The CrossbarSpec of this section: ``state`` wins over ``state_range``; no range = the model's whole range."""
        from memspice.circuit.spec import MODEL_RANGE, CrossbarSpec

        if self.state is not None:
            states = {"state": float(self.state)}
        else:
            states = {"state_range": MODEL_RANGE if self.state_range is None else tuple(self.state_range)}
        return CrossbarSpec(rows=self.rows, cols=self.cols, cell=self.cell, model=self.model,
                            model_params=dict(self.model_params), wire_ohm=self.wire_ohm,
                            row_wire_ohm=self.row_wire_ohm, col_wire_ohm=self.col_wire_ohm,
                            contact_ohm=self.contact_ohm, driver_ohm=self.driver_ohm, **states)


@dataclass(frozen=True)
class PulseSection:
    width_s: float = defaults.WIDTH_S
    rise_s: float = defaults.EDGE_S
    fall_s: float = defaults.EDGE_S
    delay_s: float = 2e-9
    tail_s: float = 2e-9
    max_step_s: float | None = None


@dataclass(frozen=True)
class UpdateSection:
    kind: str = "write"
    scheme: str = "v/2"
    amplitude_v: float = defaults.AMPLITUDE_UP_V
    cells: tuple | None = None
    n_pulses: int = 1
    amplitude_up_v: float = defaults.AMPLITUDE_UP_V
    amplitude_down_v: float = defaults.AMPLITUDE_DOWN_V
    bl: int = 10
    c_x: float = 1.0
    c_d: float = 1.0
    x: tuple | None = None
    delta: tuple | None = None


#: surrogate kinds of a validate-update job: array-aware (default), wire-blind tabulated, wire-blind calibrated
SURROGATE_KINDS = ("array", "tabulated", "calibrated")


@dataclass(frozen=True)
class SurrogateSection:
    kind: str = "array"
    amplitude_up_v: float | None = None
    amplitude_down_v: float | None = None
    n_pulses: int = 30
    x0: float | None = None


@dataclass(frozen=True)
class SpiceSection:
    backend: str = "subprocess"
    timeout_s: float = DEFAULT_TIMEOUT_S

    def settings(self) -> RunSettings:
        """The section as the RunSettings of the job's ngspice run."""
        return RunSettings(backend=self.backend, timeout_s=self.timeout_s)


@dataclass(frozen=True)
class ValidateConfig:
    """A whole validate-update job (defaults: memspice.validate.defaults on a 16x16 array, 0.01 ohm wires, V/2)."""

    seed: int = 1
    crossbar: CrossbarSection = field(default_factory=CrossbarSection)
    pulse: PulseSection = field(default_factory=PulseSection)
    update: UpdateSection = field(default_factory=UpdateSection)
    surrogate: SurrogateSection = field(default_factory=SurrogateSection)
    spice: SpiceSection = field(default_factory=SpiceSection)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_SECTIONS = {"crossbar": CrossbarSection, "pulse": PulseSection, "update": UpdateSection,
             "surrogate": SurrogateSection, "spice": SpiceSection}


def _section(cls, table, name: str):
    check_table(table, sorted(f.name for f in dataclasses.fields(cls)), name)
    kw = {}
    for k, v in table.items():
        if isinstance(v, list):
            v = tuple(tuple(e) if isinstance(e, list) else e for e in v)
        kw[k] = v
    return dataclasses.replace(cls(), **kw)


def validate_config_from_dict(doc: dict) -> ValidateConfig:
    unknown = sorted(set(doc) - {"seed", *_SECTIONS})
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(unknown)}; the top level has: seed, {', '.join(_SECTIONS)}")
    seed = doc.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed = {seed!r}: expected an integer >= 0")
    parts = {name: _section(cls, doc.get(name, {}), name) for name, cls in _SECTIONS.items()}
    cfg = ValidateConfig(seed=seed, **parts)
    if cfg.update.kind not in ("write", "coincidence"):
        raise ConfigError(f"update.kind = {cfg.update.kind!r}: choose 'write' or 'coincidence'")
    if cfg.surrogate.kind not in SURROGATE_KINDS:
        raise ConfigError(f"surrogate.kind = {cfg.surrogate.kind!r}: choose one of {', '.join(map(repr, SURROGATE_KINDS))}")
    return cfg


def load_validate_config(path: str | Path) -> ValidateConfig:
    path = Path(path)
    doc = read_toml(path, "config file")
    try:
        return validate_config_from_dict(doc)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def default_cells(rows: int, cols: int, n: int = 6) -> list[tuple[int, int]]:
    """``n`` cells spread over the array (a diagonal-ish pattern reaching the far corner)."""
    k = np.arange(n)
    return sorted({(int(round(i)), int(round(j))) for i, j in
                   zip(k * (rows - 1) / max(n - 1, 1), (k * 5 + 2) % cols)})


def build_job(cfg: ValidateConfig):
    """(crossbar, schedule, surrogate builder) of a job; the surrogate is built by :func:`run_job`."""
    from memspice.circuit import PulseShape
    from memspice.circuit.schedule import coincidence_schedule, write_schedule

    from memspice.external.registry import builtin_model

    # the update runs in ngspice and the surrogates integrate the compact model in numpy: built-in models only
    builtin_model(cfg.crossbar.model, cfg.crossbar.model_params, where="validate-update (ngspice against numpy surrogates)",
                  fix=f"check its V/2 write with `memspice crossbar write --model {cfg.crossbar.model} --engine vacask` "
                      f"and its surrogate with `memspice calibrate --from-spice {cfg.crossbar.model} --engine vacask`")
    try:
        c = cfg.crossbar
        rng = np.random.default_rng(cfg.seed)
        xb = c.spec().build(rng)  # the states are the generator's first draw (a state_range)
        p = cfg.pulse
        pulse = PulseShape(width_s=p.width_s, rise_s=p.rise_s, fall_s=p.fall_s, delay_s=p.delay_s, tail_s=p.tail_s)
        u = cfg.update
        if u.kind == "write":
            cells = default_cells(c.rows, c.cols) if u.cells is None else [tuple(x) for x in u.cells]
            sched = write_schedule(xb.shape, cells, u.amplitude_v, scheme=u.scheme, pulse=pulse, n_pulses=u.n_pulses,
                                   max_step_s=p.max_step_s)
        else:
            x = rng.uniform(-1, 1, c.rows) if u.x is None else np.asarray(u.x, dtype=float)
            d = rng.uniform(-1, 1, c.cols) if u.delta is None else np.asarray(u.delta, dtype=float)
            sched, _ = coincidence_schedule(x, d, amplitude_up_v=u.amplitude_up_v, amplitude_down_v=u.amplitude_down_v,
                                            bl=u.bl, c_x=u.c_x, c_d=u.c_d, rng=rng, pulse=pulse, max_step_s=p.max_step_s)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, MemspiceError):
            raise
        raise ConfigError(f"validate-update job: {exc}") from None
    return xb, sched


def run_job(cfg: ValidateConfig, *, progress: bool = False):
    """Build the crossbar, the update and the surrogate of ``cfg``, and validate (an UpdateValidation)."""
    from memspice.validate.predict import array_surrogate, calibrated_surrogate, schedule_amplitudes, tabulated_surrogate
    from memspice.validate.run import validate_update

    xb, sched = build_job(cfg)
    s, u = cfg.surrogate, cfg.update
    cal_summary = None
    if s.kind == "array":
        sur = array_surrogate(xb, sched)
    elif s.kind == "tabulated":
        sur = tabulated_surrogate(xb.model, schedule_amplitudes(sched), sched.pulse)
    else:
        up, down = u.amplitude_up_v, u.amplitude_down_v
        if u.kind == "write":  # the write amplitude is one half of the calibration pair
            if _raises_g(xb.model, u.amplitude_v) is False:
                down = u.amplitude_v
            else:
                up = u.amplitude_v
        up = up if s.amplitude_up_v is None else s.amplitude_up_v
        down = down if s.amplitude_down_v is None else s.amplitude_down_v
        # default start: the array's lowest-conductance cell, so the up pulses of the train sweep
        # the conductances the array holds (the fitted table covers only what the train saw)
        # (plus a margin of 5 % of the state range towards lower G: the fit's table starts at the
        # lowest read, a little above the first one)
        g = xb.conductances_s()
        x0 = s.x0
        if x0 is None:
            m = xb.model
            x_low = float(xb.states.flat[int(np.argmin(g))])
            cands = np.clip(x_low + np.array([-0.05, 0.05]) * (m.x_max - m.x_min), m.x_min, m.x_max)
            x0 = float(cands[int(np.argmin(m.conductance(cands)))])
        sur, cal = calibrated_surrogate(xb.model, sched, up, down, n_pulses=s.n_pulses, x0=x0, progress=progress)
        cal_summary = {k: v for k, v in cal.summary().items() if k != "fits"}
    val = validate_update(xb, sched, sur, settings=cfg.spice.settings())
    if cal_summary is not None:
        val.meta["calibration"] = cal_summary
    val.meta["config"] = cfg.to_dict()
    return val


def _raises_g(model, amplitude_v: float) -> bool | None:
    """Whether a pulse of ``amplitude_v`` raises the conductance at the centre state (None: no change)."""
    x = np.array([0.5 * (model.x_min + model.x_max)])
    dx = float(np.asarray(model.dxdt(amplitude_v, x)).ravel()[0])
    if dx == 0:
        return None
    g0 = float(np.asarray(model.conductance(x)).ravel()[0])
    g1 = float(np.asarray(model.conductance(x + 1e-3 * np.sign(dx) * (model.x_max - model.x_min))).ravel()[0])
    return g1 > g0
