"""The continuous compact models, each written once as a ``ModelDefinition``.

Conventions shared by every model here:

* the state X is normalised to [0, 1] (each model says what X means
  physically), so that ngspice's absolute tolerances (1 uV on a node) are
  equally meaningful for every model and the state node voltage is the state;
* bounds are enforced by smooth factors only (the model's own directional
  window, or memspice's guard ``1 - exp(-d/delta)`` on motion towards a
  bound, see ``expressions.guard_up``): no hard clamps, no branch that can
  lock the state at a bound; every model can leave both bounds;
* a threshold such as VTEAM's ``(v/v_off - 1)^a`` for v > v_off is written with
  ``ramp`` (max(., 0) as (z+|z|)/2), continuous in v.
"""

from __future__ import annotations

import sympy as sp

from memspice.devices.definition import Characterisation, Constraint, ModelDefinition, Parameter, StateVariable
from memspice.devices.expressions import V, X, directional, guard_down, guard_up, ramp

_GUARD_CITE = (
    "memspice: smooth bound guard 1-exp(-d/delta) on motion towards a bound (replaces the "
    "hard clamp of reference implementations; not part of the paper)"
)


def _guard_width() -> Parameter:
    return Parameter(
        "guard_width", 0.01, "1",
        "delta: width of the smooth bound guard, as a fraction of the state range",
        _GUARD_CITE, low=0.0, high=0.1, high_inclusive=True,
    )


def _ron_roff_constraint() -> Constraint:
    return Constraint("r_on_ohm < r_off_ohm", lambda p: p["r_on_ohm"] < p["r_off_ohm"])


# --------------------------------------------------------------------------- resistor
def resistor() -> ModelDefinition:
    """Linear resistor whose conductance is set by the (constant) state.

    G(X) = 1/R_off + X (1/R_on - 1/R_off); dX/dt = 0. With r_on_ohm == r_off_ohm
    it is a fixed resistor, for circuits checked against V^2/R*t.
    """
    r_on = Parameter("r_on_ohm", 1e4, "ohm", "R_on: resistance at X = 1", "Ohm's law", low=0.0)
    r_off = Parameter("r_off_ohm", 1e6, "ohm", "R_off: resistance at X = 0", "Ohm's law", low=0.0)
    g = 1 / r_off.symbol + X * (1 / r_on.symbol - 1 / r_off.symbol)
    return ModelDefinition(
        name="resistor",
        title="Linear resistor, conductance linear in the fixed state X",
        citation="Ohm's law (test fixture: known energy V^2/R*t)",
        description="i = G(X) v with G(X) = 1/R_off + X (1/R_on - 1/R_off); the state never changes.",
        parameters=(r_on, r_off),
        state=StateVariable("x", 0.0, 1.0, "1", "conductance fraction: G = G_off + X (G_on - G_off)"),
        current=g * V,
        dxdt=sp.Integer(0),
        v_read_v=0.1,
        x0_default=1.0,
        characterisation=Characterisation(1.0, 1e3, 1.0, -1.0, 1e-6),
        constraints=(Constraint("r_on_ohm <= r_off_ohm", lambda p: p["r_on_ohm"] <= p["r_off_ohm"]),),
    )


# --------------------------------------------------------------------------- VTEAM
_VTEAM_CITE = (
    "S. Kvatinsky, M. Ramadan, E. G. Friedman, A. Kolodny, 'VTEAM: A General Model for "
    "Voltage-Controlled Memristors', IEEE TCAS-II 62(8):786-790, 2015, Eqs. (1)-(3)"
)
_VTEAM_SET = (
    "parameter set of the VTEAM preset in MemTorch (C. Lammie et al., Neurocomputing 485:124-133, "
    "2022), the values quoted in memspice docs/algorithms.md (VTEAM)"
)


def vteam() -> ModelDefinition:
    """VTEAM: threshold voltage-controlled drift, linear resistance in the state.

    dw/dt = k_off (v/v_off - 1)^a_off f_off(w) for v > v_off > 0,
            k_on  (v/v_on  - 1)^a_on  f_on(w)  for v < v_on  < 0, 0 between
    (Kvatinsky 2015, Eq. 1); i = v / (R_on + (R_off-R_on)(w-w_on)/(w_off-w_on))
    (Eq. 3, linear variant). X = (w - w_on)/(w_off - w_on): X = 0 is R_on,
    X = 1 is R_off; positive v above v_off drives X up (towards OFF).
    The paper leaves the windows f_on/f_off open; here they are the smooth
    guard (memspice), so the interior dynamics are exactly Eq. 1.
    """
    P = dict(
        r_on_ohm=Parameter("r_on_ohm", 50.0, "ohm", "R_on: resistance at w = w_on", _VTEAM_SET, low=0.0),
        r_off_ohm=Parameter("r_off_ohm", 1000.0, "ohm", "R_off: resistance at w = w_off", _VTEAM_SET, low=0.0),
        k_on=Parameter("k_on_m_per_s", -10.0, "m/s", "k_on: ON drift speed (negative)", _VTEAM_SET, high=0.0),
        k_off=Parameter("k_off_m_per_s", 5e-4, "m/s", "k_off: OFF drift speed (positive)", _VTEAM_SET, low=0.0),
        a_on=Parameter("alpha_on", 3.0, "1", "alpha_on: ON rate exponent", _VTEAM_SET, low=0.0),
        a_off=Parameter("alpha_off", 1.0, "1", "alpha_off: OFF rate exponent", _VTEAM_SET, low=0.0),
        v_on=Parameter("v_on_v", -0.2, "V", "v_on: ON threshold voltage (negative)", _VTEAM_SET, high=0.0),
        v_off=Parameter("v_off_v", 0.02, "V", "v_off: OFF threshold voltage (positive)", _VTEAM_SET, low=0.0),
        w_on=Parameter("w_on_m", 0.0, "m", "w_on: state bound of R_on", _VTEAM_SET, low=0.0, low_inclusive=True),
        w_off=Parameter("w_off_m", 3e-9, "m", "w_off: state bound of R_off (device length D)", _VTEAM_SET, low=0.0),
        guard=_guard_width(),
    )
    s = {k: p.symbol for k, p in P.items()}
    d = s["w_off"] - s["w_on"]
    r = s["r_on_ohm"] + (s["r_off_ohm"] - s["r_on_ohm"]) * X
    rate_off = s["k_off"] * ramp(V / s["v_off"] - 1) ** s["a_off"] / d
    rate_on = s["k_on"] * ramp(V / s["v_on"] - 1) ** s["a_on"] / d
    dxdt = rate_off * guard_up(X, 1.0, s["guard"]) + rate_on * guard_down(X, 0.0, s["guard"])
    return ModelDefinition(
        name="vteam",
        title="VTEAM voltage-threshold memristor (linear I-V)",
        citation=_VTEAM_CITE,
        description=(
            "Threshold drift dw/dt = k (v/v_th - 1)^alpha outside [v_on, v_off]; R linear in w. "
            "X = (w-w_on)/(w_off-w_on); X=0 is R_on (ON), X=1 is R_off (OFF)."
        ),
        parameters=tuple(P.values()),
        state=StateVariable("x", 0.0, 1.0, "1", "(w - w_on)/(w_off - w_on); 0 = R_on, 1 = R_off"),
        current=V / r,
        dxdt=dxdt,
        v_read_v=0.01,  # below v_off = 20 mV: a read does not move the state
        x0_default=0.5,
        characterisation=Characterisation(0.25, 50e6, 0.03, -0.205, 100e-9),
        constraints=(
            _ron_roff_constraint(),
            Constraint("w_on_m < w_off_m", lambda p: p["w_on_m"] < p["w_off_m"]),
        ),
    )


# --------------------------------------------------------------------------- linear ion drift
_HP_CITE = (
    "D. B. Strukov, G. S. Snider, D. R. Stewart, R. S. Williams, 'The missing memristor found', "
    "Nature 453:80-83, 2008, Eqs. (1)-(2)"
)
_HP_SET = "memspice preset, docs/algorithms.md Linear ion drift (R_on 100 ohm, R_off 16 kohm, D 10 nm, mu_v 1e-14 m^2/(V s)) as in Strukov 2008, Fig. 2"

_WINDOW_CITES = {
    "joglekar": "Y. N. Joglekar, S. J. Wolf, 'The elusive memristor', Eur. J. Phys. 30:661-675, 2009, Eq. (9)",
    "biolek": "Z. Biolek, D. Biolek, V. Biolkova, 'SPICE model of memristor with nonlinear dopant drift', "
    "Radioengineering 18(2):210-214, 2009, Eq. (7)",
    "prodromakis": "T. Prodromakis, B. P. Peh, C. Papavassiliou, C. Toumazou, 'A versatile memristor model with "
    "nonlinear dopant kinetics', IEEE TED 58(9):3099-3105, 2011, Eq. (13)",
}


def _ion_drift(window: str) -> ModelDefinition:
    """HP linear ion drift, dX/dt = mu_v R_on / D^2 * i * F(X), with one of three windows.

    i = v / (R_on X + R_off (1 - X)), X = w/D (Strukov 2008, Eqs. 1-2).

    Boundary lock: Joglekar's F = 1 - (2X-1)^(2p) and Prodromakis'
    F = j(1 - ((X-1/2)^2 + 3/4)^p) vanish at both bounds whatever the
    direction, so a state that reaches a bound never leaves it (Biolek 2009,
    Sec. 2). memspice applies those windows on the half of the range the state
    moves towards and holds the window's centre value on the other half
    (continuous, same shape where it acts): moving up, F_up(X) = F(max(X, 1/2)),
    moving down, F_down(X) = F(min(X, 1/2)). Biolek's window is already
    directional: F = 1 - (X - stp(-i))^(2p).
    """
    P = dict(
        r_on=Parameter("r_on_ohm", 100.0, "ohm", "R_on: resistance of the fully doped device (X = 1)", _HP_SET, low=0.0),
        r_off=Parameter("r_off_ohm", 16e3, "ohm", "R_off: resistance of the undoped device (X = 0)", _HP_SET, low=0.0),
        d=Parameter("d_m", 10e-9, "m", "D: thickness of the switching film", _HP_SET, low=0.0),
        mu=Parameter("mu_v_m2_per_vs", 1e-14, "m^2/(V s)", "mu_v: dopant mobility", _HP_SET, low=0.0),
    )
    cite = _WINDOW_CITES[window]
    if window == "prodromakis":
        P["p"] = Parameter("p_window", 2.0, "1", "p: window exponent (memspice choice; Prodromakis Fig. 3 uses 1..10)", cite, low=0.0)
        P["j"] = Parameter("j", 1.0, "1", "j: window scale (Prodromakis Eq. 13)", cite, low=0.0)
    else:
        P["p"] = Parameter("p_window", 2.0, "1", "p: positive integer window exponent (memspice choice)", cite,
                           low=1.0, low_inclusive=True, high=20.0, high_inclusive=True)
    s = {k: q.symbol for k, q in P.items()}
    half = sp.Rational(1, 2)
    if window == "joglekar":
        up = 1 - ramp(2 * X - 1) ** (2 * s["p"])
        down = 1 - ramp(1 - 2 * X) ** (2 * s["p"])
    elif window == "biolek":
        up = 1 - X ** (2 * s["p"])
        down = 1 - (X - 1) ** (2 * s["p"])
    else:
        up = s["j"] * (1 - (ramp(X - half) ** 2 + sp.Rational(3, 4)) ** s["p"])
        down = s["j"] * (1 - (ramp(half - X) ** 2 + sp.Rational(3, 4)) ** s["p"])
    current = V / (s["r_on"] * X + s["r_off"] * (1 - X))
    k = s["mu"] * s["r_on"] / s["d"] ** 2
    constraints = [_ron_roff_constraint()]
    if window != "prodromakis":
        constraints.append(Constraint("p_window is an integer", lambda q: float(q["p_window"]).is_integer()))
    return ModelDefinition(
        name=f"ion_drift_{window}",
        title=f"Linear ion drift (HP) with the {window.capitalize()} window",
        citation=f"{_HP_CITE}; window: {cite}",
        description=(
            "Doped/undoped regions in series; the boundary drifts with the current. "
            "X = w/D; X = 1 is R_on, positive current drives X up."
        ),
        parameters=tuple(P.values()),
        state=StateVariable("x", 0.0, 1.0, "1", "w/D, doped width over film thickness; 1 = R_on"),
        current=current,
        dxdt=k * directional(current, up, down),
        v_read_v=0.1,
        x0_default=0.5,
        constraints=tuple(constraints),
        characterisation=Characterisation(1.0, 1.0, 1.0, -1.0, 4e-3),
        notes=_ion_drift.__doc__ or "",
    )


def ion_drift_joglekar() -> ModelDefinition:
    return _ion_drift("joglekar")


def ion_drift_biolek() -> ModelDefinition:
    return _ion_drift("biolek")


def ion_drift_prodromakis() -> ModelDefinition:
    return _ion_drift("prodromakis")


# --------------------------------------------------------------------------- Yakopcic
_YAK_CITE = (
    "C. Yakopcic, T. M. Taha, G. Subramanyam, R. E. Pino, S. Rogers, 'A memristor device model', "
    "IEEE Electron Device Letters 32(10):1436-1438, 2011, Eqs. (1)-(6)"
)
_YAK_SET = "Yakopcic et al. 2011, Table I (fit to the Oblea et al. chalcogenide device), as quoted in memspice docs/algorithms.md (Yakopcic)"


def yakopcic() -> ModelDefinition:
    """Yakopcic: sinh I-V, exponential threshold drive, exponential-decay windows.

    I = a1 x sinh(b V) (V >= 0), a2 x sinh(b V) (V < 0)             Eq. 1
    g(V) = A_p (e^V - e^V_p) for V > V_p, -A_n (e^-V - e^V_n) for V < -V_n   Eq. 2
    f(x) = e^(-a_p (x - x_p)) w_p(x) for x >= x_p (moving up), 1 below;
           e^( a_n (x + x_n - 1)) w_n(x) for x <= 1 - x_n (moving down), 1 above   Eqs. 3-4
    w_p = (x_p - x)/(1 - x_p) + 1, w_n = x/(1 - x_n)                Eqs. 5-6
    dx/dt = eta g(V) f(x), eta = 1. The windows vanish linearly at x = 1
    (moving up) and x = 0 (moving down) and are 1 in the other direction, so
    the bounds hold without a clamp and never lock.
    """
    P = dict(
        a1=Parameter("a1_a", 0.17, "A", "a1: current scale for V >= 0", _YAK_SET, low=0.0),
        a2=Parameter("a2_a", 0.17, "A", "a2: current scale for V < 0", _YAK_SET, low=0.0),
        b=Parameter("b_per_v", 0.05, "1/V", "b: sinh slope of the I-V", _YAK_SET, low=0.0),
        vp=Parameter("v_p_v", 0.16, "V", "V_p: positive threshold", _YAK_SET, low=0.0, low_inclusive=True),
        vn=Parameter("v_n_v", 0.15, "V", "V_n: negative threshold magnitude", _YAK_SET, low=0.0, low_inclusive=True),
        ap=Parameter("a_p_per_s", 4000.0, "1/s", "A_p: positive drive magnitude", _YAK_SET, low=0.0),
        an=Parameter("a_n_per_s", 4000.0, "1/s", "A_n: negative drive magnitude", _YAK_SET, low=0.0),
        xp=Parameter("x_p", 0.3, "1", "x_p: onset of the upper window", _YAK_SET, low=0.0, high=1.0),
        xn=Parameter("x_n", 0.5, "1", "x_n: onset of the lower window (at 1 - x_n)", _YAK_SET, low=0.0, high=1.0),
        alp=Parameter("alpha_p", 1.0, "1", "alpha_p: upper window decay", _YAK_SET, low=0.0, low_inclusive=True),
        aln=Parameter("alpha_n", 5.0, "1", "alpha_n: lower window decay", _YAK_SET, low=0.0, low_inclusive=True),
    )
    s = {k: q.symbol for k, q in P.items()}
    current = sp.Piecewise(
        (s["a1"] * X * sp.sinh(s["b"] * V), V >= 0),
        (s["a2"] * X * sp.sinh(s["b"] * V), True),
    )
    g_up = s["ap"] * ramp(sp.exp(V) - sp.exp(s["vp"]))
    g_down = s["an"] * ramp(sp.exp(-V) - sp.exp(s["vn"]))
    f_up = sp.Piecewise(
        (sp.exp(-s["alp"] * (X - s["xp"])) * ((s["xp"] - X) / (1 - s["xp"]) + 1), X >= s["xp"]),
        (1, True),
    )
    f_down = sp.Piecewise(
        (sp.exp(s["aln"] * (X + s["xn"] - 1)) * (X / (1 - s["xn"])), X <= 1 - s["xn"]),
        (1, True),
    )
    return ModelDefinition(
        name="yakopcic",
        title="Yakopcic generalised memristor model",
        citation=_YAK_CITE,
        description="sinh I-V scaled by x; exponential threshold drive; windows that decay towards the bound they approach.",
        parameters=tuple(P.values()),
        state=StateVariable("x", 0.0, 1.0, "1", "normalised state; I is proportional to x"),
        current=current,
        dxdt=g_up * f_up - g_down * f_down,
        v_read_v=0.1,  # below both thresholds (0.16 V, -0.15 V): reads do not move the state
        x0_default=0.11,  # Yakopcic 2011 Table I
        characterisation=Characterisation(0.5, 1e3, 0.5, -0.5, 5e-6),
    )


# --------------------------------------------------------------------------- Stanford-PKU
_SPKU_CITE = (
    "Z. Jiang, Y. Wu, S. Yu, L. Yang, K. Song, Z. Karim, H.-S. P. Wong, 'A compact model for metal-oxide "
    "resistive random access memory with experiment verification', IEEE TED 63(5):1884-1892, 2016, Eqs. (1)-(4); "
    "Stanford RRAM Verilog-A model v1.0.0, doi:10.4231/D37H1DN48"
)
_SPKU_SET = "Stanford RRAM model v1.0.0 defaults (Jiang & Wong 2014, doi:10.4231/D37H1DN48) = Jiang 2016 Table I"
Q_E = 1.602176634e-19  # elementary charge (C), CODATA 2018 exact
K_B = 1.380649e-23  # Boltzmann constant (J/K), CODATA 2018 exact
FIELD_GATE_WIDTH = 0.02  # width of the smooth F_min gate, fraction of F_min (memspice choice)


def stanford_pku() -> ModelDefinition:
    """Stanford-PKU oxide RRAM: filament gap g, tunnelling current, field/heat driven gap change.

    I = I0 exp(-g/g0) sinh(V/V0)                                       Eq. 1
    dg/dt = -v0 exp(-Ea/(kT)) sinh(gamma a0/L * qV/(kT))                Eq. 2
    gamma = gamma0 - beta (g/g1)^3                                       Eq. 3
    T = T0 + |V I| R_th  (quasi-static heating; the thermal time constant,
    0.23 ns in the paper, is neglected)                                   Eq. 4
    X = (g - g_min)/(g_max - g_min): X = 0 is the smallest gap (LRS).
    The reference code clamps g to [g_min, g_max]; here the smooth guard does.
    The reference code also switches the gap motion off where the field
    gamma |V| / L is below F_min (reads do not disturb); here that gate is a
    logistic step of width 0.02 F_min.
    The stochastic gap fluctuation term of the reference model is omitted.
    """
    P = dict(
        i0=Parameter("i0_a", 1e-3, "A", "I0: current scale", _SPKU_SET, low=0.0),
        g0=Parameter("g0_m", 0.25e-9, "m", "g0: current decay length of the gap", _SPKU_SET, low=0.0),
        v0=Parameter("v0_v", 0.25, "V", "V0: I-V nonlinearity", _SPKU_SET, low=0.0),
        vel=Parameter("vel0_m_per_s", 10.0, "m/s", "v0: gap velocity prefactor", _SPKU_SET, low=0.0),
        ea=Parameter("ea_ev", 0.6, "eV", "Ea: activation energy", _SPKU_SET, low=0.0),
        a0=Parameter("a0_m", 0.25e-9, "m", "a0: atomic hopping distance", _SPKU_SET, low=0.0),
        tox=Parameter("t_ox_m", 12e-9, "m", "L: oxide thickness", _SPKU_SET, low=0.0),
        gamma0=Parameter("gamma0", 16.0, "1", "gamma0: local field enhancement", _SPKU_SET, low=0.0),
        beta=Parameter("beta", 0.8, "1", "beta: field enhancement reduction with the gap", _SPKU_SET, low=0.0, low_inclusive=True),
        g1=Parameter("g1_m", 1e-9, "m", "g1: gap scale of the enhancement reduction", _SPKU_SET, low=0.0),
        t0=Parameter("t0_k", 298.0, "K", "T0: ambient temperature", _SPKU_SET, low=0.0),
        rth=Parameter("r_th_k_per_w", 2.1e3, "K/W", "R_th: effective thermal resistance", _SPKU_SET, low=0.0, low_inclusive=True),
        gmin=Parameter("g_min_m", 0.2e-9, "m", "g_min: smallest gap (X = 0)", _SPKU_SET, low=0.0),
        gmax=Parameter("g_max_m", 1.7e-9, "m", "g_max: largest gap (X = 1)", _SPKU_SET, low=0.0),
        fmin=Parameter("f_min_v_per_m", 1.4e9, "V/m", "F_min: field gamma|V|/L below which the gap does not move",
                       _SPKU_SET, low=0.0, low_inclusive=True),
        guard=_guard_width(),
    )
    s = {k: q.symbol for k, q in P.items()}
    gap = s["gmin"] + X * (s["gmax"] - s["gmin"])
    current = s["i0"] * sp.exp(-gap / s["g0"]) * sp.sinh(V / s["v0"])
    temp = s["t0"] + sp.Abs(V * current) * s["rth"]
    gamma = s["gamma0"] - s["beta"] * (gap / s["g1"]) ** 3
    dgdt = -s["vel"] * sp.exp(-s["ea"] * Q_E / (K_B * temp)) * sp.sinh(
        gamma * s["a0"] / s["tox"] * Q_E * V / (K_B * temp)
    )
    # The reference code sets gamma = 0 below F_min (a hard switch); a logistic
    # step 2% of F_min wide keeps the same threshold and stays differentiable.
    field = gamma * sp.Abs(V) / s["tox"]
    gate = (1 + sp.tanh((field - s["fmin"]) / (FIELD_GATE_WIDTH * s["fmin"] + 1.0))) / 2
    rate = gate * dgdt / (s["gmax"] - s["gmin"])
    return ModelDefinition(
        name="stanford_pku",
        title="Stanford-PKU metal-oxide RRAM (filament gap model)",
        citation=_SPKU_CITE,
        description=(
            "Tunnelling current through the gap between filament tip and electrode; the gap shrinks "
            "(SET) under positive and grows (RESET) under negative bias, field- and heat-accelerated."
        ),
        parameters=tuple(P.values()),
        state=StateVariable("x", 0.0, 1.0, "1", "(g - g_min)/(g_max - g_min); 0 = smallest gap (LRS)"),
        current=current,
        dxdt=directional(rate, guard_up(X, 1.0, s["guard"]), guard_down(X, 0.0, s["guard"])),
        v_read_v=0.1,
        x0_default=0.5,
        characterisation=Characterisation(1.3, 10e6, -1.2, 1.08, 100e-9),
        constraints=(Constraint("g_min_m < g_max_m", lambda p: p["g_min_m"] < p["g_max_m"]),),
        notes=stanford_pku.__doc__ or "",
    )


#: name -> definition factory, in the order ``model_names()`` lists them.
DEFINITIONS = {
    "resistor": resistor,
    "vteam": vteam,
    "ion_drift_joglekar": ion_drift_joglekar,
    "ion_drift_biolek": ion_drift_biolek,
    "ion_drift_prodromakis": ion_drift_prodromakis,
    "yakopcic": yakopcic,
    "stanford_pku": stanford_pku,
}
