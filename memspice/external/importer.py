"""Import a Verilog-A device: compile and inspect it, map its terminals and state, measure its read table in VACASK.

A device researcher brings a ``.va`` file (a PDK's ReRAM cell, a lab's VCM
model) and uses it unchanged::

    from memspice.external import import_verilog_a
    dev = import_verilog_a("my_cell.va", state="gap", terminals=("te", "be"))
    dev.conductance(0.5)                 # read conductance at state 0.5 (S), measured in VACASK
    dev.interface.parameters             # names, defaults, ranges, model/instance kind

See :mod:`memspice.external.interface` for what is read from the file and
:mod:`memspice.external.model` for the device and its state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import numpy as np

from memspice.errors import ParameterError
from memspice.external.interface import VerilogAInterface, inspect_verilog_a
from memspice.external.model import ExternalModel, ReadTable, StateSpec, vacask_number
from memspice.spice import RunSettings, settings_or_default, simulate

__all__ = ["import_verilog_a", "measure_read_table", "resolve_state", "resolve_terminals", "vacask_header"]

_NO_INSTANCE = 'none (mark one (*type="instance"*))'


def resolve_terminals(iface: VerilogAInterface, terminals) -> tuple[str, str]:
    """The (p, n) module terminals: as given (checked), or the two ports of a two-terminal module."""
    ports = iface.terminals
    if terminals is None:
        if len(ports) == 2:
            return ports[0], ports[1]
        if len(ports) < 2:
            raise ParameterError(f"module {iface.module} has {len(ports)} terminal(s) ({', '.join(ports) or 'none'}); "
                                 "a memristive cell needs two")
        raise ParameterError(f"module {iface.module} has {len(ports)} electrical terminals ({', '.join(ports)}); "
                             "say which two are the device's p and n with terminals=(P, N) (--terminals P N); "
                             "the others are then tied to n")
    terminals = tuple(terminals)
    if len(terminals) != 2 or terminals[0] == terminals[1]:
        raise ParameterError(f"terminals must be two different terminal names (P, N), got {terminals!r}")
    for t in terminals:
        if t not in ports:
            raise ParameterError(f"module {iface.module} has no terminal {t!r}; its terminals are: {', '.join(ports)}")
    return terminals[0], terminals[1]


def resolve_state(iface: VerilogAInterface, state: str | None, init_param: str | None,
                  state_range: tuple[float, float] | None) -> StateSpec:
    """The StateSpec for a state name (node or opvar; None: the read conductance) and its init parameter."""
    if state is None:
        given = [f"{k}={v!r}" for k, v in (("init_param", init_param), ("state_range", state_range)) if v is not None]
        if given:
            raise ParameterError(f"module {iface.module}: {' and '.join(given)} without a state; name the internal "
                                 "node or output variable they describe with state=NAME (--state NAME); internal "
                                 f"nodes: {', '.join(iface.internal_nodes) or 'none'}; output variables: "
                                 f"{', '.join(iface.opvars) or 'none'}")
        return StateSpec("conductance", "", None, 0.0, 1.0)  # placeholder range: the state is G itself, never set
    if state in iface.internal_nodes:
        kind = "node"
    elif state in iface.opvars:
        kind = "opvar"
    else:
        raise ParameterError(
            f"module {iface.module} has no internal node or output variable {state!r}; internal nodes: "
            f"{', '.join(iface.internal_nodes) or 'none'}; output variables: {', '.join(iface.opvars) or 'none'} "
            "(leave the state out to use the read conductance)")
    if kind == "opvar":
        _check_no_feedback(iface, state)
    if init_param is None:
        candidates = iface.instance_parameters
        named = [c for c in candidates if c.lower() in (f"{state}_init", f"{state}0", f"{state}_0", "x0", "init")]
        if len(candidates) == 1:
            init_param = candidates[0]
        elif len(named) == 1:
            init_param = named[0]
        elif not candidates:
            raise ParameterError(_no_instance_parameter(iface, state, kind))
        else:
            raise ParameterError(
                f"module {iface.module}: which instance parameter sets the initial {state}? candidates: "
                f"{', '.join(candidates) or _NO_INSTANCE}; pass init_param=NAME (--init-param)")
    p = iface.parameter(init_param)
    init_param = p.name
    if p.kind != "instance":
        raise ParameterError(f"module {iface.module}: {p.declared_as or p.name} is a model parameter; the initial "
                             "state must be an instance parameter so each cell has its own: in the .va, write "
                             f'(*type="instance"*) parameter real {p.declared_as or p.name} = ... in front of its '
                             "declaration")
    if state_range is None:
        if p.low is None or p.high is None:
            raise ParameterError(f"module {iface.module}: the range of {state} is not known ({init_param} is declared "
                                 f"in {p.range_text()}); give state_range=(low, high) (--state-range LOW HIGH)")
        state_range = (p.low, p.high)
    lo, hi = (float(v) for v in state_range)
    return StateSpec(kind, state, init_param, lo, hi)


def _strip_comments(text: str) -> str:
    """Verilog-A text with // and /* */ comments blanked (line numbers kept)."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)


def _check_no_feedback(iface: VerilogAInterface, state: str) -> None:
    """Refuse an output-variable state that is read before its first assignment in the analog block
    (``m = idt(f(m), m0)``): openvaf-r reads such a variable as 0, so the module would integrate f(0)."""
    text = _strip_comments(iface.source.read_text(errors="replace"))
    mod = re.search(rf"\bmodule\s+{re.escape(iface.module)}\b(.*?)\bendmodule\b", text, flags=re.DOTALL)
    if mod is None:
        return
    body_start = mod.start(1)
    analog = re.search(r"\banalog\b(?!\s+function)", mod.group(1))
    if analog is None:
        return
    start = body_start + analog.end()
    name = re.escape(state)
    assign = re.compile(rf"(?<![\w$.]){name}\s*=(?!=)").search(text, start, mod.end(1))
    if assign is None:
        return
    end = text.find(";", assign.end())
    end = mod.end(1) if end < 0 else end
    for use in re.finditer(rf"(?<![\w$.]){name}(?![\w$])", text[start:end]):
        if start + use.start() != assign.start():
            line = text.count("\n", 0, start + use.start()) + 1
            raise ParameterError(
                f"module {iface.module}: the state {state} is an output variable read before it is assigned "
                f"({iface.source.name}:{line}); openvaf-r reads a variable before its assignment as 0 (variables "
                f"keep no value between evaluations), so VACASK would integrate the rate at {state} = 0, not at "
                f"the state. Put the state on an internal node (electrical {state}; I({state}) <+ ddt(V({state})) "
                f"- rate; ..., as tests/data/external/drift_cell.va), or make {state} a function of integrals "
                f"that do not read it (as tests/data/external/opvar_cell.va)")


def _no_instance_parameter(iface: VerilogAInterface, state: str, kind: str) -> str:
    """The refusal for a module with no instance parameter: which declaration to add or mark, and how to hold it."""
    model_named = [p for p in iface.parameters
                   if p.name in (f"{state.lower()}_init", f"{state.lower()}0", f"{state.lower()}_0", "x0", "init")]
    name = (model_named[0].declared_as or model_named[0].name) if model_named else f"{state}_init"
    if model_named:
        edit = (f'mark the model parameter {name} as one: (*type="instance"*) parameter real {name} = ... '
                "(each cell of a crossbar then has its own initial state)")
    else:
        edit = (f'add one: (*type="instance"*) parameter real {name} = <initial value> from [<low>:<high>];')
    hold = (f"and hold the state at it at the operating point, e.g. I({state}) <+ (V({state}) - {name}) * 1e-12;"
            if kind == "node" else f"and start the state from it (e.g. {state} = idt(rate, {name}));")
    return (f"module {iface.module} has no instance parameter that sets the initial {state}, so a cell's state "
            f"cannot be set; in {iface.source.name}, {edit} {hold} then import with --init-param {name}")


def import_verilog_a(source: str | os.PathLike, *, state: str | None = None, terminals=None,
                     init_param: str | None = None, state_range: tuple[float, float] | None = None,
                     params: Mapping[str, float] | None = None, v_read_v: float = 0.1, module: str | None = None,
                     name: str | None = None, n_states: int = 257, settings: RunSettings | None = None,
                     cache_dir: str | os.PathLike | None = None) -> ExternalModel:
    """Compile ``source``, map its terminals and state, and measure its read table in VACASK.

    ``state``: internal node or output variable that is the state (None: the
    read conductance). ``init_param``: the instance parameter that sets it
    (found when unambiguous). ``state_range``: (low, high) of the state
    (default: the init parameter's declared range). ``params``: parameter
    values for the model card (unknown names and out-of-range values raise
    ParameterError). ``v_read_v``: the read voltage of every conductance.
    The read table is measured on ``n_states`` states (operating points in
    VACASK, the source at 17 voltages from -2 v_read to 2 v_read, 0 and +-v_read among them);
    ``settings``: the time limit of that run (default :class:`~memspice.spice.RunSettings()`).
    """
    iface = inspect_verilog_a(source, module=module, cache_dir=cache_dir)
    pn = resolve_terminals(iface, terminals)
    spec = resolve_state(iface, state, init_param, state_range)
    model = ExternalModel(iface, pn, spec, float(v_read_v), dict(params or {}), name=name or iface.module)
    if spec.kind == "conductance":
        return model
    table = measure_read_table(model, n_states=n_states, settings=settings)
    return ExternalModel(iface, pn, spec, float(v_read_v), dict(model.params), table, name=model.name)


def vacask_header(model: ExternalModel, title: str) -> list[str]:
    """Title, library load, model card and the vsource model: the first lines of a VACASK deck of ``model``."""
    return [title.replace("\n", " "), model.interface.load_line, model.vacask_model_card(), "model vsource vsource"]


def measure_read_table(model: ExternalModel, *, n_states: int = 257, settings: RunSettings | None = None) -> ReadTable:
    """I(v, x) of ``model`` in VACASK: a bank of cells at ``n_states`` states, the source swept in one run.

    Each cell sits behind its own 0 V ammeter, so one operating-point sweep
    gives every (v, x) pair. At the operating point the state equation is off
    and the state is its initial value; the state read back is checked against
    the init parameter (an init parameter that does not set the state would
    make every per-cell state a fiction). ``settings``: the time limit of the
    VACASK run (default :class:`~memspice.spice.RunSettings()`).
    """
    if not model.settable:
        raise ParameterError(f"{model.module}: a read table needs a settable state (state=NAME with an init parameter)")
    if int(n_states) < 3:
        raise ParameterError(f"n_states = {n_states!r}: need at least 3 states")
    x = np.linspace(model.x_min, model.x_max, int(n_states))
    vr = model.v_read_v
    v = np.unique(np.linspace(-2, 2, 17) * abs(vr))  # 0 and +-v_read are grid points
    lines = vacask_header(model, f"memspice read table of {model.module}")
    lines.append("vsrc (a 0) vsource dc=0")
    saves = []
    for k, xk in enumerate(x):
        lines.append(f"amm{k} (a m{k}) vsource dc=0")
        lines.append(model.vacask_instance(f"d{k}", f"m{k}", "0", xk))
        saves += [f"i(amm{k})", model.vacask_state_save(f"d{k}")]
    lines += ["control", "  save " + " ".join(saves),
              f'  sweep s1 instance="vsrc" parameter="dc" values=[{", ".join(vacask_number(a) for a in v)}]',
              "  analysis dc1 op", "endc"]
    res = simulate("\n".join(lines) + "\n", settings_or_default(settings, engine="vacask"))
    i_a = np.stack([res.vectors[f"i(amm{k})"] for k in range(x.size)], axis=1)  # (V, X): current p -> n
    states = np.stack([res.vectors[f"v(d{k}.{model.state.name})"] for k in range(x.size)], axis=1)
    off = np.max(np.abs(states - x[None, :]))
    if off > 1e-6 * (model.x_max - model.x_min):
        k = int(np.argmax(np.max(np.abs(states - x[None, :]), axis=0)))
        raise ParameterError(
            f"{model.module}: setting {model.state.init_param} = {x[k]:g} gives {model.state.name} = "
            f"{float(states[0, k]):g} at the operating point; the init parameter must set the state "
            "(hold the state node at its initial value with a weak path, e.g. I(x) <+ (V(x) - x0) * 1e-12)")
    order = np.argsort(v)
    return ReadTable(x=x, v_v=v[order], i_a=i_a[order], v_read_v=float(vr))
