"""Imported Verilog-A devices: a user's own compact model, compiled by openvaf-r, simulated in VACASK.

Stage 3 of the layer order (docs/design.md): may import memspice.devices and
memspice.spice (and the foundation modules), nothing later.

>>> from memspice.external import import_verilog_a
>>> dev = import_verilog_a("my_cell.va", state="gap")    # doctest: +SKIP
>>> dev.conductance(0.5), dev.interface.parameters      # doctest: +SKIP

Modules: ``interface`` (what the compiled module declares), ``model`` (the
device: state, read table, VACASK lines), ``importer`` (terminal and state
mapping, the read table measured in VACASK), ``card`` (the TOML card
``memspice models import`` writes, and the user's folder of them).
A :class:`memspice.circuit.Crossbar` takes an :class:`ExternalModel` as its
model; ``memspice.circuit.read(..., solver="vacask")`` and
``memspice.circuit.write(..., RunSettings(engine="vacask"))`` run it.
"""

from memspice.external.card import imported_cards, load_external_card, user_models_dir, write_external_card
from memspice.external.importer import import_verilog_a, measure_read_table
from memspice.external.interface import VerilogAInterface, VerilogAParameter, inspect_verilog_a
from memspice.external.model import STATE_KINDS, ExternalModel, ReadTable, StateSpec
from memspice.external.registry import imported_model_names, is_imported, model_names, resolve_model

__all__ = [
    "STATE_KINDS",
    "ExternalModel",
    "ReadTable",
    "StateSpec",
    "VerilogAInterface",
    "VerilogAParameter",
    "imported_cards",
    "imported_model_names",
    "is_imported",
    "model_names",
    "resolve_model",
    "import_verilog_a",
    "inspect_verilog_a",
    "load_external_card",
    "measure_read_table",
    "user_models_dir",
    "write_external_card",
]
