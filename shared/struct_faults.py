"""Why a record did not decode, in podrunner's own words.

msgspec decodes the records (`shared.messages`) and is fast at it, but it says what failed only
in an English sentence whose wording and form are its own and may change in any release. So when
a record does not decode, its input is read again here and walked against the record's type, as
msgspec's public `inspect` module describes it (field names, types, bounds): the first fault in
field order is named, and said in the words the job schema has always used ("Field required",
"Input should be a valid integer", ...). Nothing msgspec writes is read or repeated.

A field can carry a rule of its own (a namespace must be a DNS label, a pod override must have a
pod's shape): a record lists them in its `__field_checks__`, and they are judged in field order
together with the types, whether the record decoded or not.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import msgspec
import msgspec.inspect as types

#: What a field's own rule found: the path below the field ("" for the field itself), and why.
Fault = tuple[str, str]
Check = Callable[[Any], Fault | None]

BODY = "(body)"


def parse_body(raw: bytes) -> Any:
    """`raw` as JSON values, read as leniently as the job schema always allowed (`NaN`, integers
    of any size), for a record that msgspec did not decode.

    Raises:
        ValueError: the body is not JSON (not UTF-8, empty, malformed, a lone surrogate).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"Invalid JSON: not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise ValueError("Invalid JSON: EOF while parsing a value (the body is empty)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"Invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not _unicode(data):
        raise ValueError("Invalid JSON: a string holds a lone surrogate escape")
    return data


def _unicode(value: Any) -> bool:
    """Whether every string in `value` is text UTF-8 can carry (JSON escapes can write halves of
    a surrogate pair that no text holds)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_unicode(key) and _unicode(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_unicode(item) for item in value)
    return True


def first_fault(kind: type[msgspec.Struct], data: Any) -> tuple[str, str] | None:
    """(field, reason) of the first fault of JSON values `data` read as a `kind`; None if none."""
    found = _fault(_described(kind), data)
    if found is None:
        return None
    path, reason = found
    return path or BODY, reason


def record_fault(record: msgspec.Struct) -> tuple[str, str] | None:
    """(field, reason) of the first field of a decoded `record`, or of a record inside it, that
    breaks its own rule; None if none does."""
    for name, check in _checks(type(record)).items():
        value = getattr(record, name)
        if value is not None and (found := check(value)) is not None:
            return name + found[0], found[1]
    for name in _nested(type(record)):
        inner = getattr(record, name)
        if inner is not None and (fault := record_fault(inner)) is not None:
            return f"{name}.{fault[0]}", fault[1]
    return None


def has_rules(kind: type[msgspec.Struct]) -> bool:
    """Whether `kind`, or a record inside it, has fields with rules of their own."""
    return bool(_checks(kind)) or any(has_rules(inner) for inner in _nested(kind).values())


def _checks(kind: type[msgspec.Struct]) -> Mapping[str, Check]:
    checks: Mapping[str, Check] = getattr(kind, "__field_checks__", {})
    return checks


@functools.cache
def _nested(kind: type[msgspec.Struct]) -> dict[str, type[msgspec.Struct]]:
    """The fields of `kind` that hold a record (`Job` or `Job | None`)."""
    info = _described(kind)
    assert isinstance(info, types.StructType), f"{kind} is a record"
    nested: dict[str, type[msgspec.Struct]] = {}
    for field in info.fields:
        for option in _options(field.type):
            if isinstance(option, types.StructType):
                nested[field.name] = option.cls
    return nested


@functools.cache
def _described(kind: type[msgspec.Struct]) -> types.Type:
    """`kind` as msgspec describes it (built once: a walk is asked for at every refusal)."""
    return types.type_info(kind)


def _options(info: types.Type) -> Iterable[types.Type]:
    return info.types if isinstance(info, types.UnionType) else (info,)


def _fault(info: types.Type, value: Any) -> Fault | None:
    """The first fault of `value` read as `info`: (path below it, reason)."""
    if isinstance(info, types.UnionType):
        return _union_fault(info, value)
    reader = _READERS.get(type(info))
    return None if reader is None else reader(info, value)


def _union_fault(info: types.UnionType, value: Any) -> Fault | None:
    if value is None and info.includes_none:
        return None
    options = [option for option in info.types if not isinstance(option, types.NoneType)]
    faults = [_fault(option, value) for option in options]
    if any(fault is None for fault in faults):
        return None
    return faults[0]


def _struct_fault(info: types.StructType, value: Any) -> Fault | None:
    if not isinstance(value, dict):
        return "", "Input should be an object"
    checks = _checks(info.cls)
    for field in info.fields:
        found = _field_fault(field, value, checks.get(field.name))
        if found is not None:
            return _below(field.encode_name, found)
    if info.forbid_unknown_fields:
        known = {field.encode_name for field in info.fields}
        for name in value:
            if name not in known:
                return str(name), "Extra inputs are not permitted"
    return None


def _field_fault(field: types.Field, data: dict[str, Any], check: Check | None) -> Fault | None:
    if field.encode_name not in data:
        if not field.required:
            return None
        if isinstance(field.type, types.LiteralType) and len(field.type.values) == 1:
            return "", _one_of(field.type.values)  # a version must be stated, and be this one
        return "", "Field required"
    value = data[field.encode_name]
    found = _fault(field.type, value)
    if found is None and check is not None and value is not None:
        found = check(value)
    return found


def _below(name: str, found: Fault) -> Fault:
    path, reason = found
    if not path:
        return name, reason
    return (f"{name}{path}" if path.startswith(".") else f"{name}.{path}"), reason


def _int_fault(info: types.IntType, value: Any) -> Fault | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return "", "Input should be a valid integer"
    if info.ge is not None and value < info.ge:
        return "", f"Input should be greater than or equal to {info.ge}"
    if info.gt is not None and value <= info.gt:
        return "", f"Input should be greater than {info.gt}"
    if info.le is not None and value > info.le:
        return "", f"Input should be less than or equal to {info.le}"
    if info.lt is not None and value >= info.lt:
        return "", f"Input should be less than {info.lt}"
    return None


def _str_fault(info: types.StrType, value: Any) -> Fault | None:
    if not isinstance(value, str):
        return "", "Input should be a valid string"
    if info.min_length is not None and len(value) < info.min_length:
        return "", f"String should have at least {_count(info.min_length, 'character')}"
    if info.max_length is not None and len(value) > info.max_length:
        return "", f"String should have at most {_count(info.max_length, 'character')}"
    return None


def _bool_fault(_info: types.BoolType, value: Any) -> Fault | None:
    return None if isinstance(value, bool) else ("", "Input should be a valid boolean")


def _list_fault(info: types.ListType, value: Any) -> Fault | None:
    if not isinstance(value, list):
        return "", "Input should be a valid array"
    if info.min_length is not None and len(value) < info.min_length:
        return "", (
            f"List should have at least {_count(info.min_length, 'item')} after validation, "
            f"not {len(value)}"
        )
    return _first(
        _below(str(index), found)
        for index, item in enumerate(value)
        if (found := _fault(info.item_type, item)) is not None
    )


def _dict_fault(info: types.DictType, value: Any) -> Fault | None:
    if not isinstance(value, dict):
        return "", "Input should be an object"
    return _first(
        _below(str(key), found)
        for key, item in value.items()
        if (found := _fault(info.value_type, item)) is not None
    )


def _literal_fault(info: types.LiteralType, value: Any) -> Fault | None:
    if any(type(value) is type(allowed) and value == allowed for allowed in info.values):
        return None
    return "", _one_of(info.values)


def _enum_fault(info: types.EnumType, value: Any) -> Fault | None:
    allowed = tuple(member.value for member in info.cls)
    return None if isinstance(value, str) and value in allowed else ("", _one_of(allowed))


def _datetime_fault(_info: types.DateTimeType, value: Any) -> Fault | None:
    try:
        msgspec.convert(value, datetime, strict=True)
    except msgspec.ValidationError:
        return "", "Input should be a valid datetime"
    return None


def _none_fault(_info: types.NoneType, value: Any) -> Fault | None:
    return None if value is None else ("", "Input should be None")


def _first(faults: Iterator[Fault]) -> Fault | None:
    return next(faults, None)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _one_of(values: Iterable[Any]) -> str:
    shown = [repr(value) for value in values]
    if len(shown) == 1:
        return f"Input should be {shown[0]}"
    return f"Input should be {', '.join(shown[:-1])} or {shown[-1]}"


_READERS: dict[type[types.Type], Callable[[Any, Any], Fault | None]] = {
    types.StructType: _struct_fault,
    types.IntType: _int_fault,
    types.StrType: _str_fault,
    types.BoolType: _bool_fault,
    types.ListType: _list_fault,
    types.DictType: _dict_fault,
    types.LiteralType: _literal_fault,
    types.EnumType: _enum_fault,
    types.DateTimeType: _datetime_fault,
    types.NoneType: _none_fault,
}
