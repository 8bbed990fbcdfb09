"""The API server's words for a label key or value that a selector cannot use.

A selector's requirement with a bad key reads `key: Invalid value: "<key>": <what is wrong>`, and a
bad value `values[<i>][<key>]: Invalid value: "<value>": ...`, each problem in the wording of the
server's name checks (several joined by "; "), with its example names and the regular expression.
"""

from __future__ import annotations

import re

_NAME_FORMAT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_VALUE_FORMAT = f"({_NAME_FORMAT})?"
_SUBDOMAIN_FORMAT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_CHARACTERS = (
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_NAME_RULE = f"must {_CHARACTERS}"
_SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_VALUE_RULE = f"a valid label must be an empty string or {_CHARACTERS}"
_MAX_NAME, _MAX_SUBDOMAIN = 63, 253


def _regex_error(rule: str, pattern: str, *examples: str) -> str:
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{rule} (e.g. {shown}regex used for validation is '{pattern}')"


def _too_long(limit: int) -> str:
    return f"must be no more than {limit} characters"


def key_problems(key: str) -> list[str]:
    """What is wrong with `key` as a label key (empty when it is a qualified name)."""
    parts = key.split("/")
    if len(parts) > 2:
        example = _regex_error(_NAME_RULE, _NAME_FORMAT, "MyName", "my.name", "123-abc")
        return [
            f"a qualified name {example} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    problems = [f"prefix part {p}" for p in _prefix_problems(parts[0])] if len(parts) == 2 else []
    name = parts[-1]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > _MAX_NAME:
        problems.append(f"name part {_too_long(_MAX_NAME)}")
    if not re.fullmatch(_NAME_FORMAT, name):
        example = _regex_error(_NAME_RULE, _NAME_FORMAT, "MyName", "my.name", "123-abc")
        problems.append(f"name part {example}")
    return problems


def _prefix_problems(prefix: str) -> list[str]:
    if not prefix:
        return ["must be non-empty"]
    problems = [_too_long(_MAX_SUBDOMAIN)] if len(prefix) > _MAX_SUBDOMAIN else []
    if not re.fullmatch(_SUBDOMAIN_FORMAT, prefix):
        problems.append(_regex_error(_SUBDOMAIN_RULE, _SUBDOMAIN_FORMAT, "example.com"))
    return problems


def value_problems(value: str) -> list[str]:
    """What is wrong with `value` as a label value (empty when it is one)."""
    problems = [_too_long(_MAX_NAME)] if len(value) > _MAX_NAME else []
    if not re.fullmatch(_VALUE_FORMAT, value):
        problems.append(_regex_error(_VALUE_RULE, _VALUE_FORMAT, "MyValue", "my_value", "12345"))
    return problems


def invalid(field: str, value: str, problems: list[str]) -> str:
    return f'{field}: Invalid value: "{value}": {"; ".join(problems)}'
