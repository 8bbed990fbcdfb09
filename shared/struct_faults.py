"""Where a msgspec struct that did not decode went wrong, without reading msgspec's words.

msgspec says what failed only in a sentence, which names the place in a form it may reword in any
release. So the input is walked here, field by field, the way msgspec reads it: the field named is
found by this walk, and msgspec's own sentence for that one value says what is wrong with it.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

#: The integers msgspec reads from JSON as integers; a larger number it reads as a float.
_WIRE_INT_MIN, _WIRE_INT_MAX = -(2**63), 2**64 - 1


def locate(kind: type[msgspec.Struct], raw: bytes) -> tuple[str, str] | None:
    """(field, reason) of the first fault of JSON `raw` that did not decode as a `kind`, found as
    msgspec finds it: fields in the order the input gives them, a missing one where its object
    ends; None if none is found."""
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        return "(body)", str(error)
    return _struct_fault(kind, data, "")


def _struct_fault(kind: type[msgspec.Struct], data: Any, path: str) -> tuple[str, str] | None:
    if not isinstance(data, dict):
        return _value_fault(kind, data, path)
    fields = {field.encode_name: field for field in msgspec.structs.fields(kind)}
    prefix = f"{path}." if path else ""
    for name, value in data.items():
        field = fields.get(name)
        if field is None:
            return prefix + name, "unknown field"
        inner = field.type
        nested = isinstance(inner, type) and issubclass(inner, msgspec.Struct)
        fault = (_struct_fault if nested else _value_fault)(inner, value, prefix + name)
        if fault is not None:
            return fault
    missing = [name for name, field in fields.items() if field.required and name not in data]
    return (prefix + missing[0], "field required") if missing else None


def _value_fault(kind: Any, value: Any, path: str) -> tuple[str, str] | None:
    try:
        msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as error:
        if isinstance(value, int) and not _WIRE_INT_MIN <= value <= _WIRE_INT_MAX:
            # read from JSON, a number no 64-bit integer holds is a float to any other type
            return _value_fault(kind, float(value) if abs(value) < 2**1000 else math.inf, path)
        return path or "(body)", str(error)
    return None
