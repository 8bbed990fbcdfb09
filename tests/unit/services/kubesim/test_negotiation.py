"""kubesim ranks Accept clauses and chooses a representation as the API server negotiates."""

from __future__ import annotations

import pytest

from services.kubesim import negotiation
from services.kubesim.negotiation import Encoding, Negotiated, Transform
from services.kubesim.statuses import ApiError

META_LIST = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, Negotiated(), id="absent"),
        pytest.param("", Negotiated(), id="empty"),
        pytest.param("*/*", Negotiated(), id="wildcard"),
        pytest.param("*", Negotiated(), id="bare-star"),
        pytest.param("application/yaml", Negotiated(encoding=Encoding.YAML), id="yaml"),
        pytest.param(
            "application/yaml;q=0.5, application/json;q=0.9", Negotiated(), id="q-decides"
        ),
        pytest.param(
            "*/*;q=1, application/yaml", Negotiated(encoding=Encoding.YAML), id="specific-first"
        ),
        pytest.param(
            META_LIST,
            Negotiated(transform=Transform.PARTIAL_LIST),
            id="metadata-list",
        ),
        pytest.param(
            "application/yaml;as=Table;v=v1beta1;g=meta.k8s.io",
            Negotiated(Encoding.YAML, Transform.TABLE, "meta.k8s.io/v1beta1"),
            id="yaml-table",
        ),
        pytest.param(
            "application/vnd.kubernetes.protobuf, application/json;q=0.1",
            Negotiated(),
            id="protobuf-passed-over",
        ),
        pytest.param("application/json;stream=watch", Negotiated(), id="stream-on-json"),
    ],
)
def test_the_first_servable_clause_is_chosen(header: str | None, expected: Negotiated) -> None:
    assert negotiation.negotiate(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "text/plain",
        "application/vnd.kubernetes.protobuf",
        "application/json;as=Pod;v=v1;g=",
        "application/json;as=Table;v=v2;g=meta.k8s.io",
        "application/yaml;stream=watch",
        "application/json;stream=other",
        "nonsense",
    ],
)
def test_nothing_servable_is_406_with_the_servers_list(header: str) -> None:
    with pytest.raises(ApiError) as raised:
        negotiation.negotiate(header)
    assert (raised.value.code, raised.value.reason) == (406, "NotAcceptable")
    assert raised.value.message == (
        "only the following media types are accepted: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf"
    )


def test_a_watch_streams_json_whole_or_metadata_only_but_no_list_or_table() -> None:
    assert negotiation.negotiate_stream("application/json;stream=watch") == Negotiated()
    assert negotiation.negotiate_stream("*/*") == Negotiated()
    partial = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
    assert negotiation.negotiate_stream(partial).transform is Transform.PARTIAL
    with pytest.raises(ApiError):
        negotiation.negotiate_stream("application/json;as=Table;v=v1;g=meta.k8s.io")
    with pytest.raises(ApiError) as raised:
        negotiation.negotiate_stream(META_LIST)
    assert raised.value.message.endswith("application/vnd.kubernetes.protobuf;stream=watch")


@pytest.mark.parametrize(
    ("header", "encoding"),
    [
        ("application/yaml", Encoding.YAML),
        ("application/yaml;stream=watch", Encoding.JSON),
        ("application/yaml;as=Table;v=v1;g=meta.k8s.io", Encoding.JSON),
        ("text/plain", Encoding.JSON),
    ],
)
def test_errors_are_written_in_the_untransformed_negotiated_encoding(
    header: str, encoding: Encoding
) -> None:
    assert negotiation.error_encoding(header) is encoding
