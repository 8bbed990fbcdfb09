"""Content negotiation on `Accept`, in the API server's order, and the 406 for what cannot be.

Clauses are ranked by q-value (most specific first among equals, else in the order sent) and each is
tried against the server's media types in order: JSON, YAML, protobuf. `*/*` and `application/*`
match JSON first. A clause asking for a transformation (`as=`, `g=`, `v=`) is acceptable only for
`PartialObjectMetadata`, `PartialObjectMetadataList` or (JSON or YAML only) `Table` in
`meta.k8s.io/v1` or `v1beta1`; any other, or `stream=` on YAML, makes the clause unacceptable and
the next one is tried. Unknown parameters are ignored. kubesim cannot encode protobuf, so a
protobuf clause is passed over as if unacceptable: with a JSON fallback the answer is JSON, alone it
is the 406 the server would send for an unknown type. A watch is negotiated as a list first, then
for a stream: JSON events, whole or metadata only (kubesim streams no Table or protobuf events).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from services.kubesim.statuses import ApiError

MEDIA_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
STREAM_MEDIA_TYPES = (
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
)
META_VERSIONS = ("meta.k8s.io/v1", "meta.k8s.io/v1beta1")


class Encoding(enum.Enum):
    JSON = "application/json"
    YAML = "application/yaml"
    PROTOBUF = "application/vnd.kubernetes.protobuf"


class Transform(enum.Enum):
    """What the answer becomes: the object itself, its metadata only, or a Table."""

    NONE = ""
    PARTIAL = "PartialObjectMetadata"
    PARTIAL_LIST = "PartialObjectMetadataList"
    TABLE = "Table"


#: The transformations kubesim can apply to watch events (no Tables in a stream).
_STREAMED = (Transform.NONE, Transform.PARTIAL)


@dataclass(frozen=True)
class Negotiated:
    encoding: Encoding = Encoding.JSON
    transform: Transform = Transform.NONE
    #: The meta.k8s.io version asked for with a transform (`meta.k8s.io/v1` or `.../v1beta1`).
    group_version: str = "meta.k8s.io/v1"


@dataclass(frozen=True)
class _Clause:
    type: str
    subtype: str
    q: float
    params: dict[str, str]

    def matches(self, media_type: str) -> bool:
        kind, _, subtype = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return True
        return self.type == kind and self.subtype in (subtype, "*")


def not_acceptable(accepted: tuple[str, ...]) -> ApiError:
    message = f"only the following media types are accepted: {', '.join(accepted)}"
    return ApiError(406, "NotAcceptable", message)


def negotiate(header: str | None) -> Negotiated:
    """The representation for a get or list answer; 406 NotAcceptable when there is none."""
    if not header:
        return Negotiated()
    for clause in parse_accept(header):
        for media_type in MEDIA_TYPES:
            if clause.matches(media_type):
                chosen = _accept(clause, Encoding(media_type))
                if chosen is not None:
                    return chosen
    raise not_acceptable(MEDIA_TYPES)


def negotiate_stream(header: str | None) -> Negotiated:
    """A watch's representation: JSON events, whole or metadata only (PartialObjectMetadata)."""
    if not header:
        return Negotiated()
    for clause in parse_accept(header):
        if clause.matches(Encoding.JSON.value):
            chosen = _accept(clause, Encoding.JSON)
            if chosen is not None and chosen.transform in _STREAMED:
                return chosen
    raise not_acceptable(STREAM_MEDIA_TYPES)


def error_encoding(header: str | None) -> Encoding:
    """How an error Status is written: as negotiated without transforms, else JSON."""
    if not header:
        return Encoding.JSON
    for clause in parse_accept(header):
        for media_type in MEDIA_TYPES:
            chosen = _accept(clause, Encoding(media_type)) if clause.matches(media_type) else None
            if chosen is not None and chosen.transform is Transform.NONE:
                return chosen.encoding
    return Encoding.JSON


def parse_accept(header: str) -> list[_Clause]:
    """The clauses of an Accept header, best first (a stable sort, as the server's)."""
    clauses = []
    for part in header.split(","):
        media_range, *raw_params = part.strip().split(";")
        kind, slash, subtype = media_range.strip().partition("/")
        if not slash:
            if kind != "*":
                continue
            subtype = "*"
        params: dict[str, str] = {}
        q = 1.0
        for raw in raw_params:
            key, equals, value = raw.partition("=")
            if not equals:
                continue
            if key.strip() == "q":
                q = _quality(value)
            else:
                params[key.strip()] = value.strip()
        clauses.append(_Clause(kind.strip(), subtype.strip(), q, params))
    return sorted(clauses, key=lambda c: (-c.q, c.type == "*", c.subtype == "*"))


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _accept(clause: _Clause, encoding: Encoding) -> Negotiated | None:
    """What `clause` asks of `encoding`, or None when it cannot be served."""
    params = clause.params
    if encoding is Encoding.PROTOBUF:
        return None
    if params.get("stream") and (encoding is not Encoding.JSON or params["stream"] != "watch"):
        return None
    if not {"as", "g", "v"} & params.keys():
        return Negotiated(encoding=encoding)
    group_version = f"{params.get('g', '')}/{params.get('v', '')}"
    try:
        transform = Transform(params.get("as", ""))
    except ValueError:
        return None
    if group_version not in META_VERSIONS or transform is Transform.NONE:
        return None
    return Negotiated(encoding=encoding, transform=transform, group_version=group_version)
