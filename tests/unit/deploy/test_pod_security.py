"""Every pod the manifests make passes the "restricted" Pod Security Standard.

Both namespaces enforce restricted (Pod Security Admission refuses any other pod), so a pod that
breaks it would never start: the migration Job would hang, a Deployment would have no replicas,
and every task would be refused. The pods are judged as the API server will see them: the
Deployments' and the Job's pod templates, and the worker pod template every task's pod starts
from, in the base and in each overlay, by podrunner's own checker (`shared.k8s.podsecurity`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from shared.k8s import podsecurity
from tests.support import manifests

pytestmark = pytest.mark.timeout(10)


def _pods() -> Iterator[Any]:
    for name in manifests.KUSTOMIZATIONS:
        for pod in manifests.pods(manifests.rendered(name)):
            yield pytest.param(pod, id=f"{name}:{pod.source}")


@pytest.mark.parametrize("pod", list(_pods()))
def test_every_pod_of_every_rendering_passes_the_restricted_standard(pod: manifests.Pod) -> None:
    found = podsecurity.violations(pod.manifest, podsecurity.Level.RESTRICTED)
    assert [str(violation) for violation in found] == []


def test_a_weakened_worker_template_is_caught_so_the_check_above_is_not_vacuous() -> None:
    # Given the base's worker pod template
    (worker,) = [p for p in manifests.pods(manifests.rendered("base")) if "ConfigMap" in p.source]
    weakened: dict[str, Any] = copy.deepcopy(worker.manifest)
    # When its container may escalate privileges and keeps its capabilities
    context = weakened["spec"]["containers"][0]["securityContext"]
    context["allowPrivilegeEscalation"] = True
    del context["capabilities"]
    # Expect both breaches reported
    found = podsecurity.violations(weakened, podsecurity.Level.RESTRICTED)
    assert {violation.control for violation in found} >= {
        "allowPrivilegeEscalation",
        "capabilities",
    }
