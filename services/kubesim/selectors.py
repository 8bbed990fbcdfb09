"""Label and field selectors, parsed and matched the way the API server does.

Label selectors take the equality forms (`k=v`, `k==v`, `k!=v`), the set forms (`k in (a,b)`,
`k notin (a,b)`), existence (`k`, `!k`) and integer comparison (`k>5`, `k<5`), ANDed by commas.
`!=` and `notin` also match a pod without the label, as on a real cluster. Field selectors on pods
know only a fixed list of fields and only `=`, `==` and `!=`; an empty value is meaningful
(`spec.nodeName=` selects unscheduled pods). A malformed selector raises `SelectorError` with the
server's message, which becomes a 400 BadRequest.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.kubesim import labelerrors

Requirement = Callable[[Mapping[str, str]], bool]

#: Pod fields a field selector may name, and how to read each from a pod.
POD_FIELDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "metadata.name": lambda pod: str(pod.get("metadata", {}).get("name", "")),
    "metadata.namespace": lambda pod: str(pod.get("metadata", {}).get("namespace", "")),
    "spec.nodeName": lambda pod: str(pod.get("spec", {}).get("nodeName") or ""),
    "spec.restartPolicy": lambda pod: str(pod.get("spec", {}).get("restartPolicy") or ""),
    "spec.schedulerName": lambda pod: str(pod.get("spec", {}).get("schedulerName") or ""),
    "spec.serviceAccountName": lambda pod: str(pod.get("spec", {}).get("serviceAccountName") or ""),
    "spec.hostNetwork": lambda pod: "true" if pod.get("spec", {}).get("hostNetwork") else "false",
    "status.phase": lambda pod: str(pod.get("status", {}).get("phase") or ""),
    "status.podIP": lambda pod: str(pod.get("status", {}).get("podIP") or ""),
    "status.nominatedNodeName": lambda pod: str(
        pod.get("status", {}).get("nominatedNodeName") or ""
    ),
    # accepted by the real parser but never populated for matching: always the empty string
    "status.podIPs": lambda _pod: "",
}
_FIELD_ALIASES = {"spec.host": "spec.nodeName"}
#: Position of each field in the tuple `pod_fields` returns.
FIELD_INDEX = {name: n for n, name in enumerate(POD_FIELDS)}

_SET = re.compile(r"^\s*(!?)\s*([^\s!=<>(),]+)\s+(in|notin)\s*\((.*)\)\s*$")
_COMPARE = re.compile(r"^\s*([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=<>(),]+)\s*$")
_FIELD = re.compile(r"^\s*([^\s!=]+)\s*(==|=|!=)\s*([^,]*?)\s*$")


class SelectorError(ValueError):
    """A selector the API server would refuse with 400 BadRequest; the message is the server's."""


@dataclass(frozen=True)
class LabelSelector:
    text: str
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        return all(requirement(labels or {}) for requirement in self.requirements)


@dataclass(frozen=True)
class FieldSelector:
    text: str
    terms: tuple[tuple[str, bool, str], ...]

    def matches(self, fields: Sequence[str]) -> bool:
        """Whether a pod whose field values are `fields` (see `pod_fields`) is selected."""
        return all(
            (fields[FIELD_INDEX[field]] == value) == equal for field, equal, value in self.terms
        )

    def value_of(self, field: str) -> str | None:
        """The value an equality term requires for `field`, if there is one."""
        return next((v for f, equal, v in self.terms if f == field and equal), None)


def pod_fields(pod: Mapping[str, Any]) -> tuple[str, ...]:
    """Every selectable field of `pod`, in `POD_FIELDS` order, as the strings compared.

    A tuple of (mostly shared, interned) strings: stored for every pod, so it must be small."""
    return tuple(sys.intern(read(pod)) for read in POD_FIELDS.values())


def parse_labels(text: str | None) -> LabelSelector:
    """Parse a label selector (empty or None selects everything)."""
    text = text or ""
    return LabelSelector(text, tuple(_requirement(part) for part in _split(text)))


def parse_fields(text: str | None) -> FieldSelector:
    """Parse a pod field selector (empty or None selects everything)."""
    text = text or ""
    terms = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _FIELD.match(part)
        if not match or match.group(3).startswith(("=", "(")) or " in " in part:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part.strip()}'")
        field = _FIELD_ALIASES.get(match.group(1), match.group(1))
        if field not in POD_FIELDS:
            raise SelectorError(f"field label not supported: {match.group(1)}")
        terms.append((field, match.group(2) != "!=", match.group(3)))
    return FieldSelector(text, tuple(terms))


def _split(text: str) -> list[str]:
    """Split on the commas that are not inside a value set's parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth > 0:
        raise SelectorError("unable to parse requirement: found '', expected: ',' or ')'")
    parts.append("".join(current))
    if text.strip() and any(not part.strip() for part in parts):
        raise SelectorError(f"unable to parse requirement: found ',', in selector {text!r}")
    return [part for part in parts if part.strip()]


def _requirement(part: str) -> Requirement:
    if match := _SET.match(part):
        if match.group(1):
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
        key = match.group(2)
        values = frozenset(v.strip() for v in match.group(4).split(","))
        _check(key, values)
        if match.group(3) == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _COMPARE.match(part):
        return _comparison(match.group(1), match.group(2), match.group(3))
    if match := _EXISTS.match(part):
        key = match.group(2)
        _check(key, ())
        if match.group(1):
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {part.strip()!r}")


def _comparison(key: str, operator: str, value: str) -> Requirement:
    if operator in (">", "<"):
        _check(key, (value,), integer=True)
        bound, greater = int(value), operator == ">"
        return lambda labels: _compare_int(labels.get(key), bound, greater=greater)
    _check(key, (value,))
    if operator == "!=":
        return lambda labels: labels.get(key) != value
    return lambda labels: labels.get(key) == value


def _compare_int(value: str | None, bound: int, *, greater: bool) -> bool:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return False
    if number is None:
        return False
    return number > bound if greater else number < bound


def _check(key: str, values: Collection[str], *, integer: bool = False) -> None:
    """Refuse a requirement as the server does, naming every problem of its key and values
    (the values in sorted order, as the server's parser holds them)."""
    errors = []
    if problems := labelerrors.key_problems(key):
        errors.append(labelerrors.invalid("key", key, problems))
    ordered = sorted(values)
    for index, value in enumerate(ordered):
        if integer and not _is_integer(value):
            rule = "for 'Gt', 'Lt' operators, the value must be an integer"
            errors.append(labelerrors.invalid(f"values[{index}]", value, [rule]))
    for index, value in enumerate(ordered):
        if problems := labelerrors.value_problems(value):
            errors.append(labelerrors.invalid(f"values[{index}][{key}]", value, problems))
    if errors:
        listed = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise SelectorError(f"unable to parse requirement: {listed}")


def _is_integer(text: str) -> bool:
    """Whether Go's base-10 integer parsing takes `text` (no spaces or underscores)."""
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None
