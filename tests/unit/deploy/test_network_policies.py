"""Each namespace denies all traffic first, then lets each pod reach exactly what it needs.

NetworkPolicies are read the way a network plugin applies them: a pod is isolated in a direction
once any policy of its namespace selects it for that direction, and may then use the union of
the ports those policies' rules allow (a rule without `ports` allows every port). The ports each
pod needs come from what its code talks to: DNS everywhere; the Kubernetes API server for the
three services; Redis for the three services; Postgres for the reconciler and the migration;
in, only each service's health port (the reconciler's API shares it). A worker pod runs task
code, so it gets DNS and nothing else: no Redis, no Postgres, no podrunner port, no API server.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.settings import DEFAULT_HEALTH_PORTS
from tests.support import manifests

pytestmark = pytest.mark.timeout(10)

OVERLAYS = sorted(manifests.KUSTOMIZATIONS)
Port = tuple[str, int]
#: What a rule without `ports` allows.
EVERY_PORT: frozenset[Port] = frozenset({("ANY", 0)})

DNS: frozenset[Port] = frozenset({("UDP", 53), ("TCP", 53)})
API_SERVER: frozenset[Port] = frozenset({("TCP", 443), ("TCP", 6443)})
REDIS: frozenset[Port] = frozenset({("TCP", 6379)})
POSTGRES: frozenset[Port] = frozenset({("TCP", 5432)})
#: Out of a pod, by its `app.kubernetes.io/component` label.
EGRESS = {
    "launcher": DNS | API_SERVER | REDIS,
    "watcher": DNS | API_SERVER | REDIS,
    "reconciler": DNS | API_SERVER | REDIS | POSTGRES,
    "db-migrate": DNS | POSTGRES,
    "worker": DNS,
}
#: Into a pod: each service's health port (scrapes; the reconciler's API shares it).
INGRESS = {
    **{service: frozenset({("TCP", port)}) for service, port in DEFAULT_HEALTH_PORTS.items()},
    "db-migrate": frozenset(),
    "worker": frozenset(),
}
#: What a worker pod must never reach, whatever else is opened for it.
NEVER_FROM_WORKERS = (
    REDIS | POSTGRES | API_SERVER | {("TCP", p) for p in DEFAULT_HEALTH_PORTS.values()}
)

Resource = dict[str, Any]


def _policies(resources: list[Resource], namespace: str) -> list[Resource]:
    return [
        r
        for r in resources
        if r["kind"] == "NetworkPolicy" and r["metadata"]["namespace"] == namespace
    ]


def _selects(policy: Resource, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    assert set(selector) <= {"matchLabels"}, "extend _selects for matchExpressions"
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return wanted.items() <= labels.items()


def _rule_ports(rule: Resource) -> frozenset[Port]:
    if not rule.get("ports"):
        return EVERY_PORT
    found: set[Port] = set()
    for entry in rule["ports"]:
        assert isinstance(entry["port"], int), "name ports by number, so they can be checked"
        last = entry.get("endPort", entry["port"])
        found |= {(entry.get("protocol", "TCP"), p) for p in range(entry["port"], last + 1)}
    return frozenset(found)


def allowed(policies: list[Resource], labels: dict[str, str], direction: str) -> frozenset[Port]:
    """The ports a pod with `labels` may use in `direction` (Ingress or Egress)."""
    selecting = [
        p for p in policies if _selects(p, labels) and direction in p["spec"]["policyTypes"]
    ]
    assert selecting, f"no policy isolates {labels} for {direction}: everything is allowed"
    rules = [rule for p in selecting for rule in p["spec"].get(direction.lower(), [])]
    return frozenset().union(*(_rule_ports(rule) for rule in rules))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_namespace_has_a_policy_denying_everything_to_every_pod(overlay: str) -> None:
    resources = manifests.rendered(overlay)
    for namespace in manifests.namespaces(resources).values():
        assert [
            p
            for p in _policies(resources, namespace)
            if p["spec"]["podSelector"] == {}
            and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
        ], f"{namespace} has no default-deny NetworkPolicy"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_may_reach_and_be_reached_on_exactly_the_ports_it_needs(overlay: str) -> None:
    resources = manifests.rendered(overlay)
    for pod in manifests.pods(resources):
        component = pod.labels["app.kubernetes.io/component"]
        policies = _policies(resources, pod.namespace)
        assert allowed(policies, pod.labels, "Egress") == EGRESS[component], pod.source
        assert allowed(policies, pod.labels, "Ingress") == INGRESS[component], pod.source


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_worker_pod_reaches_no_redis_postgres_podrunner_port_or_api_server(
    overlay: str,
) -> None:
    resources = manifests.rendered(overlay)
    workers = manifests.namespaces(resources)[manifests.WORKERS]
    for policy in _policies(resources, workers):
        assert not policy["spec"].get("ingress"), policy["metadata"]["name"]
        for rule in policy["spec"].get("egress", []):
            ports = _rule_ports(rule)
            assert ports != EVERY_PORT, f"{policy['metadata']['name']} opens every port"
            assert not ports & NEVER_FROM_WORKERS, policy["metadata"]["name"]
            assert rule.get("to"), f"{policy['metadata']['name']} opens a port to everywhere"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dns_is_allowed_only_to_the_clusters_dns_pods(overlay: str) -> None:
    resources = manifests.rendered(overlay)
    for policy in (r for r in resources if r["kind"] == "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            if _rule_ports(rule) & DNS:
                assert _rule_ports(rule) == DNS, policy["metadata"]["name"]
                for peer in rule["to"]:
                    namespace = peer["namespaceSelector"]["matchLabels"]
                    assert namespace == {"kubernetes.io/metadata.name": "kube-system"}
                    assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
