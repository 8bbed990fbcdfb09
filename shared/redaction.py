"""Hiding credentials in URLs and in whatever a service shows about itself.

Connection URLs carry secrets in more places than `user:password@`: libpq takes
`?password=`, Redis URLs put a bare password where a user name would be (`redis://secret@host`)
or in `?password=`, and kombu joins failover URLs with `;`. Operators also write passwords with
unescaped `@`, `/` or `?` in them, which URL parsers split in surprising places. So redaction here
errs on the side of hiding: whatever may be a password becomes `***`, and the rest (scheme, user
name, hosts, database) stays readable for debugging.

`scrub` applies the same rule to a whole JSON-ready value (a `/status` answer): every URL inside any
string, and the value of every key that names a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit

#: What a hidden secret is shown as.
HIDDEN = "***"

#: Query parameters (and mapping keys) whose value is a secret, matched anywhere in the name.
_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|key|auth|credential|signature|sig$|cookie", re.IGNORECASE
)

#: Mapping keys whose value is a secret (`api_token`, `password`), matched at the end of the name.
_SECRET_KEY = re.compile(r"(password|passwd|pwd|secret|token|api_key|credentials?)$", re.IGNORECASE)

#: URL schemes whose user-info holds a password even without a `:` (`redis://secret@host`).
_BARE_PASSWORD_SCHEMES = frozenset(
    {"redis", "rediss", "redis+socket", "unix", "sentinel", "redis+sentinel", "sentinels"}
)

#: A URL inside free text.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")

#: Where one URL of kombu's `;`-joined failover list ends and the next begins.
_FAILOVER = re.compile(r";(?=[A-Za-z][A-Za-z0-9+.\-]*://)")

#: User-info ending at an `@` that is followed by hosts and then a path, query or the end; for
#: passwords holding an unescaped `/`, `?` or `#`, which a URL parser would cut short.
_LOOSE_USERINFO = re.compile(r"^(?P<userinfo>[^=&]*)@(?P<rest>[^@/?#=&]*(?:[/?#].*)?)$", re.DOTALL)


def redact_url(url: str | None) -> str | None:
    """`url` with every password and secret query parameter shown as `***`."""
    if url is None:
        return None
    return ";".join(_redact_one(part) for part in _FAILOVER.split(url))


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted."""
    return _URL_IN_TEXT.sub(lambda match: _redact_one(match.group(0)), text)


def scrub(value: Any) -> Any:
    """A copy of a JSON-ready `value` with URLs in strings redacted and secret-named keys hidden."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: _scrub_item(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def _scrub_item(key: str, item: Any) -> Any:
    if item is not None and _SECRET_KEY.search(key) and not isinstance(item, Mapping | list):
        return HIDDEN
    return scrub(item)


def _redact_one(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    userinfo, rest = _split_userinfo(rest)
    authority = "" if userinfo is None else _hide_userinfo(scheme.lower(), userinfo) + "@"
    return f"{scheme}://{authority}{_hide_parameters(rest)}"


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """The user-info of a URL (None without one) and what follows its `@`."""
    try:
        netloc = urlsplit(f"x://{rest}").netloc
    except ValueError:
        netloc = ""
    if "@" in netloc:
        userinfo, _, _ = netloc.rpartition("@")
        return userinfo, rest[len(userinfo) + 1 :]
    loose = _LOOSE_USERINFO.match(rest)
    if loose is not None:
        return loose.group("userinfo"), loose.group("rest")
    return None, rest


def _hide_userinfo(scheme: str, userinfo: str) -> str:
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{user}:{HIDDEN}"
    if scheme in _BARE_PASSWORD_SCHEMES:
        return HIDDEN
    return userinfo


def _hide_parameters(rest: str) -> str:
    """`rest` (hosts, path, query, fragment) with the value of every secret parameter hidden."""
    head, question, tail = rest.partition("?")
    if not question:
        head, hash_mark, fragment = rest.partition("#")
        return head + hash_mark + _hide_pairs(fragment) if hash_mark else rest
    query, hash_mark, fragment = tail.partition("#")
    return f"{head}?{_hide_pairs(query)}{hash_mark}{_hide_pairs(fragment)}"


def _hide_pairs(query: str) -> str:
    pieces = re.split(r"([&;?])", query)  # a stray `?` may start a parameter too
    return "".join(_hide_pair(piece) for piece in pieces)


def _hide_pair(piece: str) -> str:
    name, equals, _value = piece.partition("=")
    if equals and _SECRET_NAME.search(unquote_plus(name)):
        return f"{name}={HIDDEN}"
    return piece
