"""Every Kubernetes failure, met by the real client over HTTP, becomes the documented class."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from shared.k8s import clients, errors
from tests.support.stub_apiserver import Answer, serving


def status(code: int, reason: str, message: str, **details: object) -> bytes:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }
    return json.dumps(body).encode()


QUOTA = (
    'pods "p1" is forbidden: exceeded quota: compute, '
    "requested: pods=1, used: pods=10, limited: pods=10"
)
RBAC = (
    'pods "p1" is forbidden: User "system:serviceaccount:ns:sa" cannot get resource "pods" '
    'in API group "" in the namespace "ns"'
)
CASES = {
    "bad-request": (
        Answer(400, status(400, "BadRequest", "field label not supported: spec.foo")),
        errors.BadRequest,
    ),
    "rbac": (Answer(403, status(403, "Forbidden", RBAC)), errors.Forbidden),
    "quota": (Answer(403, status(403, "Forbidden", QUOTA)), errors.QuotaExceeded),
    "not-found": (Answer(404, status(404, "NotFound", 'pods "p1" not found')), errors.NotFound),
    "exists": (
        Answer(409, status(409, "AlreadyExists", 'pods "p1" already exists')),
        errors.AlreadyExists,
    ),
    "conflict": (
        Answer(
            409,
            status(
                409,
                "Conflict",
                'Operation cannot be fulfilled on pods "p1": the object has been modified',
            ),
        ),
        errors.Conflict,
    ),
    "gone": (Answer(410, status(410, "Expired", "too old resource version: 5 (100)")), errors.Gone),
    "invalid": (
        Answer(
            422, status(422, "Invalid", 'Pod "Bad_Name" is invalid: metadata.name: Invalid value')
        ),
        errors.Invalid,
    ),
    "throttled-json": (
        Answer(
            429,
            status(429, "TooManyRequests", "watch cache not ready", retryAfterSeconds=3),
            {"Retry-After": "3"},
        ),
        errors.Throttled,
    ),
    "throttled-text": (
        Answer(429, b"Too many requests, please try again later.\n", {"Retry-After": "7"}),
        errors.Throttled,
    ),
    "internal": (
        Answer(500, status(500, "InternalError", "Internal error occurred: boom")),
        errors.ServerError,
    ),
    "unavailable": (
        Answer(503, status(503, "ServiceUnavailable", "apiserver is shutting down")),
        errors.ServerError,
    ),
    "timeout": (
        Answer(
            504,
            status(504, "Timeout", "Timeout: request did not complete within requested timeout"),
        ),
        errors.ServerError,
    ),
    "unauthorized": (Answer(401, status(401, "Unauthorized", "Unauthorized")), errors.Unauthorized),
}


def kubeconfig(directory: Path, url: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stub", "cluster": {"server": url}}],
                "users": [{"name": "stub", "user": {"token": "t"}}],
                "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "stub"}}],
                "current-context": "stub",
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[client.CoreV1Api]:
    answers = {f"/api/v1/namespaces/ns/pods/{name}": answer for name, (answer, _) in CASES.items()}
    answers["/api/v1/namespaces/ns/pods/slow"] = Answer(200, b"{}", delay_s=2.0)
    with serving(answers) as url:
        path = kubeconfig(tmp_path_factory.mktemp("kube"), url)
        with clients.make_api_client(path) as api_client:
            yield client.CoreV1Api(api_client)


def read(api: client.CoreV1Api, name: str) -> errors.KubeError:
    with pytest.raises(errors.KubeError) as raised, errors.translating():
        api.read_namespaced_pod(name, "ns", _request_timeout=0.5)
    return raised.value


@pytest.mark.parametrize(
    ("name", "expected"), [pytest.param(n, c, id=n) for n, (_, c) in CASES.items()]
)
def test_each_status_maps_to_its_documented_class(
    api: client.CoreV1Api, name: str, expected: type[errors.KubeError]
) -> None:
    error = read(api, name)
    assert type(error) is expected
    assert error.status == CASES[name][0].status
    assert isinstance(error.__cause__, Exception)


@pytest.mark.parametrize(
    ("name", "family"),
    [
        pytest.param("bad-request", errors.Rejected, id="400-is-permanent"),
        pytest.param("rbac", errors.Rejected, id="rbac-403-is-permanent"),
        pytest.param("invalid", errors.Rejected, id="422-is-permanent"),
        pytest.param("quota", errors.Retryable, id="quota-403-is-retryable"),
        pytest.param("conflict", errors.Retryable, id="409-conflict-is-retryable"),
        pytest.param("throttled-text", errors.Retryable, id="429-is-retryable"),
        pytest.param("unavailable", errors.Retryable, id="503-is-retryable"),
    ],
)
def test_each_class_sits_in_the_right_family(
    api: client.CoreV1Api, name: str, family: type[errors.KubeError]
) -> None:
    assert isinstance(read(api, name), family)


def test_retry_after_is_read_from_the_header_of_both_429_shapes(api: client.CoreV1Api) -> None:
    assert read(api, "throttled-json").retry_after == 3.0
    text = read(api, "throttled-text")
    assert text.retry_after == 7.0
    assert "Too many requests" in text.message


def test_the_servers_reason_and_message_are_kept(api: client.CoreV1Api) -> None:
    error = read(api, "quota")
    assert error.reason == "Forbidden"
    assert "exceeded quota: compute" in str(error)


def test_a_request_that_times_out_is_unavailable(api: client.CoreV1Api) -> None:
    error = read(api, "slow")
    assert type(error) is errors.Unavailable
    assert "timed out" in str(error)


def test_a_server_that_refuses_connections_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with clients.make_api_client(kubeconfig(tmp_path, f"http://127.0.0.1:{port}")) as api_client:
        error = read(client.CoreV1Api(api_client), "any")
    assert type(error) is errors.Unavailable


def test_a_missing_kubeconfig_is_a_clear_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(clients.KubeConfigError, match="cannot configure the Kubernetes client"):
        clients.make_api_client(tmp_path / "absent")


def test_the_kubeconfig_environment_variable_is_used_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving({"/api/v1/namespaces/ns/pods/gone": CASES["gone"][0]}) as url:
        listed = f"{kubeconfig(tmp_path, url)}{os.pathsep}{tmp_path / 'second'}"
        monkeypatch.setenv("KUBECONFIG", listed)
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        with clients.make_api_client() as api_client:
            assert type(read(client.CoreV1Api(api_client), "gone")) is errors.Gone
