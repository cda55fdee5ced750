"""Kubernetes resource quantities ("500m", "128Mi", "0.5", "2e3") as exact decimals.

The grammar is the Kubernetes API's (``Quantity``, k8s.io/apimachinery pkg/api/resource):
a signed decimal number, then nothing, a binary-SI suffix (Ki, Mi, Gi, Ti, Pi, Ei), a
decimal-SI suffix (n, u, m, k, M, G, T, P, E) or a decimal exponent (e3, E-2). Parsed here,
in one place, so that reading the documented limits or a run's samples never imports the
official client (half a second of imports) just for this.
"""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The quantity as a Decimal (cores for CPU, bytes for memory); ValueError if it is not one.

    Numbers (YAML may give ``cpu: 0.5``) are taken by their decimal spelling, so 0.1 is
    exactly a tenth.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    match = _QUANTITY.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number, binary, decimal, exponent = match.groups()
    amount = Decimal(number)
    if binary:
        return amount * (1024 ** _BINARY[binary])
    if decimal:
        return amount.scaleb(_DECIMAL[decimal])
    return amount.scaleb(int(exponent)) if exponent else amount
