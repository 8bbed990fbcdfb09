"""Image references as the kubelet parses them, and its `InvalidImageName` message.

Before pulling, the kubelet normalises each image (adding the default `latest` tag), which
parses the reference with the distribution grammar: `[domain[:port]/]path[:tag][@digest]`, with a
lowercase path. A reference that does not parse never gets pulled: the container waits with
reason `InvalidImageName` and the pod stays Pending for good.
"""

from __future__ import annotations

import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?"
)
_ANY_CASE = re.compile(_REFERENCE.pattern.replace("[a-z0-9]", "[a-zA-Z0-9]"))


def invalid_reason(image: str) -> str | None:
    """The kubelet's message for an image reference it cannot parse; None when it parses."""
    problem = _problem(image)
    if problem is None:
        return None
    return (
        f'Failed to apply default image tag "{image}": couldn\'t parse image reference '
        f'"{image}": {problem}'
    )


def _problem(image: str) -> str | None:
    if _REFERENCE.fullmatch(image):
        return None
    if _ANY_CASE.fullmatch(image):
        return "invalid reference format: repository name must be lowercase"
    return "invalid reference format"
