"""Turning an answer into what the client negotiated: metadata only, a Table, JSON or YAML.

The transformations are the API server's: `PartialObjectMetadata` for one object and
`PartialObjectMetadataList` for a list (each the object's metadata with `kind` and `apiVersion` of
meta.k8s.io); the wrong one of the two for the answer is a 406 naming the server's internal Go type.
A Table carries the printer's columns and one row per object (`tables`). YAML is the JSON object
with its keys sorted, as the server's converter writes it. The response type is the encoding alone.
A watch asking for metadata only gets each event's object (bookmarks included) as a
`PartialObjectMetadata`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import yaml
from starlette.responses import Response

from services.kubesim import tables
from services.kubesim.negotiation import Encoding, Negotiated, Transform
from services.kubesim.statuses import ApiError


def respond(
    body: bytes, negotiated: Negotiated, *, now: float, include_object: str | None = None
) -> Response:
    """The response for a get or list answer `body` (the plain JSON object)."""
    if negotiated == Negotiated():
        return Response(body, media_type=Encoding.JSON.value)
    obj = transform(orjson.loads(body), negotiated, now=now, include_object=include_object)
    return encode(obj, negotiated.encoding)


def encode(obj: dict[str, Any], encoding: Encoding, status: int = 200) -> Response:
    if encoding is Encoding.YAML:
        text = yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True)
        return Response(text.encode(), status_code=status, media_type=encoding.value)
    return Response(orjson.dumps(obj), status_code=status, media_type=Encoding.JSON.value)


def transform(
    obj: dict[str, Any], negotiated: Negotiated, *, now: float, include_object: str | None
) -> dict[str, Any]:
    kind = str(obj.get("kind", ""))
    is_list = kind.endswith("List")
    version = negotiated.group_version
    match negotiated.transform:
        case Transform.PARTIAL if is_list:
            raise _not_acceptable(f"you requested PartialObjectMetadata, but the {_what(kind)}")
        case Transform.PARTIAL:
            return partial(obj, version)
        case Transform.PARTIAL_LIST if not is_list:
            raise _not_acceptable(
                f"you requested PartialObjectMetadataList, but the {_what(kind, negate=True)}"
            )
        case Transform.PARTIAL_LIST:
            items = [partial(item, version) for item in obj.get("items") or []]
            return {
                "kind": "PartialObjectMetadataList",
                "apiVersion": version,
                "metadata": obj.get("metadata", {}),
                "items": items,
            }
        case Transform.TABLE:
            return tables.table(obj, version, now=now, include_object=include_object)
    return obj


def event_transform(negotiated: Negotiated) -> Callable[[bytes], bytes] | None:
    """What a watch does to each event's object: nothing, or keep its metadata only."""
    if negotiated.transform is not Transform.PARTIAL:
        return None
    version = negotiated.group_version
    return lambda obj: orjson.dumps(partial(orjson.loads(obj), version))


def partial(obj: dict[str, Any], version: str) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": version, "metadata": obj["metadata"]}


def _what(kind: str, *, negate: bool = False) -> str:
    verb = "is not" if negate else "is"
    # the server names its internal Go type: every core/v1 kind lives in package `core`
    return f"requested object {verb} a list (*core.{kind})"


def _not_acceptable(message: str) -> ApiError:
    return ApiError(406, "NotAcceptable", message)
