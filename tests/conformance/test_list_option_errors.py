"""List and watch options the API server refuses: a 422 Invalid ListOptions, word for word.

Every violation is reported at once, in the server's order; one alone is written inline, several
as a bracketed list.
"""

from __future__ import annotations

import pytest

from tests.conformance.conftest import Target

PREFIX = 'ListOptions.meta.k8s.io "" is invalid: '


def refused(target: Target, namespace: str, params: dict[str, str]) -> dict[str, object]:
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods", params=params)
    assert response.status_code == 422, response.text
    body: dict[str, object] = response.json()
    assert body["reason"] == "Invalid"
    return body


def test_send_initial_events_on_a_list_is_422(target: Target, namespace: str) -> None:
    body = refused(target, namespace, {"sendInitialEvents": "false"})
    assert body["message"] == (
        PREFIX + "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"
    )
    assert body["details"] == {
        "kind": "ListOptions.meta.k8s.io",
        "causes": [
            {
                "reason": "FieldValueForbidden",
                "message": "Forbidden: sendInitialEvents is forbidden for list",
                "field": "sendInitialEvents",
            }
        ],
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"resourceVersionMatch": "NotOlderThan"},
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
            "resourceVersion is provided",
            id="match-without-version",
        ),
        pytest.param(
            {"resourceVersionMatch": "Exact", "resourceVersion": "0"},
            'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for '
            'resourceVersion "0"',
            id="exact-zero",
        ),
        pytest.param(
            {"resourceVersionMatch": "Newest", "resourceVersion": "1"},
            'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", '
            '"NotOlderThan", ""',
            id="unknown-match",
        ),
        pytest.param(
            {"resourceVersionMatch": "Newest", "sendInitialEvents": "true"},
            "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
            'resourceVersion is provided, resourceVersionMatch: Unsupported value: "Newest": '
            'supported values: "Exact", "NotOlderThan", "", sendInitialEvents: Forbidden: '
            "sendInitialEvents is forbidden for list]",
            id="all-at-once",
        ),
    ],
)
def test_list_options_are_refused_with_the_servers_message(
    target: Target, namespace: str, params: dict[str, str], message: str
) -> None:
    assert refused(target, namespace, params)["message"] == PREFIX + message


def test_a_watch_match_other_than_not_older_than_is_refused(target: Target, namespace: str) -> None:
    params = {"watch": "1", "resourceVersionMatch": "Exact", "resourceVersion": "1"}
    assert refused(target, namespace, params)["message"] == PREFIX + (
        "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless "
        'sendInitialEvents is provided, resourceVersionMatch: Unsupported value: "Exact": '
        'supported values: "NotOlderThan"]'
    )
