"""One table of strategic-merge keys serves the override merge, kubesim's PATCH and kustomize.

Each merge used to carry its own table, and each missed fields Kubernetes merges by key: the
override merge lacked `topologySpreadConstraints` and `schedulingGates`, kubesim lacked
`hostAliases`, `volumeDevices` and `topologySpreadConstraints`, and the kustomize renderer had
only seven keys. These tests hold each merge to Kubernetes' behaviour for those fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.kubesim import patching
from shared.k8s import merging
from tests.support import kustomize

SPREAD = [
    {"topologyKey": "zone", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"},
    {"topologyKey": "host", "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway"},
]


def test_an_override_merges_topology_spread_constraints_by_topology_key() -> None:
    base = {"spec": {"topologySpreadConstraints": SPREAD}}
    overlay = {"spec": {"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 3}]}}
    merged = merging.merge(base, overlay)["spec"]["topologySpreadConstraints"]
    assert [(c["topologyKey"], c["maxSkew"]) for c in merged] == [("zone", 3), ("host", 1)]


def test_an_override_merges_scheduling_gates_by_name() -> None:
    base = {"spec": {"schedulingGates": [{"name": "a"}]}}
    overlay = {"spec": {"schedulingGates": [{"name": "b"}, {"name": "a"}]}}
    merged = merging.merge(base, overlay)["spec"]["schedulingGates"]
    assert merged == [{"name": "a"}, {"name": "b"}]


def test_a_kubesim_strategic_patch_merges_host_aliases_by_ip() -> None:
    pod = {"spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}]}}
    patch = {"spec": {"hostAliases": [{"ip": "10.0.0.2", "hostnames": ["b"]}]}}
    merged = patching.strategic_merge_patch(pod, patch)["spec"]["hostAliases"]
    assert [alias["ip"] for alias in merged] == ["10.0.0.1", "10.0.0.2"]


def test_a_kubesim_strategic_patch_merges_volume_devices_by_device_path() -> None:
    device = {"name": "disk", "devicePath": "/dev/xvda"}
    pod = {"spec": {"containers": [{"name": "base", "volumeDevices": [device]}]}}
    patch = {
        "spec": {
            "containers": [
                {"name": "base", "volumeDevices": [{"name": "raw", "devicePath": "/dev/xvdb"}]}
            ]
        }
    }
    merged = patching.strategic_merge_patch(pod, patch)["spec"]["containers"][0]
    assert [d["devicePath"] for d in merged["volumeDevices"]] == ["/dev/xvda", "/dev/xvdb"]


def test_a_kustomize_patch_merges_topology_spread_constraints_by_topology_key(
    tmp_path: Path,
) -> None:
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [], "topologySpreadConstraints": SPREAD}}},
    }
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"topologySpreadConstraints": [SPREAD[1] | {"maxSkew": 2}]}}},
    }
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(deployment))
    (tmp_path / "patch.yaml").write_text(yaml.safe_dump(patch))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["web.yaml"], "patches": [{"path": "patch.yaml"}]})
    )
    [rendered] = kustomize.build(tmp_path)
    spread = rendered["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [(c["topologyKey"], c["maxSkew"]) for c in spread] == [("zone", 1), ("host", 2)]
