"""What a compiled Verilog-A module offers (terminals, nodes, parameters, output variables), read on import.

:func:`inspect_verilog_a` compiles the source with openvaf-r
(:func:`memspice.spice.osdi.compile_va`, cached by content hash; a compile
error raises ``VerilogACompileError`` with the compiler's message and the
source line), reads module name, terminals, internal nodes, parameter kinds
(model or ``(*type="instance"*)``) and output variables from the compiled
library's OSDI descriptor (:mod:`memspice.spice.osdi_descriptor`, the table
VACASK reads), and the parameters' defaults and ``from`` ranges with the
``verilogae`` package (OpenVAF's front end, which evaluates the default
expressions).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from memspice.devices.definition import interval_text
from memspice.errors import ParameterError
from memspice.spice.osdi import compile_va
from memspice.spice.osdi_descriptor import read_osdi_descriptors

__all__ = ["VerilogAInterface", "VerilogAParameter", "inspect_verilog_a"]

def _verilogae_params(source: Path, module: str) -> dict:
    """Defaults and ranges of ``module``'s parameters, from the ``verilogae`` front end.

    verilogae prints its build messages on the process's own stdout/stderr;
    they are diverted to a temporary file (and reported only on failure).
    """
    try:
        import verilogae
    except ImportError:
        raise ParameterError("reading Verilog-A parameter defaults needs the Python package verilogae; "
                             "install it with `pip install verilogae`") from None
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            info = verilogae.load_info(str(source), module=module)
            failure = None
        except Exception as exc:  # noqa: BLE001 -- verilogae raises plain Exceptions; reported below
            info, failure = None, exc
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        sink.seek(0)
        said = sink.read().decode("utf-8", "replace")
    if info is None:
        raise ParameterError(f"verilogae could not read the parameters of module {module} in {source} "
                             f"({failure}): {said.strip()[-800:]}")
    return {name: p for name, p in info.modelcard.items()}


@dataclass(frozen=True)
class VerilogAParameter:
    """One parameter of a Verilog-A module, as the compiled model declares it.

    ``default`` is the declared default (units as the module uses them,
    ``units`` when the module says); ``low``/``high`` the ``from`` range
    (None: unbounded on that side); ``kind`` is ``"instance"`` for a parameter
    marked ``(*type="instance"*)`` (each cell of a crossbar may have its own
    value), else ``"model"`` (one value on the model card).
    """

    name: str
    default: float | str
    kind: str = "model"
    type: str = "real"
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = False
    high_inclusive: bool = False
    units: str = ""
    description: str = ""
    declared_as: str = ""
    """The name as the .va file spells it (``name`` is its lower-case form, the one VACASK reads)."""

    def range_text(self) -> str:
        return interval_text(self.low, self.high, self.low_inclusive, self.high_inclusive)

    def check(self, value, module: str) -> float:
        """``value`` as a number inside the declared range, else ParameterError naming module, parameter and range."""
        if self.type == "string":
            raise ParameterError(f"{module}: parameter {self.name} is a string parameter; memspice sets only "
                                 "real and integer parameters (leave it at its default)")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{module}: parameter {self.name} must be a number in {self.range_text()}, "
                                 f"got {value!r}") from None
        ok = math.isfinite(value)
        if ok and self.low is not None:
            ok = value >= self.low if self.low_inclusive else value > self.low
        if ok and self.high is not None:
            ok = value <= self.high if self.high_inclusive else value < self.high
        if ok and self.type == "integer" and value != int(value):
            ok = False
        if not ok:
            raise ParameterError(f"{module}: parameter {self.name} = {value!r} is outside its declared range "
                                 f"{self.range_text()}{' (integer)' if self.type == 'integer' else ''}; "
                                 "pick a value inside the range")
        return int(value) if self.type == "integer" else value


@dataclass(frozen=True)
class VerilogAInterface:
    """What a compiled Verilog-A module offers: terminals, nodes, parameters, output variables."""

    module: str
    source: Path
    """The .va file."""
    library: Path
    """The compiled OSDI library (in the user cache)."""
    terminals: tuple[str, ...]
    """Electrical ports, in the module's port order."""
    internal_nodes: tuple[str, ...]
    parameters: tuple[VerilogAParameter, ...]
    """Every parameter but the simulator's ``$mfactor``, in declaration order."""
    opvars: tuple[str, ...]
    """Output variables (module-level variables with a desc/units attribute) VACASK can save."""
    modules_in_file: tuple[str, ...] = ()
    compiled: object = field(default=None, compare=False, repr=False)
    """The :class:`memspice.spice.osdi.OsdiModule` of the compilation (what a VACASK writer loads)."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def instance_parameters(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.kind == "instance")

    def parameter(self, name: str) -> VerilogAParameter:
        """The parameter ``name``, in any case (Verilog-A's ``V_ref`` is VACASK's ``v_ref``)."""
        for p in self.parameters:
            if p.name == str(name).lower():
                return p
        raise ParameterError(f"module {self.module} ({self.source.name}) has no parameter {name!r}; "
                             f"its parameters are: {', '.join(self.parameter_names) or 'none'}")

    @property
    def load_line(self) -> str:
        return f'load "{self.library}"'



def inspect_verilog_a(source: str | os.PathLike, *, module: str | None = None,
                      cache_dir: str | os.PathLike | None = None) -> VerilogAInterface:
    """Compile ``source`` with openvaf-r (cached) and read what its module offers.

    ``module`` picks one module of a file that defines several (required then).
    Compile errors raise ``memspice.spice.osdi.VerilogACompileError`` (a SpiceError)
    with openvaf-r's message and the offending line.
    """
    path = Path(source).expanduser()
    if not path.is_file():
        raise ParameterError(f"Verilog-A file {str(path)!r} does not exist; give the path of a .va file")
    lib = compile_va(path, cache_dir=cache_dir)
    descriptors = read_osdi_descriptors(lib.path)
    names = tuple(d.name for d in descriptors)
    if not descriptors:
        raise ParameterError(f"{path} defines no Verilog-A module")
    if module is None:
        if len(descriptors) > 1:
            raise ParameterError(f"{path} defines {len(descriptors)} modules ({', '.join(names)}); "
                                 "choose one with module=NAME (--module NAME)")
        d = descriptors[0]
    else:
        matches = [d for d in descriptors if d.name == module]
        if not matches:
            raise ParameterError(f"{path} has no module {module!r}; it defines: {', '.join(names)}")
        d = matches[0]
    declared = _verilogae_params(lib.source, d.name)
    params = []
    spelled: dict[str, str] = {}
    for rec in d.params:
        if rec.name.startswith("$"):
            continue  # $mfactor: the simulator's multiplicity, not a model parameter
        # VACASK looks parameters up in lower case ('V_ref' is "not found", 'v_ref' sets it), so the
        # name memspice writes is the lower-case one; two names that differ only in case cannot both be set.
        key = rec.name.lower()
        if key in spelled:
            raise ParameterError(f"{path}: module {d.name} declares parameters {spelled[key]} and {rec.name}, which "
                                 "differ only in case; VACASK reads parameter names in lower case and cannot tell "
                                 "them apart: rename one of them in the .va file")
        spelled[key] = rec.name
        vae = declared.get(rec.name)
        default = getattr(vae, "default", float("nan"))
        low = getattr(vae, "min", None)
        high = getattr(vae, "max", None)
        params.append(VerilogAParameter(
            name=key, declared_as=rec.name, default=default if isinstance(default, str) else float(default),
            kind=rec.kind, type=rec.type,
            low=None if low is None or low == -math.inf else float(low),
            high=None if high is None or high == math.inf else float(high),
            low_inclusive=bool(getattr(vae, "min_inclusive", False)),
            high_inclusive=bool(getattr(vae, "max_inclusive", False)),
            units=rec.units or getattr(vae, "unit", ""), description=rec.description or getattr(vae, "description", ""),
        ))
    return VerilogAInterface(
        module=d.name, source=lib.source, library=lib.path, terminals=d.terminals,
        internal_nodes=d.internal_nodes, parameters=tuple(params),
        opvars=tuple(o.name for o in d.opvars), modules_in_file=names, compiled=lib,
    )

