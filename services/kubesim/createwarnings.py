"""The `Warning` header a pod create answers with, and the strict field validation beside it.

Unknown fields in the body are a warning each (`unknown field "spec.foo"`), or a 400 under
`fieldValidation=Strict`, or nothing under `Ignore`. A pod name need only be a DNS subdomain, but it
becomes the pod's hostname, so a name that is not also a DNS label (it has dots, or is longer than
63 characters) is accepted with a warning listing what it breaks, in the words of the server's
DNS-label check (1.29 and later). Every warning is one `299 - "..."` value of the header.
"""

from __future__ import annotations

import re
from typing import Any

from services.kubesim import decoding, statuses

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_MAX = 63
_LABEL_FORMAT = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def unknown_fields(body: Any, query: dict[str, str]) -> list[str]:
    """Type-check the body; unknown fields are a 400 under Strict, warnings otherwise."""
    unknown = decoding.check_pod(body)
    if not unknown or query.get("fieldValidation") == "Ignore":
        return []
    if query.get("fieldValidation") == "Strict":
        listed = ", ".join(f'unknown field "{name}"' for name in unknown)
        raise statuses.bad_request(f"strict decoding error: {listed}")
    return [f'unknown field \\"{name}\\"' for name in unknown]


def header(texts: list[str]) -> dict[str, str]:
    """The Warning header carrying `texts` (no header when there are none)."""
    if not texts:
        return {}
    return {"Warning": ", ".join(f'299 - "{text}"' for text in texts)}


def for_name(name: str) -> list[str]:
    """The warnings a pod created with `name` gets (none for a DNS label)."""
    problems = []
    if len(name) > _LABEL_MAX:
        problems.append(f"must be no more than {_LABEL_MAX} characters")
    if not _LABEL.match(name):
        problems.append("must not contain dots" if _SUBDOMAIN.match(name) else _LABEL_FORMAT)
    if not problems:
        return []
    return [
        "metadata.name: this is used in the Pod's hostname, which can result in surprising "
        f"behavior; a DNS label is recommended: [{' '.join(problems)}]"
    ]
