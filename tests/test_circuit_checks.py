"""Bad crossbar specs and ill-formed circuits raise clear errors that name the culprit."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.circuit.crossbar import Crossbar, Readout
from memspice.circuit.network import Topology, build_elements, check_graph, to_graph
from memspice.circuit.nodal import NodalSolver, solve_read
from memspice.circuit.stimulus import CoincidenceTrain, ReadStimulus, Waveform, WriteScheme
from memspice.devices import get_model
from memspice.errors import CircuitError, ParameterError

RESISTOR = get_model("resistor")


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(states=np.zeros((0, 4))), ["at least 1 row", "0 x 4"]),
        (dict(states=np.zeros(4)), ["(rows, cols)", "(4,)"]),
        (dict(states=np.full((2, 2), 1.5)), ["(0, 0)", "1.5", "[0, 1]"]),
        (dict(states=np.full((2, 2), 0.5), row_wire_ohm=-1.0), ["row_wire_ohm", "-1.0", ">= 0"]),
        (dict(states=np.full((2, 2), 0.5), contact_ohm=float("nan")), ["contact_ohm", "nan"]),
        (dict(states=np.full((2, 2), 0.5), cell="2T2R"), ["2T2R", "1R, 1T1R"]),
    ],
)
def test_bad_crossbar_specs_raise_parameter_errors(kwargs, words):
    with pytest.raises(ParameterError) as err:
        Crossbar(RESISTOR, **kwargs)
    for w in words:
        assert w in str(err.value)


def test_bad_readout_and_model():
    with pytest.raises(ParameterError, match="'opamp'"):
        Readout(kind="opamp")
    with pytest.raises(ParameterError, match="sense_ohm"):
        Readout(kind="sense_resistor", sense_ohm=0.0)
    with pytest.raises(ParameterError, match="get_model"):
        Crossbar("vteam", np.zeros((2, 2)))


def test_mismatched_shapes_raise():
    xb = Crossbar.uniform(RESISTOR, 3, 4)
    with pytest.raises(ParameterError, match="2 row voltages, the crossbar has 3 rows"):
        ReadStimulus([0.1, 0.2]).check(3, 4)
    with pytest.raises(ParameterError, match=r"shape \(2, 2\), the crossbar is 3 x 4"):
        NodalSolver(Topology(rows=3, cols=4), np.ones((2, 2)))
    with pytest.raises(ParameterError, match="rows = 3"):
        NodalSolver.for_crossbar(xb).solve(np.ones((2, 4)))
    with pytest.raises(ParameterError, match=r"new states have shape \(4, 3\)"):
        xb.with_states(np.zeros((4, 3)))
    with pytest.raises(ParameterError, match="cell \\(1, 0\\) = -1"):
        solve_read(np.array([[1.0, 1.0], [-1.0, 1.0]]), [0.1, 0.1])


def test_bad_stimuli_raise():
    with pytest.raises(ParameterError, match="outside 0..3"):
        WriteScheme(1.0, (4, 0)).drive(4, 4)
    with pytest.raises(ParameterError, match="'v/4'"):
        WriteScheme(1.0, (0, 0), scheme="v/4")
    with pytest.raises(ParameterError, match="increase strictly"):
        Waveform(v_v=(0, 1, 0), t_s=(0, 2e-9, 1e-9))
    with pytest.raises(ParameterError, match="probabilities in \\[0, 1\\]"):
        CoincidenceTrain.draw([0.5, 1.2], [0.1], 10, np.random.default_rng(0), amplitude_v=1.0)
    with pytest.raises(ParameterError, match="Generator"):
        CoincidenceTrain.draw([0.5], [0.1], 10, 7, amplitude_v=1.0)
    with pytest.raises(ParameterError, match="every row is floating"):
        ReadStimulus([0.1, 0.1], floating_rows=(0, 1)).check(2, 2)


def test_nodal_solver_refuses_1t1r():
    with pytest.raises(CircuitError, match="1R crossbars only.*ngspice"):
        NodalSolver.for_crossbar(Crossbar.uniform(RESISTOR, 2, 2, cell="1T1R"))


# ------------------------------------------------------------------ graph checks
def _graph(**kw):
    return to_graph(build_elements(Topology(rows=2, cols=3, row_wire_ohm=1.0, col_wire_ohm=1.0, **kw)))


def test_well_formed_crossbars_pass_the_checks():
    # every combination of cell, readout and line mode the generator can write
    for cell in ("1R", "1T1R"):
        for kind in ("virtual_ground", "tia", "sense_resistor"):
            check_graph(_graph(cell=cell, readout=Readout(kind=kind), row_driven=(True, False), col_modes=("sensed", "floating", "driven")))


def test_floating_node_is_named():
    g = _graph()
    g.remove_edge("r0_1", "r0_2")  # cut the row wire: r0_2 keeps only its cell ...
    g.remove_edges_from([("r0_2", "c0_2")])  # ... and losing the cell leaves it dangling
    with pytest.raises(CircuitError, match="r0_2"):
        check_graph(g)


def test_unconnected_cell_is_named():
    g = _graph()
    # remove both wire segments at row node r1_2 (the last cell of row 1): X1_2 hangs from nothing
    g.remove_edge("r1_1", "r1_2")
    with pytest.raises(CircuitError, match="cell X1_2 is not connected: its terminal r1_2"):
        check_graph(g)


def test_node_without_dc_path_is_named():
    g = _graph()
    # an island: two nodes joined by a resistor and a capacitor-like (non-DC) element only
    g.add_edge("island1", "island2", name="Rfloat", kind="resistor", dc=True, drives=None)
    g.add_edge("island1", "island2", name="Cfloat", kind="capacitor", dc=False, drives=None)
    with pytest.raises(CircuitError, match="no DC path to ground.*island1"):
        check_graph(g)


def test_short_between_driven_lines_is_named():
    g = _graph(driver_ohm=10.0)  # with a driver resistance the source output keeps its own name vr1
    g.add_edge("vr1", "0", name="Vextra", kind="vsource", dc=True, drives="vr1")
    with pytest.raises(CircuitError, match="short between driven lines: Vrow1 and Vextra both set node vr1"):
        check_graph(g)


def test_zero_ohm_merge_that_joins_two_sources_is_a_short():
    # A driven column with ideal wires and driver: its source node merges into the column, and a
    # floating-row read cannot create a short; but a 1x1 write whose row and column are both
    # driven through 0 ohm is fine (the cell separates them). A 0-ohm path between two sources
    # can only come from an edited network: check that build_elements catches it via _check_sources.
    net = build_elements(Topology(rows=1, cols=1, col_modes=("driven",)))
    assert net.row_source[0] != net.col_source[0]
    g = to_graph(net)
    g.add_edge("r0_0", "c0_0", name="Rshort", kind="resistor", dc=True, drives=None, value=0.0)
    check_graph(g)  # a resistor between two driven nodes is legal ...
    g.add_edge("c0_0", "0", name="Vsh", kind="vsource", dc=True, drives="r0_0")
    with pytest.raises(CircuitError, match="short between driven lines"):
        check_graph(g)
