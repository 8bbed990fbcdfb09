"""pods/log errors, injected faults in the real shapes, and authorisation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from tests.conformance.conftest import Target, kubeconfig_user, long_running, pod_body
from tests.support.kubesim import KubesimProcess, start_kubesim
from tests.support.waiting import wait_until


def log_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}/log"


def test_the_log_of_a_missing_pod_is_404(target: Target, namespace: str) -> None:
    assert target.http.get(log_path(namespace, "nope")).status_code == 404


@pytest.mark.kubesim_only
def test_the_log_of_an_unscheduled_pod_is_204(target: Target, namespace: str) -> None:
    target.http.post(
        f"/api/v1/namespaces/{namespace}/pods", json=long_running("u", unschedulable="true")
    )
    assert target.http.get(log_path(namespace, "u")).status_code == 204


@pytest.mark.kubesim_only
def test_the_log_of_a_container_failing_its_pull_is_400_with_the_kubelets_words(
    target: Target, namespace: str
) -> None:
    target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=long_running("img", pull="fail"))

    def refused() -> str:
        response = target.http.get(log_path(namespace, "img"))
        return response.json()["message"] if response.status_code == 400 else ""

    message = wait_until(
        lambda: "image" in refused() and refused(),
        timeout_s=10.0,
        what='"image" in refused() and refused()',
    )
    assert message.startswith('container "base" in pod "img" is waiting to start: ')


def test_a_log_without_a_container_name_on_a_two_container_pod_is_400(
    target: Target, namespace: str
) -> None:
    body = pod_body("two")
    body["spec"]["containers"].append(
        {"name": "side", "image": "busybox:1.37", "command": ["true"]}
    )
    target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    response = target.http.get(log_path(namespace, "two"))
    assert response.status_code == 400
    assert response.json()["message"] == (
        "a container name must be specified for pod two, choose one of: [base side]"
    )


def test_a_negative_tail_is_422(target: Target, namespace: str) -> None:
    target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("t"))
    response = target.http.get(log_path(namespace, "t"), params={"tailLines": "-1"})
    assert response.status_code == 422


@pytest.mark.kubesim_only
@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        pytest.param("500", 500, "InternalError", id="500"),
        pytest.param("503", 503, "ServiceUnavailable", id="503"),
        pytest.param("504", 504, "Timeout", id="504"),
        pytest.param("409", 409, "Conflict", id="409-conflict"),
        pytest.param("quota", 403, "Forbidden", id="403-quota"),
    ],
)
def test_an_injected_fault_answers_in_the_real_shape(
    target: Target, namespace: str, error: str, code: int, reason: str
) -> None:
    target.admin("POST", "faults", {"verb": "create", "error": error, "count": 1})
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("f1"))
    assert response.status_code == code
    assert response.json()["reason"] == reason
    if error == "quota":
        assert "is forbidden: exceeded quota: " in response.json()["message"]
    retried = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("f1"))
    assert retried.status_code == 201, "a count-1 fault fires once"


@pytest.mark.kubesim_only
def test_the_plain_text_429_has_retry_after_and_no_json(target: Target, namespace: str) -> None:
    target.admin(
        "POST", "faults", {"verb": "list", "error": "429-text", "count": 1, "retry_after": 3}
    )
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods")
    assert response.status_code == 429
    assert response.text == "Too many requests, please try again later.\n"
    assert response.headers["retry-after"] == "3"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.kubesim_only
def test_the_json_429_carries_retry_after_seconds(target: Target, namespace: str) -> None:
    target.admin("POST", "faults", {"verb": "get", "error": "429", "count": 1, "retry_after": 2})
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods/any")
    assert response.status_code == 429
    assert response.json()["details"]["retryAfterSeconds"] == 2
    assert response.headers["retry-after"] == "2"


@pytest.mark.kubesim_only
def test_a_pod_quota_refuses_creates_beyond_it(target: Target, namespace: str) -> None:
    target.admin("PUT", f"quota/{namespace}", {"pods": 1})
    try:
        target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=long_running("q1"))
        response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=long_running("q2"))
    finally:
        target.admin("DELETE", f"quota/{namespace}")
    assert response.status_code == 403
    assert response.json()["message"] == (
        'pods "q2" is forbidden: exceeded quota: pod-count, '
        "requested: pods=1, used: pods=1, limited: pods=1"
    )


@pytest.mark.kubesim_only
def test_a_restricted_token_gets_the_rbac_403(target: Target, namespace: str) -> None:
    target.admin("POST", "tokens", {"token": "reader-without-rights", "restricted": True})
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods",
        headers={"Authorization": "Bearer reader-without-rights"},
    )
    assert response.status_code == 403
    assert response.json()["message"] == (
        'pods is forbidden: User "system:serviceaccount:default:restricted" cannot list '
        f'resource "pods" in API group "" in the namespace "{namespace}"'
    )


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubesimProcess]:
    sim = start_kubesim(tmp_path_factory.mktemp("guarded"), "--token", "s3cret")
    yield sim
    sim.stop()


@pytest.mark.kubesim_only
def test_with_a_token_configured_a_request_without_it_is_401(guarded: KubesimProcess) -> None:
    response = httpx.get(f"{guarded.url}/api/v1/namespaces/default/pods")
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"
    authorised = httpx.get(
        f"{guarded.url}/api/v1/namespaces/default/pods", headers={"Authorization": "Bearer s3cret"}
    )
    assert authorised.status_code == 200


@pytest.mark.kubesim_only
def test_the_written_kubeconfig_carries_the_token_and_loads_in_the_official_client(
    guarded: KubesimProcess,
) -> None:
    assert kubeconfig_user(guarded.kubeconfig)["users"][0]["user"] == {"token": "s3cret"}
    configuration = client.Configuration()
    config.load_kube_config(str(guarded.kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api_client:
        listed: Any = client.CoreV1Api(api_client).list_namespaced_pod("default")
    assert listed.items == []


@pytest.mark.kubesim_only
def test_added_latency_delays_answers(target: Target, namespace: str) -> None:
    target.admin("PUT", "latency", {"verb": "get", "ms": 300})
    try:
        response = target.http.get(f"/api/v1/namespaces/{namespace}/pods/none")
    finally:
        target.admin("DELETE", "faults")
    assert response.elapsed.total_seconds() >= 0.3


@pytest.mark.kubesim_only
def test_a_rate_of_one_fails_every_request_until_cleared(target: Target, namespace: str) -> None:
    target.admin("POST", "faults", {"verb": "list", "error": "503", "rate": 1.0})
    statuses = [
        target.http.get(f"/api/v1/namespaces/{namespace}/pods").status_code for _ in range(3)
    ]
    target.admin("DELETE", "faults")
    assert statuses == [503, 503, 503]
    assert target.http.get(f"/api/v1/namespaces/{namespace}/pods").status_code == 200


@pytest.mark.kubesim_only
def test_a_followed_log_streams_lines_until_the_container_exits(
    target: Target, namespace: str
) -> None:
    body = long_running("chatty", 1)
    body["metadata"]["annotations"]["kubesim.podrunner.io/log"] = "a\nb\nc\nd"
    target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    wait_until(
        lambda: (
            target.http.get(f"/api/v1/namespaces/{namespace}/pods/chatty")
            .json()["status"]
            .get("phase")
            == "Running"
        ),
        timeout_s=10.0,
        what="pod chatty running",
    )
    with target.http.stream(
        "GET", log_path(namespace, "chatty"), params={"follow": "true"}
    ) as response:
        lines = list(response.iter_lines())
    assert lines == ["a", "b", "c", "d"]


def test_a_watch_from_a_non_numeric_version_is_refused(target: Target, namespace: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"watch": "1", "resourceVersion": "abc"}
    )
    assert response.status_code == 400


@pytest.mark.kubesim_only
def test_latency_after_the_write_makes_the_answer_late_but_the_pod_exists(
    target: Target, namespace: str
) -> None:
    target.admin("PUT", "latency", {"verb": "create", "ms": 1500, "after": True})
    try:
        with (
            httpx.Client(base_url=target.url, timeout=0.5) as impatient,
            pytest.raises(httpx.ReadTimeout),
        ):
            impatient.post(f"/api/v1/namespaces/{namespace}/pods", json=long_running("late"))
        assert target.http.get(f"/api/v1/namespaces/{namespace}/pods/late").status_code == 200
    finally:
        target.admin("DELETE", "faults")


@pytest.mark.kubesim_only
def test_requests_are_recorded_with_their_verb_and_status(target: Target, namespace: str) -> None:
    target.admin("POST", "faults", {"verb": "get", "error": "503", "count": 1})
    target.http.get(f"/api/v1/namespaces/{namespace}/pods/a")
    target.http.get(f"/api/v1/namespaces/{namespace}/pods/a")
    recent = target.admin("GET", "requests")["requests"][-2:]
    assert [(verb, status) for _, verb, status in recent] == [("get", 503), ("get", 0)]
