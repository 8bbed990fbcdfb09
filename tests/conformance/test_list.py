"""LIST: items, order, selectors, pagination from one snapshot, resourceVersion rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Target, pod_body


@pytest.fixture
def five_pods(target: Target, namespace: str) -> str:
    for n, tier in enumerate(["web", "web", "batch", "batch", "db"]):
        body = pod_body(f"p{4 - n}", metadata={"labels": {"tier": tier, "rank": str(n)}})
        assert (
            target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body).status_code == 201
        )
    return namespace


def listing(target: Target, namespace: str, **params: str) -> Any:
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(body: Any) -> list[str]:
    return [item["metadata"]["name"] for item in body["items"]]


def test_a_list_is_a_pod_list_whose_items_carry_no_kind(target: Target, five_pods: str) -> None:
    body = listing(target, five_pods)
    assert body["kind"] == "PodList"
    assert isinstance(body["metadata"]["resourceVersion"], str)
    assert all("kind" not in item and "apiVersion" not in item for item in body["items"])


def test_items_come_in_name_order(target: Target, five_pods: str) -> None:
    assert names(listing(target, five_pods)) == ["p0", "p1", "p2", "p3", "p4"]


def test_a_list_in_an_empty_or_missing_namespace_is_empty_not_404(target: Target) -> None:
    assert listing(target, "never-created-ns")["items"] == []


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("tier=web", ["p3", "p4"], id="equality"),
        pytest.param("tier!=web", ["p0", "p1", "p2"], id="inequality"),
        pytest.param("tier in (db, batch)", ["p0", "p1", "p2"], id="set-in"),
        pytest.param("tier notin (web)", ["p0", "p1", "p2"], id="set-notin"),
        pytest.param("rank>2", ["p0", "p1"], id="greater-than"),
        pytest.param("!missing,tier=db", ["p0"], id="does-not-exist"),
    ],
)
def test_label_selectors_filter_the_list(
    target: Target, five_pods: str, selector: str, expected: list[str]
) -> None:
    assert names(listing(target, five_pods, labelSelector=selector)) == expected


def test_a_field_selector_on_the_name_filters_the_list(target: Target, five_pods: str) -> None:
    assert names(listing(target, five_pods, fieldSelector="metadata.name=p2")) == ["p2"]


def test_a_malformed_label_selector_is_400(target: Target, namespace: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": "app in (a"}
    )
    assert response.status_code == 400
    assert "unable to parse requirement" in response.json()["message"]


def test_an_unsupported_field_is_400_with_the_servers_message(
    target: Target, namespace: str
) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"fieldSelector": "spec.foo=bar"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "field label not supported: spec.foo"


def test_pages_share_the_first_pages_resource_version(target: Target, five_pods: str) -> None:
    first = listing(target, five_pods, limit="2")
    assert names(first) == ["p0", "p1"]
    assert first["metadata"]["remainingItemCount"] == 3
    target.http.post(f"/api/v1/namespaces/{five_pods}/pods", json=pod_body("p9"))
    second = listing(target, five_pods, limit="2", **{"continue": first["metadata"]["continue"]})
    third = listing(target, five_pods, limit="2", **{"continue": second["metadata"]["continue"]})
    assert names(second) + names(third) == ["p2", "p3", "p4"], "p9 came after the snapshot"
    assert first["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]
    assert "continue" not in third["metadata"]


def test_paging_with_a_selector_may_give_short_pages_until_continue_is_empty(
    target: Target, five_pods: str
) -> None:
    seen: list[str] = []
    params = {"limit": "2", "labelSelector": "tier=web"}
    body = listing(target, five_pods, **params)
    seen += names(body)
    while body["metadata"].get("continue"):
        assert "remainingItemCount" not in body["metadata"]
        body = listing(target, five_pods, **params, **{"continue": body["metadata"]["continue"]})
        seen += names(body)
    assert seen == ["p3", "p4"]


def test_resource_version_zero_ignores_the_limit(target: Target, five_pods: str) -> None:
    body = listing(target, five_pods, limit="2", resourceVersion="0")
    assert len(body["items"]) == 5
    assert "continue" not in body["metadata"]


def test_a_malformed_continue_token_is_400(target: Target, namespace: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"limit": "1", "continue": "garbage!"}
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("invalid continue token")


def test_continue_with_a_resource_version_is_400(target: Target, five_pods: str) -> None:
    token = listing(target, five_pods, limit="1")["metadata"]["continue"]
    response = target.http.get(
        f"/api/v1/namespaces/{five_pods}/pods",
        params={"limit": "1", "continue": token, "resourceVersion": "5"},
    )
    assert response.status_code == 400
    assert (
        response.json()["message"]
        == "specifying resource version is not allowed when using continue"
    )


def test_resource_version_match_without_a_version_is_422(target: Target, namespace: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"resourceVersionMatch": "NotOlderThan"}
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith('ListOptions.meta.k8s.io "" is invalid: ')


def test_an_exact_list_below_the_history_is_410_expired(target: Target, namespace: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods",
        params={"resourceVersion": "1", "resourceVersionMatch": "Exact"},
    )
    assert response.status_code == 410
    assert response.json()["reason"] == "Expired"


def test_a_non_numeric_resource_version_is_400(target: Target, namespace: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"resourceVersion": "abc"}
    )
    assert response.status_code == 400


def test_the_cluster_wide_list_includes_every_namespace(target: Target, five_pods: str) -> None:
    body = target.http.get("/api/v1/pods", params={"labelSelector": "tier=db"}).json()
    assert (five_pods, "p0") in {
        (i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]
    }


def test_the_official_client_lists_with_pagination(target: Target, five_pods: str) -> None:
    first: Any = target.api.list_namespaced_pod(five_pods, limit=3)
    second: Any = target.api.list_namespaced_pod(
        five_pods, limit=3, _continue=first.metadata._continue
    )
    assert len(first.items) + len(second.items) == 5
    assert second.metadata._continue is None


def test_a_version_from_the_future_is_504_too_large(target: Target, namespace: str) -> None:
    current = int(listing(target, namespace)["metadata"]["resourceVersion"])
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"resourceVersion": str(current + 10**9)}
    )
    assert response.status_code == 504
    body = response.json()
    assert body["reason"] == "Timeout"
    assert body["message"].startswith(f"Timeout: Too large resource version: {current + 10**9}")
    assert body["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
