"""Checks for names and labels that end up inside SPICE or VACASK text.

A name with a newline, a dot, a brace or a space could end one card and start
another (``"a\\n.include /etc/passwd"``); every name memspice writes into a
netlist passes through :func:`check_netlist_name`, every free-text label that
lands in a comment line through :func:`check_comment_text`.
"""

from __future__ import annotations

import re

from memspice.errors import ParameterError

_NAME = re.compile(r"[A-Za-z0-9_]+")


def check_netlist_name(value, what: str) -> str:
    """``value`` if it is a non-empty name of letters, digits and underscores, else ParameterError."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ParameterError(
            f"{what} = {value!r} cannot go into a netlist: use letters, digits and underscores only "
            "(no spaces, dots, braces, newlines or other punctuation)"
        )
    return value


def check_comment_text(value, what: str) -> str:
    """``value`` if it is printable text on one line (it goes into a ``*`` comment card)."""
    if not isinstance(value, str) or not value.isprintable():
        raise ParameterError(
            f"{what} = {value!r} cannot go into a netlist comment: give printable text on one line "
            "(no newlines, carriage returns or control characters)"
        )
    return value
