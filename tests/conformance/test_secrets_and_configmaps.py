"""Secrets and ConfigMaps: create, get, list, delete; and what a pod naming a missing one does.

A missing object named by an env `valueFrom` or an `envFrom` (without `optional: true`) holds
the container in CreateContainerConfigError with the kubelet's message; one named by a volume
holds the pod in ContainerCreating. Either way the pod starts once the object exists.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conformance.conftest import Target
from tests.conformance.kubelet_steps import (
    create,
    phase_is,
    read,
    run_control,
    shell_pod,
    until,
    waiting,
)

KINDS = [pytest.param("secrets", id="secret"), pytest.param("configmaps", id="configmap")]


def config(kind: str, name: str, **data: str) -> dict[str, Any]:
    if kind == "secrets":
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "stringData": data,
        }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def using_env(name: str, source: dict[str, Any]) -> dict[str, Any]:
    body = shell_pod(name, "true", run_s=0.05)
    body["spec"]["containers"][0]["env"] = [{"name": "VALUE", "valueFrom": source}]
    return body


@pytest.mark.parametrize("kind", KINDS)
def test_an_object_is_created_read_listed_and_deleted(
    target: Target, namespace: str, kind: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/{kind}"
    created = target.http.post(path, json=config(kind, "settings", colour="blue"))
    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["uid"]
    value = target.http.get(f"{path}/settings").json()["data"]["colour"]
    assert value == (base64.b64encode(b"blue").decode() if kind == "secrets" else "blue")
    listed = target.http.get(path).json()
    assert [item["metadata"]["name"] for item in listed["items"]] == ["settings"]
    again = target.http.post(path, json=config(kind, "settings"))
    assert (again.status_code, again.json()["reason"]) == (409, "AlreadyExists")
    deleted = target.http.delete(f"{path}/settings").json()
    assert (deleted["kind"], deleted["status"]) == ("Status", "Success")
    missing = target.http.get(f"{path}/settings")
    assert missing.status_code == 404
    assert missing.json()["message"] == f'{kind} "settings" not found'


@pytest.mark.parametrize(
    ("field", "kind", "message"),
    [
        pytest.param("secretKeyRef", "secrets", 'secret "creds" not found', id="secret"),
        pytest.param("configMapKeyRef", "configmaps", 'configmap "creds" not found', id="cm"),
    ],
)
def test_an_env_value_from_a_missing_object_waits_then_runs_once_it_exists(
    target: Target, namespace: str, field: str, kind: str, message: str
) -> None:
    # Given a pod reading a key of an object that does not exist
    name = create(target, namespace, using_env("reader", {field: {"name": "creds", "key": "k"}}))
    # Expect it held with the kubelet's message
    pod = until(
        target, namespace, name, lambda p: waiting(p).get("reason") == "CreateContainerConfigError"
    )
    assert waiting(pod)["message"] == message
    assert pod["status"]["phase"] == "Pending"
    # When the object is created, it runs
    create(target, namespace, config(kind, "creds", k="v"), kind=kind)
    until(target, namespace, name, phase_is("Succeeded"))


def test_a_missing_key_names_the_key_and_the_object(target: Target, namespace: str) -> None:
    create(target, namespace, config("configmaps", "partial", other="x"), kind="configmaps")
    source = {"configMapKeyRef": {"name": "partial", "key": "wanted"}}
    name = create(target, namespace, using_env("keyless", source))
    pod = until(
        target, namespace, name, lambda p: waiting(p).get("reason") == "CreateContainerConfigError"
    )
    assert waiting(pod)["message"] == f"couldn't find key wanted in ConfigMap {namespace}/partial"


def test_env_from_a_missing_secret_waits_with_its_name(target: Target, namespace: str) -> None:
    body = shell_pod("bulk", "true", run_s=0.05)
    body["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "absent"}}]
    name = create(target, namespace, body)
    pod = until(
        target, namespace, name, lambda p: waiting(p).get("reason") == "CreateContainerConfigError"
    )
    assert waiting(pod)["message"] == 'secret "absent" not found'


def test_an_optional_reference_to_a_missing_object_does_not_hold_the_pod(
    target: Target, namespace: str
) -> None:
    source = {"secretKeyRef": {"name": "absent", "key": "k", "optional": True}}
    body = using_env("relaxed", source)
    body["spec"]["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": "absent", "optional": True}}
    ]
    until(target, namespace, create(target, namespace, body), phase_is("Succeeded"))


def test_a_volume_of_a_missing_secret_holds_the_pod_in_container_creating(
    target: Target, namespace: str
) -> None:
    # Given a pod mounting a secret that does not exist
    body = shell_pod("mounting", "true", run_s=0.05)
    body["spec"]["volumes"] = [{"name": "creds", "secret": {"secretName": "later"}}]
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "creds", "mountPath": "/creds"}]
    name = create(target, namespace, body)
    # Expect it held in ContainerCreating, even after the cluster has run another pod
    until(target, namespace, name, lambda p: waiting(p).get("reason") == "ContainerCreating")
    run_control(target, namespace)
    pod = read(target, namespace, name)
    assert (pod["status"]["phase"], waiting(pod)["reason"]) == ("Pending", "ContainerCreating")
    # When the secret is created, it runs
    create(target, namespace, config("secrets", "later", k="v"), kind="secrets")
    until(target, namespace, name, phase_is("Succeeded"))
