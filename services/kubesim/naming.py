"""Warnings about a pod's name, as the API server sends them on create (1.29 and later).

A pod name need only be a DNS subdomain, but it becomes the pod's hostname, so a name that is not
also a DNS label (it has dots, or is longer than 63 characters) is accepted with a `Warning` header
listing what it breaks, in the words of the server's DNS-label check.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_MAX = 63
_LABEL_FORMAT = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def warnings(name: str) -> list[str]:
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
