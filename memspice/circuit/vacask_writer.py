"""VACASK netlist of a crossbar under a drive: the same circuit as spice_writer, in VACASK's dialect.

VACASK (the second circuit engine, :mod:`memspice.spice.vacask`) reads a
Spectre-like netlist, not SPICE: ``name (nodes) master param=value``, models
as OSDI libraries, analyses in a ``control`` block. This writer walks the same
element table as the ngspice writer (:func:`memspice.circuit.network.build_elements`),
so the two decks describe one circuit node for node; only the spelling differs:

* the memristor is the model's Verilog-A module -- the shipped ``models/NAME.va``,
  exactly as emitted, compiled by openvaf-r (:func:`memspice.spice.osdi.compile_va`,
  cached) -- with every parameter value written on the model card, so a model
  with non-preset parameters runs from the same module. Each cell's initial
  state is the instance parameter ``x0`` (``x3_7 (r3_7 c3_7) ms_vteam x0=0.3``);
* wires, drivers and contacts are VACASK's ``resistor``; sources ``vsource``
  (``dc=`` or ``type="pwl" wave=[t0, v0, ...]``);
* the TIA of circuits/tia.cir is re-spelled as a VACASK subcircuit (a VCVS and
  its feedback resistor, the same two elements);
* the 1T1R access transistor is the SPICE level-1 MOSFET that VACASK ships as
  ``spice/mos1.osdi`` (module ``sp_mos1``, the Shichman-Hodges equations of
  ngspice's MOS1), with the parameters read from circuits/access_nmos.lib.

Instance names are the ngspice element names in lower case (``vrow3``,
``vsense7``, ``x3_7``), so a VACASK result has the same vector names as an
ngspice one (``v(r3_7)``, ``i(vsense7)``) and :mod:`memspice.circuit.run`
reads both the same way; only the device state node differs
(``v(x3_7.xs)`` here, ``v(x3_7.state)`` in ngspice: :data:`STATE_NODE`).

A device that spells its own VACASK lines -- a model with the methods
``vacask_model_card()``, ``vacask_instance(inst, p, n, x0)`` and
``vacask_state_save(inst)``, such as a user's Verilog-A device
(:class:`memspice.external.ExternalModel`) -- is asked for its model
card, each cell's instance line and the ``save`` item of each state, and its
compiled module is the one it was imported from (:func:`has_vacask_lines`);
everything else in the deck is the same. Built-in models take the path above.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from memspice.circuit.crossbar import Crossbar
from memspice.circuit.network import ElementTable, Topology, build_elements, check_graph, to_graph
from memspice.circuit.periphery import NMOS_FILE, NMOS_MODEL, TIA_FILE, TIA_SUBCKT, circuit_text
from memspice.circuit.saves import Saves
from memspice.circuit.stimulus import Drive, Waveform
from memspice.devices import stochastic_model_names
from memspice.devices.verilog_render import STATE_NODE
from memspice.errors import CircuitError, DataError

__all__ = ["STATE_NODE", "device_library", "device_model_card", "device_state_node", "has_vacask_lines",
           "nmos_model_card", "source_params", "write_vacask_netlist"]

_NUM = "{:.17g}"  # round-trip exact numbers, as the ngspice writer

#: SPICE MOSFET level -> (OSDI library shipped with VACASK, its module); the
#: table VACASK's own ngspice converter (ng2vclib/dfl.py) uses.
_SPICE_MOS = {1: ("spice/mos1.osdi", "sp_mos1")}


def _num(x: float) -> str:
    return _NUM.format(float(x))


#: The methods by which a device model writes its own VACASK lines (ExternalModel has them).
_DEVICE_HOOKS = ("vacask_model_card", "vacask_instance", "vacask_state_save")


def has_vacask_lines(model) -> bool:
    """True when ``model`` writes its own model card, instance lines and state ``save`` items.

    Duck-typed (:data:`_DEVICE_HOOKS`), so the writer needs no import of the
    device's class: a user's Verilog-A module has its own terminal order,
    init parameter and state (node or output variable), which only the device
    knows; a built-in CompactModel has none of these methods.
    """
    return all(callable(getattr(model, name, None)) for name in _DEVICE_HOOKS)


def device_state_node(model) -> str:
    """The name of a cell's state in a VACASK result, ``v(x3_7.<name>)``: :data:`STATE_NODE` for a built-in
    model, the device's own state (``model.spice_state_node``) for one with its own VACASK lines."""
    return model.spice_state_node if has_vacask_lines(model) else STATE_NODE


def device_library(model):
    """The compiled OSDI library of ``model``'s Verilog-A module (an :class:`OsdiModule`).

    The shipped ``models/NAME.va`` when there is one (the file a user can read
    and take to another simulator), else the model's rendered Verilog-A text;
    both compile once into the user cache. Stochastic pulse models (pcm,
    cbram) have no Verilog-A rendering: CircuitError. A device with its own
    VACASK lines (:func:`has_vacask_lines`) brings its compilation
    (``model.interface.compiled``), narrowed to its module: a user's file may
    define several modules, and the writer loads the one the device names.
    """
    if has_vacask_lines(model):
        compiled = getattr(getattr(model, "interface", None), "compiled", None)
        if compiled is None:
            raise CircuitError(f"device {getattr(model, 'name', model)!r} writes its own VACASK lines but carries no "
                               "compiled module (interface.compiled); import it with "
                               "memspice.external.import_verilog_a")
        return dataclasses.replace(compiled, modules=(model.module,))
    from memspice.resources import data_dir
    from memspice.spice.osdi import compile_va, compile_verilog_a  # later stage: imported on use

    render = getattr(model, "verilog_a", None)
    if render is None or getattr(model, "name", None) in stochastic_model_names():
        raise CircuitError(
            f"model {getattr(model, 'name', model)!r} has no Verilog-A rendering, so VACASK cannot simulate it; "
            "use RunSettings(engine='ngspice') (its ngspice subcircuit) for this model"
        )
    try:
        shipped = data_dir("models") / f"{model.name}.va"
    except DataError:  # no models/ folder at all: fall back to the rendered text
        shipped = None
    if shipped is not None and shipped.is_file():
        lib = compile_va(shipped)
    else:
        lib = compile_verilog_a(render(), model.subckt_name)
    if len(lib.modules) != 1:
        raise CircuitError(f"{lib.source} defines modules {', '.join(lib.modules) or 'none'}, expected one device "
                           "module; regenerate models/ with `python -m memspice.devices.generate`")
    return lib


def device_model_card(model, library) -> str:
    """``model <subckt_name> <module> p1=... p2=...``: the module of ``library`` (an OsdiModule)
    with every parameter value of ``model``.

    The card is named like the ngspice subcircuit (``ms_vteam``, or with a hash
    of the values for non-preset parameters), so two parameter sets of one
    model can share a netlist; instances use that name. A device with its own
    VACASK lines writes its card itself (``model.vacask_model_card()``, named
    ``model.subckt_name`` as well).
    """
    if has_vacask_lines(model):
        return model.vacask_model_card()
    params = " ".join(f"{k}={_num(v)}" for k, v in model.params.items())
    return f"model {model.subckt_name} {library.modules[0]} {params}"


def nmos_model_card(name: str = NMOS_MODEL) -> str:
    """The ``model`` statement of the access NMOS, translated from circuits/access_nmos.lib.

    One source of truth: the parameter values are read from the SPICE card
    (continuation lines joined), ``level`` picks the OSDI module, and
    ``nmos``/``pmos`` becomes ``type=1``/``type=-1``.
    """
    text = re.sub(r"\n\+", " ", circuit_text(NMOS_FILE))
    cards = [ln for ln in text.splitlines() if ln.lower().startswith(".model")]
    for card in cards:
        m = re.match(r"\.model\s+(\S+)\s+([np]mos)\s*\(?(.*?)\)?\s*$", card, flags=re.IGNORECASE)
        if not m or m.group(1).lower() != name.lower():
            continue
        params = dict(re.findall(r"(\w+)\s*=\s*([^\s)]+)", m.group(3)))
        level = int(float(params.pop("level", "1")))
        if level not in _SPICE_MOS:
            raise CircuitError(
                f"circuits/{NMOS_FILE}: MOSFET level {level} has no VACASK module here (known: "
                f"{', '.join(map(str, _SPICE_MOS))}); use RunSettings(engine='ngspice') for 1T1R arrays"
            )
        kind = "1" if m.group(2).lower() == "nmos" else "-1"
        module = _SPICE_MOS[level][1]
        return f"model {name} {module} type={kind} " + " ".join(f"{k}={v}" for k, v in params.items())
    raise CircuitError(f"circuits/{NMOS_FILE} defines no model {name!r}; the 1T1R cell needs it")


def _tia_defaults() -> str:
    """The ``params:`` defaults of the TIA subcircuit in circuits/tia.cir (each instance overrides them)."""
    m = re.search(rf"^\.subckt\s+{TIA_SUBCKT}\b.*?params:\s*(.*)$", circuit_text(TIA_FILE),
                  flags=re.MULTILINE | re.IGNORECASE)
    if not m:
        raise CircuitError(f"circuits/{TIA_FILE} has no '.subckt {TIA_SUBCKT} ... params:' line")
    return " ".join(f"{k}={v}" for k, v in re.findall(r"(\w+)\s*=\s*(\S+)", m.group(1)))


def source_params(t_s, v_v) -> str:
    """``vsource`` parameters: ``dc=0.2`` (no times) or ``type="pwl" wave=[t0, v0, t1, v1, ...]``.

    A PWL source holds its last value after the last point and its first value
    in the operating point (``dc=v0``), as ngspice's PWL does.
    """
    t_s, v_v = np.atleast_1d(np.asarray(t_s, float)), np.atleast_1d(np.asarray(v_v, float))
    if t_s.size == 0:
        return f"dc={_num(v_v[0])}"
    pairs = ", ".join(f"{_num(t)}, {_num(v)}" for t, v in zip(t_s, v_v))
    return f'dc={_num(v_v[0])} type="pwl" wave=[{pairs}]'


def _source(w: Waveform) -> str:
    return source_params(w.t_s, w.v_v)


def _node_names(net: ElementTable):
    """A function node number -> name, through a table built once (a 256x256 deck names
    ~1e6 terminals; ElementTable.name's per-call search would take seconds)."""
    table = [net.name(k) for k in range(net.layout.n)]
    return lambda node: table[int(node)]


def _saves(crossbar: Crossbar, net: ElementTable, name) -> list[str]:
    """What memspice.circuit.run reads back, and nothing else (a 128x128 transient saving every
    node would write gigabytes): device terminals, source nodes, readout outputs, source and
    ammeter currents, and in a transient the device states."""
    nodes = set(np.unique(net.device_p).tolist()) | set(np.unique(net.device_n).tolist())
    nodes |= set(net.row_source.values()) | set(net.col_source.values()) | set(net.gate_source.values())
    nodes |= set(net.sense_node.values())
    nodes.discard(0)
    items = [f"v({name(n)})" for n in sorted(nodes)]
    items += [f"i(vrow{i})" for i in net.row_source] + [f"i(vcol{j})" for j in net.col_source]
    items += [f"i(vgate{i})" for i in net.gate_source] + [f"i(vsense{j})" for j in net.ammeter]
    return items


def write_vacask_netlist(crossbar: Crossbar, drive: Drive, *, check: bool = True, network: ElementTable | None = None,
                         options: dict | None = None, device=None, saves: Saves | None = None) -> str:
    """The VACASK netlist for ``crossbar`` under ``drive``: ``op`` for a DC drive, ``tran`` for a transient.

    ``check``: run :func:`check_graph` on the element table first (as the ngspice writer).
    ``options``: VACASK ``options`` (name -> value), e.g. ``{"reltol": 1e-4}``.
    ``saves``: the vectors a transient keeps (:class:`memspice.circuit.Saves`);
    None: every node, source current and device state.
    ``device``: the compiled :class:`memspice.spice.osdi.OsdiModule` of the model
    (default: :func:`device_library`, compiled on first use and cached).
    A model with its own VACASK lines (:func:`has_vacask_lines`) writes its
    card, each cell's instance (``x0`` on its init parameter) and each state's
    ``save`` item.
    The transient's output step and largest step are both ``drive.max_step_s``,
    as in the ngspice deck (``.tran step stop 0 maxstep``).
    """
    net = network if network is not None else build_elements(Topology.of(crossbar, drive))
    if check:
        check_graph(to_graph(net))
    model = crossbar.model
    lib = device if device is not None else device_library(model)
    name = _node_names(net)
    topo = net.topology
    R, C = crossbar.rows, crossbar.cols
    dev = model.subckt_name  # the model card's name (device_model_card)
    own = has_vacask_lines(model)
    lines = [
        f"memspice crossbar: {crossbar.describe()}; {drive.label}",
        "// generated by memspice.circuit.vacask_writer; regenerate instead of editing",
        "// nodes: r<i>_<j>/c<i>_<j> row/column wire at cell (i, j); vr<i>/vc<j> source outputs;",
        "//        cb<j> column end; tin<j>/out<j> readout input/output; g<i> gate line (1T1R)",
        "",
        f"// ---- device model: Verilog-A {lib.source.name} compiled by openvaf-r",
        lib.load_line,
        'load "resistor.osdi"',
    ]
    if topo.cell == "1T1R":
        lines.append(f'load "{_SPICE_MOS[1][0]}"')
    lines += [
        device_model_card(model, lib),
        "model r resistor",
        "model vsource vsource",
    ]
    if topo.cell == "1T1R":
        lines += [f"// access transistor (circuits/{NMOS_FILE})", nmos_model_card()]
    if net.tia:
        lines += [
            "",
            f"// ---- readout amplifier: circuits/{TIA_FILE} in VACASK's dialect (the same VCVS and Rf)",
            "model vcvs vcvs",
            f"subckt {TIA_SUBCKT}(inp out)",
            f"  parameters {_tia_defaults()}",
            "  eamp (out 0 0 inp) vcvs gain=a_ol",
            "  rf (inp out) r r=rf_ohm",
            "ends",
        ]

    lines += ["", "// ---- sources"]
    for i, node in net.row_source.items():
        lines.append(f"vrow{i} ({name(node)} 0) vsource {_source(drive.rows[i])}")
    for j, node in net.col_source.items():
        lines.append(f"vcol{j} ({name(node)} 0) vsource {_source(drive.cols[j])}")
    acc = crossbar.access
    for i, node in net.gate_source.items():
        v_gate = acc.v_gate_on_v if drive.gates_on[i] else acc.v_gate_off_v
        lines.append(f"vgate{i} ({name(node)} 0) vsource dc={_num(v_gate)}")

    lines += ["", "// ---- wires, drivers, contacts (ohm per segment)"]
    for grp in net.resistors:
        value = _num(grp.ohm)
        lines += [f"{nm.lower()} ({name(a)} {name(b)}) r r={value}" for nm, a, b in zip(grp.names(), grp.a, grp.b)]

    lines += ["", f"// ---- cells ({crossbar.cell}, model {model.name}); x0 = initial state of each device"]
    x = crossbar.states
    for i in range(R):
        for j in range(C):
            p, n = name(net.device_p[i, j]), name(net.device_n[i, j])
            if own:
                lines.append(model.vacask_instance(f"x{i}_{j}", p, n, float(x[i, j])))
            else:
                lines.append(f"x{i}_{j} ({p} {n}) {dev} x0={x[i, j]:.17g}")
            if net.fet_d is not None:
                lines.append(
                    f"m{i}_{j} ({name(net.fet_d[i, j])} {name(net.fet_g[i, j])} {name(net.fet_s[i, j])} 0) {NMOS_MODEL} "
                    f"w={_num(acc.width_m)} l={_num(acc.length_m)}"
                )

    if net.ammeter:
        lines += ["", f"// ---- readout ({topo.readout.kind}); vsense<j> measures column j's current"]
        ro = topo.readout
        for j, (a, b) in net.ammeter.items():
            lines.append(f"vsense{j} ({name(a)} {name(b)}) vsource dc=0")
            if j in net.tia:
                tin, out = net.tia[j]
                lines.append(f"xtia{j} ({name(tin)} {name(out)}) {TIA_SUBCKT} rf_ohm={_num(ro.tia_feedback_ohm)} "
                             f"a_ol={_num(ro.tia_gain)}")

    lines += ["", "control"]
    if options:
        lines.append("  options " + " ".join(f"{k}={_option(v)}" for k, v in options.items()))
    if saves is None or not drive.is_transient:
        items = _saves(crossbar, net, name)
        cells = [(i, j) for i in range(R) for j in range(C)] if drive.is_transient else []
    else:
        items = [f"i({s})" for s in saves.source_names(net)]
        cells = saves.state_cells(R, C)
        items += [f"v({n})" for n in saves.terminal_nodes(net)]
    if own:
        items += [model.vacask_state_save(f"x{i}_{j}") for i, j in cells]
    else:
        items += [f'v("x{i}_{j}:{STATE_NODE}")' for i, j in cells]
    for k in range(0, len(items), 16):
        lines.append("  save " + " ".join(items[k:k + 16]))
    if drive.is_transient:
        step = _num(drive.max_step_s)
        lines.append(f"  analysis tran1 tran step={step} stop={_num(drive.t_stop_s)} maxstep={step}")
    else:
        lines.append("  analysis op1 op")
    lines.append("endc")
    return "\n".join(lines) + "\n"


def _option(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
