"""The crossbar's circuit as a table of elements on numbered nodes; graph and checks.

One source of truth for the topology: :func:`build_elements` lists every
element (wire segments, drivers, contacts, devices, access transistors,
readout) on integer node numbers. The SPICE writer prints it, the nodal solver
assembles its conductance matrix from the same arrays, and :func:`to_graph`
turns it into a networkx graph for :func:`check_graph`.

Node names (stable and readable)::

    r{i}_{j}  row wire at cell (i, j)        c{i}_{j}  column wire at cell (i, j)
    a{i}_{j}  between contact and device     d{i}_{j}  between device and NMOS drain (1T1R)
    rin{i}    row end after the driver       vr{i}     row source output
    g{i}      gate line of row i (1T1R)      cb{j}     bottom end of column j
    vc{j}     column source output (writes)  tin{j}    readout input behind the ammeter
    out{j}    TIA output

Element names: ``Rdr{i}``/``Rdc{j}`` drivers, ``Rwr{i}_{j}``/``Rwc{i}_{j}`` wire
segments, ``Rct{i}_{j}`` contacts, ``X{i}_{j}`` devices, ``M{i}_{j}``
transistors, ``Vrow{i}``/``Vcol{j}``/``Vgate{i}`` sources, ``Vsense{j}`` 0 V
ammeters, ``Xtia{j}`` amplifiers, ``Rsense{j}`` sense resistors.

A resistance of exactly 0 ohm is not written as a resistor: its two nodes are
merged (the node keeps the name of the lower-numbered one, e.g. with ideal
wires every cell of row i sits on ``r{i}_0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from memspice.circuit.crossbar import CELL_TYPES, READOUT_KINDS, Crossbar, Readout
from memspice.circuit.stimulus import SENSE, Drive
from memspice.errors import CircuitError, ParameterError

#: column modes in a Topology
DRIVEN, SENSED, FLOATING = "driven", "sensed", "floating"


@dataclass(frozen=True)
class Topology:
    """Everything that fixes the circuit's structure (not the device states or source values)."""

    rows: int
    cols: int
    cell: str = "1R"
    row_wire_ohm: float = 0.0
    col_wire_ohm: float = 0.0
    contact_ohm: float = 0.0
    driver_ohm: float = 0.0
    readout: Readout = Readout()
    row_driven: tuple[bool, ...] | None = None  #: None: every row driven
    col_modes: tuple[str, ...] | None = None  #: per column DRIVEN/SENSED/FLOATING; None: every column sensed

    def __post_init__(self):
        if int(self.rows) != self.rows or int(self.cols) != self.cols or self.rows < 1 or self.cols < 1:
            raise ParameterError(f"a crossbar needs at least 1 row and 1 column, got {self.rows!r} x {self.cols!r}")
        if self.cell not in CELL_TYPES:
            raise ParameterError(f"cell type {self.cell!r} is unknown; choose one of {', '.join(CELL_TYPES)}")
        if self.readout.kind not in READOUT_KINDS:
            raise ParameterError(f"readout kind {self.readout.kind!r} is unknown")
        for name in ("row_wire_ohm", "col_wire_ohm", "contact_ohm", "driver_ohm"):
            v = float(getattr(self, name))
            if not np.isfinite(v) or v < 0:
                raise ParameterError(f"{name} = {v!r} must be a finite resistance >= 0 ohm")
        rd = (True,) * self.rows if self.row_driven is None else tuple(bool(x) for x in self.row_driven)
        cm = (SENSED,) * self.cols if self.col_modes is None else tuple(self.col_modes)
        if len(rd) != self.rows or len(cm) != self.cols:
            raise ParameterError(f"line modes for {len(rd)} rows x {len(cm)} columns, crossbar is {self.rows} x {self.cols}")
        bad = [m for m in cm if m not in (DRIVEN, SENSED, FLOATING)]
        if bad:
            raise ParameterError(f"column mode {bad[0]!r} is unknown; use {DRIVEN!r}, {SENSED!r} or {FLOATING!r}")
        object.__setattr__(self, "row_driven", rd)
        object.__setattr__(self, "col_modes", cm)

    @classmethod
    def of(cls, crossbar: Crossbar, drive: Drive | None = None) -> "Topology":
        """The topology of ``crossbar`` under ``drive`` (None: a read with every line connected)."""
        row_driven = col_modes = None
        if drive is not None:
            if len(drive.rows) != crossbar.rows or len(drive.cols) != crossbar.cols:
                raise ParameterError(
                    f"the stimulus drives {len(drive.rows)} rows x {len(drive.cols)} columns, "
                    f"the crossbar is {crossbar.rows} x {crossbar.cols}"
                )
            row_driven = tuple(w is not None for w in drive.rows)
            col_modes = tuple(FLOATING if w is None else SENSED if isinstance(w, str) and w == SENSE else DRIVEN for w in drive.cols)
        return cls(
            rows=crossbar.rows, cols=crossbar.cols, cell=crossbar.cell, row_wire_ohm=crossbar.row_wire_ohm,
            col_wire_ohm=crossbar.col_wire_ohm, contact_ohm=crossbar.contact_ohm, driver_ohm=crossbar.driver_ohm,
            readout=crossbar.readout, row_driven=row_driven, col_modes=col_modes,
        )


class _Layout:
    """Raw node numbering: ground 0, then blocks per node kind."""

    GRID = ("r", "c", "a", "d")  # (rows, cols) blocks
    ROW = ("rin", "vr", "g")  # per-row blocks
    COL = ("cb", "vc", "tin", "out")  # per-column blocks

    def __init__(self, rows: int, cols: int):
        self.rows, self.cols = rows, cols
        self.offset: dict[str, int] = {}
        self.starts: list[tuple[int, str]] = []
        k = 1
        for prefix in self.GRID + self.ROW + self.COL:
            self.offset[prefix] = k
            self.starts.append((k, prefix))
            k += rows * cols if prefix in self.GRID else rows if prefix in self.ROW else cols
        self.n = k
        self._start_arr = np.array([s for s, _ in self.starts])

    def grid(self, prefix: str, i=None, j=None) -> np.ndarray:
        """Node numbers of a grid block: all (rows, cols), or at (i, j)."""
        base = self.offset[prefix]
        if i is None:
            return base + np.arange(self.rows * self.cols).reshape(self.rows, self.cols)
        return base + np.asarray(i) * self.cols + np.asarray(j)

    def line(self, prefix: str, k=None) -> np.ndarray:
        n = self.rows if prefix in self.ROW else self.cols
        return self.offset[prefix] + (np.arange(n) if k is None else np.asarray(k))

    def name(self, node: int) -> str:
        node = int(node)
        if node == 0:
            return "0"
        b = int(np.searchsorted(self._start_arr, node, side="right")) - 1
        start, prefix = self.starts[b]
        k = node - start
        if prefix in self.GRID:
            return f"{prefix}{k // self.cols}_{k % self.cols}"
        return f"{prefix}{k}"


@dataclass(frozen=True, eq=False)
class ResistorGroup:
    """Resistors of one kind: ``a``, ``b`` node numbers (after merging), value, and name labels."""

    prefix: str  #: element name prefix, e.g. "Rwr"
    a: np.ndarray
    b: np.ndarray
    ohm: float
    label_i: np.ndarray  #: per resistor the row (or line) index in its name
    label_j: np.ndarray | None  #: per resistor the column index, None for per-line elements ("Rdr3")

    def names(self) -> list[str]:
        """Element names, e.g. ``Rwr3_7`` (built on demand: the nodal solver never needs them)."""
        if self.label_j is None:
            return [f"{self.prefix}{i}" for i in self.label_i.tolist()]
        return [f"{self.prefix}{i}_{j}" for i, j in zip(self.label_i.tolist(), self.label_j.tolist())]


@dataclass(frozen=True, eq=False)
class ElementTable:
    """The element table of one crossbar circuit (node numbers are already merged representatives)."""

    topology: Topology
    layout: _Layout
    rep: np.ndarray  #: raw node -> representative raw node
    resistors: tuple[ResistorGroup, ...]  #: non-zero resistors, by kind
    cell_row_node: np.ndarray  #: (rows, cols) the cell's top: row-wire node (before the contact)
    cell_col_node: np.ndarray  #: (rows, cols) the cell's bottom: column-wire node
    device_p: np.ndarray  #: (rows, cols) device + terminal
    device_n: np.ndarray  #: (rows, cols) device - terminal
    fet_d: np.ndarray | None  #: (rows, cols) 1T1R drain / gate / source nodes
    fet_g: np.ndarray | None
    fet_s: np.ndarray | None
    row_source: dict[int, int]  #: driven row i -> node of Vrow{i}'s + terminal
    col_source: dict[int, int]  #: driven column j -> node of Vcol{j}'s + terminal
    gate_source: dict[int, int]  #: row i -> node of Vgate{i} (1T1R)
    ammeter: dict[int, tuple[int, int]]  #: sensed column j -> (+, -) nodes of Vsense{j}
    tia: dict[int, tuple[int, int]]  #: sensed column j -> (input, output) of Xtia{j}
    sense_node: dict[int, int]  #: sensed column j -> node whose voltage is the readout output

    def name(self, node) -> str:
        return self.layout.name(int(node))


def build_elements(topo: Topology) -> ElementTable:
    """The element table of ``topo`` with every 0-ohm resistor merged away."""
    R, C = topo.rows, topo.cols
    L = _Layout(R, C)
    ii, jj = np.meshgrid(np.arange(R), np.arange(C), indexing="ij")
    rnode, cnode, anode, dnode = (L.grid(p) for p in ("r", "c", "a", "d"))
    groups: list[tuple[str, np.ndarray, np.ndarray, float, tuple]] = []

    def label2(i, j):
        return (np.ravel(i), np.ravel(j))

    driven_rows = np.flatnonzero(topo.row_driven)
    groups.append(("Rdr", L.line("vr", driven_rows), L.line("rin", driven_rows), topo.driver_ohm, (driven_rows, None)))
    # row wire: segment 0 from the driver end to cell 0 (driven rows only), segment j between cells j-1 and j
    groups.append(("Rwr", L.line("rin", driven_rows), rnode[driven_rows, 0], topo.row_wire_ohm, label2(driven_rows, np.zeros_like(driven_rows))))
    if C > 1:
        groups.append(("Rwr", rnode[:, :-1].ravel(), rnode[:, 1:].ravel(), topo.row_wire_ohm, label2(ii[:, 1:], jj[:, 1:])))
    # column wire: segment i between cells i and i+1, the last one from cell R-1 to the column end cb_j
    if R > 1:
        groups.append(("Rwc", cnode[:-1, :].ravel(), cnode[1:, :].ravel(), topo.col_wire_ohm, label2(ii[:-1, :], jj[:-1, :])))
    modes = np.array(topo.col_modes)
    ended = np.flatnonzero(modes != FLOATING)
    groups.append(("Rwc", cnode[R - 1, ended], L.line("cb", ended), topo.col_wire_ohm, label2(np.full_like(ended, R - 1), ended)))
    driven_cols = np.flatnonzero(modes == DRIVEN)
    groups.append(("Rdc", L.line("vc", driven_cols), L.line("cb", driven_cols), topo.driver_ohm, (driven_cols, None)))
    groups.append(("Rct", rnode.ravel(), anode.ravel(), topo.contact_ohm, label2(ii, jj)))
    sensed = np.flatnonzero(modes == SENSED)
    if topo.readout.kind == "sense_resistor":
        groups.append(("Rsense", L.line("tin", sensed), np.zeros_like(sensed), topo.readout.sense_ohm, (sensed, None)))

    # merge the nodes of every 0-ohm resistor (connected components of the zero-resistance graph)
    za = [np.asarray(a) for p, a, b, ohm, _ in groups if ohm == 0 and len(a)]
    zb = [np.asarray(b) for p, a, b, ohm, _ in groups if ohm == 0 and len(a)]
    if za:
        a, b = np.concatenate(za), np.concatenate(zb)
        adj = coo_matrix((np.ones(a.size), (a, b)), shape=(L.n, L.n))
        _, comp = connected_components(adj, directed=False)
        first = np.full(comp.max() + 1, L.n)
        np.minimum.at(first, comp, np.arange(L.n))
        rep = first[comp]
    else:
        rep = np.arange(L.n)

    resistors = tuple(
        ResistorGroup(prefix=p, a=rep[np.asarray(a, dtype=int)], b=rep[np.asarray(b, dtype=int)], ohm=float(ohm),
                      label_i=np.asarray(lab[0]), label_j=None if lab[1] is None else np.asarray(lab[1]))
        for p, a, b, ohm, lab in groups
        if ohm != 0 and len(a)
    )
    onet = topo.cell == "1T1R"
    device_n = dnode if onet else cnode
    row_source = {int(i): int(rep[L.line("vr", i)]) for i in driven_rows}
    col_source = {int(j): int(rep[L.line("vc", j)]) for j in driven_cols}
    gate_source = {int(i): int(L.line("g", i)) for i in range(R)} if onet else {}
    ro = topo.readout.kind
    ammeter, tia, sense_node = {}, {}, {}
    for j in sensed:
        cb, tin = int(rep[L.line("cb", j)]), int(L.line("tin", j))
        ammeter[int(j)] = (cb, 0 if ro == "virtual_ground" else tin)
        if ro == "tia":
            tia[int(j)] = (tin, int(L.line("out", j)))
            sense_node[int(j)] = int(L.line("out", j))
        elif ro == "sense_resistor":
            sense_node[int(j)] = tin
    net = ElementTable(
        topology=topo, layout=L, rep=rep, resistors=resistors,
        cell_row_node=rep[rnode], cell_col_node=rep[cnode], device_p=rep[anode], device_n=rep[device_n],
        fet_d=rep[dnode] if onet else None, fet_g=np.broadcast_to(L.line("g")[:, None], (R, C)) if onet else None,
        fet_s=rep[cnode] if onet else None,
        row_source=row_source, col_source=col_source, gate_source=gate_source,
        ammeter=ammeter, tia=tia, sense_node=sense_node,
    )
    _check_sources(net)
    return net


def _check_sources(net: ElementTable) -> None:
    """Two sources on one node, or a source shorted to ground, after merging 0-ohm connections."""
    owners: dict[int, str] = {0: "ground"}
    sources = [(f"Vrow{i}", n) for i, n in net.row_source.items()] + [(f"Vcol{j}", n) for j, n in net.col_source.items()]
    sources += [(f"Vgate{i}", n) for i, n in net.gate_source.items()]
    sources += [(f"Vsense{j}", a) for j, (a, b) in net.ammeter.items() if b == 0]
    for name, node in sources:
        if node in owners:
            raise CircuitError(
                f"short between driven lines: {name} and {owners[node]} both set node {net.name(node)} "
                "(a 0-ohm path joins them); give the wires or drivers a resistance > 0"
            )
        owners[node] = name


# ----------------------------------------------------------------------------- graph and checks
def to_graph(net: ElementTable, *, device_label: str = "device") -> nx.MultiGraph:
    """The circuit as a networkx MultiGraph: nodes are node names, edges elements.

    Edge attributes: ``name`` (SPICE element name), ``kind`` (resistor, device,
    vsource, ammeter, nmos_channel, nmos_gate, tia_input, tia_output), ``dc``
    (True when the element conducts at DC), ``drives`` (the node a source or
    amplifier output sets, or None).
    """
    g = nx.MultiGraph()
    g.add_node("0")
    name = net.name
    for grp in net.resistors:
        for nm, a, b in zip(grp.names(), grp.a, grp.b):
            g.add_edge(name(a), name(b), name=nm, kind="resistor", dc=True, drives=None, value=grp.ohm)
    R, C = net.topology.rows, net.topology.cols
    for i in range(R):
        for j in range(C):
            g.add_edge(name(net.device_p[i, j]), name(net.device_n[i, j]), name=f"X{i}_{j}", kind=device_label, dc=True, drives=None)
            if net.fet_d is not None:
                g.add_edge(name(net.fet_d[i, j]), name(net.fet_s[i, j]), name=f"M{i}_{j}", kind="nmos_channel", dc=True, drives=None)
                g.add_edge(name(net.fet_g[i, j]), "0", name=f"M{i}_{j}", kind="nmos_gate", dc=False, drives=None)
    for prefix, table in (("Vrow", net.row_source), ("Vcol", net.col_source), ("Vgate", net.gate_source)):
        for k, node in table.items():
            g.add_edge(name(node), "0", name=f"{prefix}{k}", kind="vsource", dc=True, drives=name(node))
    for j, (a, b) in net.ammeter.items():
        g.add_edge(name(a), name(b), name=f"Vsense{j}", kind="ammeter", dc=True, drives=None)
    for j, (a, b) in net.tia.items():
        g.add_edge(name(a), "0", name=f"Xtia{j}", kind="tia_input", dc=False, drives=None)
        g.add_edge(name(b), "0", name=f"Xtia{j}", kind="tia_output", dc=True, drives=name(b))
        g.add_edge(name(a), name(b), name=f"Xtia{j}.Rf", kind="resistor", dc=True, drives=None)
    return g


def check_graph(g: nx.MultiGraph) -> None:
    """Raise CircuitError naming the node or element when the circuit is ill-formed.

    Checks, in order:
      * short: a voltage source whose two terminals are one node, or two
        voltage sources setting the same node;
      * unconnected cell: a device terminal that touches nothing but the device;
      * floating node: a node with a single element terminal that no source drives;
      * no DC path: a node whose DC-conducting elements do not reach ground
        (ngspice would stop with a singular matrix).
    """
    driven: dict[str, str] = {}
    for a, b, d in g.edges(data=True):
        if d["kind"] in ("vsource", "ammeter") and a == b:
            raise CircuitError(f"short: source {d['name']} has both terminals on node {a}")
        if d.get("drives"):
            node = d["drives"]
            if node in driven and driven[node] != d["name"]:
                raise CircuitError(f"short between driven lines: {driven[node]} and {d['name']} both set node {node}")
            driven[node] = d["name"]
    for a, b, d in g.edges(data=True):
        if d["kind"] == "device":
            for node in (a, b):
                if node != "0" and g.degree(node) < 2:
                    raise CircuitError(
                        f"cell {d['name']} is not connected: its terminal {node} touches nothing but the device"
                    )
    for node in g.nodes:
        if node != "0" and g.degree(node) < 2 and node not in driven:
            names = [d["name"] for _, _, d in g.edges(node, data=True)] or ["nothing"]
            raise CircuitError(f"floating node {node}: only {names[0]} connects to it")
    dc = nx.Graph()
    dc.add_nodes_from(g.nodes)
    dc.add_edges_from((a, b) for a, b, d in g.edges(data=True) if d["dc"])
    grounded = nx.node_connected_component(dc, "0")
    lost = [n for n in g.nodes if n not in grounded]
    if lost:
        raise CircuitError(
            f"node {lost[0]} has no DC path to ground ({len(lost)} such node(s), e.g. {', '.join(sorted(lost)[:5])}); "
            "connect it through a resistor, a driver or the readout"
        )
