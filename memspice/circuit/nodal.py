"""Fast sparse nodal solver for the linear (read) crossbar, with wire, contact and driver resistance.

Modified nodal analysis reduced to plain nodal analysis: every element is a
conductance, sources fix node voltages. With the node set split into free
nodes U and fixed nodes F (ground, row/column source outputs, the virtual
ground), Kirchhoff's current law is

    G_UU v_U = -G_UF v_F

so ``G_UU`` (symmetric positive definite) is factorised once with SuperLU and
every read vector costs one pair of triangular solves; B vectors are solved
together as a (n_U, B) right-hand side.

Elements, as built by :func:`memspice.circuit.network.build_elements` (the
same table the SPICE deck is written from):
  * wire segments, drivers and sense resistors: conductance 1/R;
  * a cell: device conductance g in series with the contact R_c, one
    conductance g/(1 + g R_c) between its row and column nodes (the internal
    node is eliminated); the device voltage is v_cell / (1 + g R_c);
  * the TIA (circuits/tia.cir, VCVS gain A, feedback R_f): input conductance
    (1 + A)/R_f to ground, output v_out = -A v_in;
  * 0 V ammeters are merged away; 0-ohm elements were merged when the table was built.

Devices enter through their chord conductance at the read voltage, exact for
devices whose current is linear in v at fixed state (the resistor and VTEAM
models); for a non-linear I-V it is the linearisation at ``v_read``. 1T1R
cells (non-linear transistors) are not handled; use ngspice.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from memspice.circuit.crossbar import Crossbar, Readout
from memspice.circuit.network import DRIVEN, FLOATING, SENSED, ElementTable, Topology, build_elements
from memspice.circuit.results import ReadResult
from memspice.circuit.stimulus import Drive, ReadStimulus
from memspice.errors import CircuitError, ParameterError


class NodalSolver:
    """Factorises one crossbar's nodal matrix; :meth:`solve` then takes any number of input vectors.

    Build it with :meth:`for_crossbar` (conductances from the device model and
    states) or :meth:`from_conductances` (any (rows, cols) conductance matrix,
    e.g. a surrogate's). The solver is immutable after construction.
    """

    def __init__(self, topology: Topology, conductance_s):
        g = np.asarray(conductance_s, dtype=float)
        if g.shape != (topology.rows, topology.cols):
            raise ParameterError(
                f"conductance_s has shape {g.shape}, the crossbar is {topology.rows} x {topology.cols}"
            )
        if not np.all(np.isfinite(g)) or np.any(g < 0):
            bad = np.argwhere(~np.isfinite(g) | (g < 0))[0]
            raise ParameterError(
                f"conductance of cell ({bad[0]}, {bad[1]}) = {float(g[tuple(bad)])!r} S; conductances must be finite and >= 0"
            )
        if topology.cell != "1R":
            raise CircuitError(
                f"the nodal solver handles 1R crossbars only (this one is {topology.cell}: its access "
                "transistors are non-linear); use solver='ngspice'"
            )
        self.topology = topology
        self.conductance_s = g.copy()
        self.conductance_s.setflags(write=False)
        self.network: ElementTable = build_elements(topology)
        self._assemble()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def for_crossbar(cls, crossbar: Crossbar, stimulus: ReadStimulus | Drive | None = None,
                     *, v_read_v: float | None = None) -> "NodalSolver":
        """Solver for ``crossbar``; device conductances are chord values at ``v_read_v`` (default: the model's).

        ``stimulus`` only matters for its floating rows and columns.
        """
        if isinstance(stimulus, ReadStimulus):
            stimulus.check(crossbar.rows, crossbar.cols)
            stimulus = stimulus.drive(crossbar.rows, crossbar.cols)
        return cls(Topology.of(crossbar, stimulus), crossbar.conductances_s(v_read_v))

    @classmethod
    def from_conductances(cls, conductance_s, *, row_wire_ohm: float = 0.0, col_wire_ohm: float = 0.0,
                          contact_ohm: float = 0.0, driver_ohm: float = 0.0, readout: Readout | None = None,
                          floating_rows=(), floating_cols=(), driven_cols=()) -> "NodalSolver":
        """Solver for a (rows, cols) conductance matrix (S) without a device model.

        ``driven_cols``: columns held by a driver instead of the readout (writes).
        """
        g = np.asarray(conductance_s, dtype=float)
        if g.ndim != 2:
            raise ParameterError(f"conductance_s must be a (rows, cols) array, got shape {g.shape}")
        rows, cols = g.shape
        fr, fc, dc = set(floating_rows), set(floating_cols), set(driven_cols)
        topo = Topology(
            rows=rows, cols=cols, row_wire_ohm=row_wire_ohm, col_wire_ohm=col_wire_ohm, contact_ohm=contact_ohm,
            driver_ohm=driver_ohm, readout=readout or Readout(),
            row_driven=tuple(i not in fr for i in range(rows)),
            col_modes=tuple(FLOATING if j in fc else DRIVEN if j in dc else SENSED for j in range(cols)),
        )
        return cls(topo, g)

    # ------------------------------------------------------------------ assembly
    def _assemble(self) -> None:
        net, topo = self.network, self.topology
        n_raw = net.layout.n
        # merge the two terminals of every 0 V ammeter (the virtual ground joins ground itself)
        am = np.array(list(net.ammeter.values()), dtype=int).reshape(-1, 2)
        adj = sp.coo_matrix((np.ones(len(am)), (am[:, 0], am[:, 1])), shape=(n_raw, n_raw))
        _, label = connected_components(adj, directed=False)

        a_list, b_list, g_list = [], [], []
        for grp in net.resistors:
            if grp.prefix == "Rct":  # contacts are folded into the cell conductance below
                continue
            a_list.append(label[grp.a])
            b_list.append(label[grp.b])
            g_list.append(np.full(grp.a.size, 1.0 / grp.ohm))
        g = self.conductance_s
        rc = topo.contact_ohm
        self._g_eff = g / (1.0 + g * rc)  # device in series with its contact
        self._row_lab = label[net.cell_row_node].ravel()
        self._col_lab = label[net.cell_col_node].ravel()
        a_list.append(self._row_lab)
        b_list.append(self._col_lab)
        g_list.append(self._g_eff.ravel())
        ro = topo.readout
        tia_in = np.array([label[a] for a, _ in net.tia.values()], dtype=int)
        if tia_in.size:
            a_list.append(tia_in)
            b_list.append(np.full(tia_in.size, label[0]))
            g_list.append(np.full(tia_in.size, (1.0 + ro.tia_gain) / ro.tia_feedback_ohm))

        fixed_nodes = [label[0]] + [label[n] for n in net.row_source.values()] + [label[n] for n in net.col_source.values()]
        if len(set(fixed_nodes)) != len(fixed_nodes):
            raise CircuitError("short between driven lines: two sources set the same node; give the lines resistance")
        a = np.concatenate(a_list)
        b = np.concatenate(b_list)
        gv = np.concatenate(g_list)
        used, inv = np.unique(np.concatenate([np.asarray(fixed_nodes), a, b]), return_inverse=True)
        nf = len(fixed_nodes)
        fixed_c = inv[:nf]
        a_c = inv[nf:nf + a.size]
        b_c = inv[nf + a.size:]
        n = used.size
        lap = sp.coo_matrix(
            (np.concatenate([gv, gv, -gv, -gv]), (np.concatenate([a_c, b_c, a_c, b_c]), np.concatenate([a_c, b_c, b_c, a_c]))),
            shape=(n, n),
        ).tocsr()
        is_fixed = np.zeros(n, dtype=bool)
        is_fixed[fixed_c] = True
        free = np.flatnonzero(~is_fixed)
        self._n = n
        self._fixed = fixed_c  # order: ground, driven rows (ascending), driven columns (ascending)
        self._free = free
        self._compact = np.full(n_raw, -1)
        self._compact[used] = np.arange(n)
        self._label = label
        self._g_uf = lap[free][:, fixed_c].tocsr()
        self._lu = None
        if free.size:
            g_uu = lap[free][:, free].tocsc()
            try:
                self._lu = splu(g_uu, permc_spec="MMD_AT_PLUS_A")
            except RuntimeError as exc:  # "Factor is exactly singular"
                raise CircuitError(
                    f"the crossbar's nodal matrix is singular ({exc}): some node has no conducting path "
                    "to a source or to ground (e.g. a floating line whose cells all have zero conductance)"
                ) from None

    # ------------------------------------------------------------------ solving
    @property
    def n_unknowns(self) -> int:
        """Number of free node voltages in the factorised system."""
        return int(self._free.size)

    def node_voltages(self, v_rows_v, v_cols_v=None) -> np.ndarray:
        """(n_nodes, B) all node voltages in the solver's compact numbering."""
        topo = self.topology
        vr = np.atleast_2d(np.asarray(v_rows_v, dtype=float))
        if vr.ndim != 2 or vr.shape[1] != topo.rows:
            raise ParameterError(f"v_rows_v must have shape (rows,) or (B, rows) with rows = {topo.rows}, got {np.shape(v_rows_v)}")
        if not np.all(np.isfinite(vr)):
            raise ParameterError("v_rows_v contains non-finite voltages")
        bsz = vr.shape[0]
        driven_rows = list(self.network.row_source)
        driven_cols = list(self.network.col_source)
        if driven_cols:
            if v_cols_v is None:
                raise ParameterError(f"columns {driven_cols} are driven: give v_cols_v (cols,) or (B, cols)")
            vc = np.broadcast_to(np.atleast_2d(np.asarray(v_cols_v, dtype=float)), (bsz, topo.cols))
        v_fixed = np.zeros((len(self._fixed), bsz))
        v_fixed[1:1 + len(driven_rows)] = vr[:, driven_rows].T
        if driven_cols:
            v_fixed[1 + len(driven_rows):] = vc[:, driven_cols].T
        v = np.zeros((self._n, bsz))
        v[self._fixed] = v_fixed
        if self._lu is not None:
            v[self._free] = self._lu.solve(np.ascontiguousarray(-(self._g_uf @ v_fixed)))
        return v

    def read_port_fields(self, chunk: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The read's transfer matrix and each cell's voltage under a unit drive of its own row and column.

        For a read (every row driven, every column sensed by the ideal virtual
        ground, column wires > 0 ohm) returns ``(m, u, w)``, each (rows, cols):
        ``m[i, j]`` the current (A) into column j's ground per volt on row i,
        so a read is ``i_cols = v_rows @ m``; ``u[i, j]`` the voltage across
        cell (i, j) with row i at 1 V and every other port at 0 V; ``w[i, j]``
        the voltage across it with column j's end at 1 V instead (rows at
        0 V). By the adjoint (Tellegen) argument the sensitivity of an entry to
        its own cell is ``dm[i, j]/dg[i, j] = -u[i, j] w[i, j]`` (g the cell's
        element conductance, device and contact in series). Costs rows +
        cols solves on this factorisation, ``chunk`` at a time.
        """
        topo = self.topology
        if (topo.readout.kind != "virtual_ground" or self.network.col_source or not all(topo.row_driven)
                or any(m != SENSED for m in topo.col_modes) or not topo.col_wire_ohm > 0.0 or self._lu is None):
            raise ParameterError("read_port_fields needs a read: all rows driven, all columns sensed by the "
                                 "virtual-ground readout, and column wires of more than 0 ohm")
        rows, cols = topo.rows, topo.cols
        pos = np.full(self._n, -1)
        pos[self._free] = np.arange(self._free.size)
        ri = self._compact[self._row_lab].reshape(rows, cols)
        ci = self._compact[self._col_lab].reshape(rows, cols)
        last = ci[rows - 1]  # each column's node next to its readout
        g_end = 1.0 / topo.col_wire_ohm
        m, u, w = np.empty((rows, cols)), np.empty((rows, cols)), np.empty((rows, cols))
        for k in range(0, rows, chunk):
            idx = np.arange(k, min(k + chunk, rows))
            b = np.arange(idx.size)
            drive = np.zeros((idx.size, rows))
            drive[b, idx] = 1.0
            v = self.node_voltages(drive)
            m[idx] = v[last].T * g_end
            u[idx] = v[ri[idx], b[:, None]] - v[ci[idx], b[:, None]]
        for k in range(0, cols, chunk):
            jdx = np.arange(k, min(k + chunk, cols))
            b = np.arange(jdx.size)
            rhs = np.zeros((self._free.size, jdx.size))
            rhs[pos[last[jdx]], b] = g_end  # the end segment fed from 1 V; every fixed node at 0 V
            v = np.zeros((self._n, jdx.size))
            v[self._free] = self._lu.solve(rhs)
            w[:, jdx] = v[ri[:, jdx], b[None, :]] - v[ci[:, jdx], b[None, :]]
        return m, u, w

    def solve_changed(self, v_rows_v, conductance_s, *, rtol: float = 1e-12, max_iter: int = 30):
        """Column currents with the cells at ``conductance_s`` instead, reusing this factorisation.

        The same wiring with other cell conductances changes the nodal matrix
        only by the cells' terms, G' = G + dK. Iterative refinement with the
        factorised G as preconditioner, v_(k+1) = G^-1 (b - dK v_k), converges
        geometrically while dK is small next to G. Returns ``(i_cols_a (B, cols),
        iterations, converged)``; converged is False when the relative update of
        the voltages is still above ``rtol`` after ``max_iter`` iterations, the
        sign to factorise the changed matrix afresh. Rows driven, columns sensed
        (a read); ``v_rows_v`` (rows,) or (B, rows).
        """
        topo = self.topology
        g_new = np.asarray(conductance_s, dtype=float)
        if g_new.shape != (topo.rows, topo.cols) or not np.all(np.isfinite(g_new)) or np.any(g_new < 0):
            raise ParameterError(f"conductance_s must be finite, >= 0 and of shape {(topo.rows, topo.cols)}")
        if self.network.col_source:
            raise ParameterError("solve_changed handles reads (rows driven, columns sensed), not driven columns")
        g_eff_new = g_new / (1.0 + g_new * topo.contact_ohm)
        d_g = (g_eff_new - self._g_eff).ravel()
        v = self.node_voltages(v_rows_v)  # the solve at the factorised conductances: the first iterate
        ri, ci = self._compact[self._row_lab], self._compact[self._col_lab]
        iterations, converged = 0, self._lu is None or not np.any(d_g)
        if not converged:
            pos = np.full(self._n, -1)
            pos[self._free] = np.arange(self._free.size)
            n_cells = d_g.size
            # scatter of a cell current into its row node (+) and column node (-), free nodes only
            keep_r, keep_c = pos[ri] >= 0, pos[ci] >= 0
            scatter = sp.csr_matrix(
                (np.concatenate([np.ones(keep_r.sum()), -np.ones(keep_c.sum())]),
                 (np.concatenate([pos[ri][keep_r], pos[ci][keep_c]]),
                  np.concatenate([np.flatnonzero(keep_r), np.flatnonzero(keep_c)]))),
                shape=(self._free.size, n_cells),
            )
            rhs0 = self._g_uf @ v[self._fixed]
            for iterations in range(1, max_iter + 1):
                d_inj = d_g[:, None] * (v[ri] - v[ci])
                new = self._lu.solve(np.ascontiguousarray(-(rhs0 + scatter @ d_inj)))
                step = np.linalg.norm(new - v[self._free]) / max(np.linalg.norm(new), 1e-300)
                v[self._free] = new
                if step <= rtol:
                    converged = True
                    break
        bsz = v.shape[1]
        v_cell = (v[ri] - v[ci]).T.reshape(bsz, topo.rows, topo.cols)
        i_cols = (v_cell * g_eff_new).sum(axis=1)
        i_cols[:, [j for j, m in enumerate(topo.col_modes) if m == FLOATING]] = 0.0
        return i_cols, iterations, converged

    def solve(self, v_rows_v, v_cols_v=None) -> ReadResult:
        """Solve for row voltages (rows,) or (B, rows) (V); columns driven in a write take ``v_cols_v``.

        Returns a batched :class:`ReadResult` (leading axis B, also for a single vector).
        """
        topo = self.topology
        v = self.node_voltages(v_rows_v, v_cols_v)
        if not np.all(np.isfinite(v)):
            raise CircuitError(
                "the nodal solve gave non-finite voltages: the conductance matrix is singular or its values "
                f"overflow (largest conductance {np.max(np.abs(self.conductance_s)):.3g} S); check for resistances "
                "too small to invert (use 0 for an ideal connection) or conductances that are inf/nan"
            )
        bsz = v.shape[1]
        r, c = topo.rows, topo.cols
        v_total = (v[self._compact[self._row_lab]] - v[self._compact[self._col_lab]]).T.reshape(bsz, r, c)
        g = self.conductance_s
        i_cells = v_total * self._g_eff
        v_dev = v_total / (1.0 + g * topo.contact_ohm)
        # KCL: a column (row) wire connects only its cells and its end, so the end current is the cells' sum
        i_cols = i_cells.sum(axis=1)
        i_rows = i_cells.sum(axis=2)
        floating_c = [j for j, m in enumerate(topo.col_modes) if m == FLOATING]
        i_cols[:, floating_c] = 0.0
        i_rows[:, [k for k, d in enumerate(topo.row_driven) if not d]] = 0.0
        v_out = np.full((bsz, c), np.nan)
        for j, (tin, _) in self.network.tia.items():
            v_out[:, j] = -topo.readout.tia_gain * v[self._compact[self._label[tin]]]
        if topo.readout.kind == "sense_resistor":
            for j, node in self.network.sense_node.items():
                v_out[:, j] = v[self._compact[self._label[node]]]
        return ReadResult(i_cols_a=i_cols, i_rows_a=i_rows, v_cells_v=v_dev, i_cells_a=i_cells, v_out_v=v_out, solver="nodal")


def solve_read(crossbar_or_conductance, v_rows_v, *, stimulus: ReadStimulus | None = None, **wiring) -> ReadResult:
    """One-shot read: factorise and solve.

    ``crossbar_or_conductance``: a :class:`Crossbar`, or a (rows, cols)
    conductance matrix (S) with the wiring as keywords (``row_wire_ohm``,
    ``col_wire_ohm``, ``contact_ohm``, ``driver_ohm``, ``readout``,
    ``floating_rows``, ``floating_cols``). ``v_rows_v``: (rows,) or (B, rows).
    To solve many batches for one crossbar keep a :class:`NodalSolver`.
    """
    if isinstance(crossbar_or_conductance, Crossbar):
        if wiring:
            raise ParameterError(f"wiring keywords {sorted(wiring)} apply to a conductance matrix; a Crossbar has its own")
        solver = NodalSolver.for_crossbar(crossbar_or_conductance, stimulus)
    else:
        solver = NodalSolver.from_conductances(crossbar_or_conductance, **wiring)
    return solver.solve(v_rows_v)
