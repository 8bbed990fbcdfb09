"""spec.schedulerName: only the default scheduler's pods are bound; another scheduler's pods are
left exactly as created (as on a cluster that does not run that scheduler)."""

from __future__ import annotations

from tests.conformance.conftest import Target
from tests.conformance.kubelet_steps import create, phase_is, read, run_control, shell_pod, until


def test_a_pod_naming_another_scheduler_stays_pending_untouched(
    target: Target, namespace: str
) -> None:
    # Given a pod for a scheduler the cluster does not run
    body = shell_pod("elsewhere", "true", run_s=0.05)
    body["spec"]["schedulerName"] = "no-such-scheduler"
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    # When a default-scheduler pod created after it has run to its end
    run_control(target, namespace)
    # Expect the first one never written: no node, no conditions, the same resourceVersion
    pod = read(target, namespace, "elsewhere")
    assert pod["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert pod["status"] == {"phase": "Pending", "qosClass": created["status"]["qosClass"]}
    assert "nodeName" not in pod["spec"]


def test_a_pod_naming_the_default_scheduler_runs(target: Target, namespace: str) -> None:
    body = shell_pod("default", "true", run_s=0.05)
    body["spec"]["schedulerName"] = "default-scheduler"
    name = create(target, namespace, body)
    assert until(target, namespace, name, phase_is("Succeeded"))["spec"]["nodeName"]


def test_a_pod_without_a_scheduler_name_is_given_the_default_one(
    target: Target, namespace: str
) -> None:
    name = create(target, namespace, shell_pod("plain", "true", run_s=0.05))
    assert read(target, namespace, name)["spec"]["schedulerName"] == "default-scheduler"
