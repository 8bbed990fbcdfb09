"""The list fields of a pod that Kubernetes' strategic merge patch merges by an item key.

Three merges in podrunner follow Kubernetes' strategic merge for pods: laying a job's
`pod_override` over its pod (`shared.k8s.merging`), kubesim's PATCH, and the tests' kustomize
renderer. They read this one table, so a field the API server merges by key is merged by key in
all three, and a new field is added once.

The entries are the fields of `Pod`, its `ObjectMeta`, `PodSpec`, `Container` and `PodStatus`
whose Go definitions in `k8s.io/api/core/v1` carry a `patchMergeKey` tag (with strategy
`merge`). Kubernetes keys by the field's place in the type; podrunner keys by the field's name,
which is the same within a pod because no two of those fields share a name with different keys.
Every other list is replaced whole; primitive lists that merge as a set are in `UNION_LISTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Item key of each list field merged item by item, by field name.
MERGE_KEYS: Mapping[str, str] = MappingProxyType(
    {
        # ObjectMeta
        "ownerReferences": "uid",
        # PodSpec
        "containers": "name",
        "initContainers": "name",
        "ephemeralContainers": "name",
        "volumes": "name",
        "imagePullSecrets": "name",
        "hostAliases": "ip",
        "topologySpreadConstraints": "topologyKey",
        "schedulingGates": "name",
        "resourceClaims": "name",
        # Container (and EphemeralContainer)
        "env": "name",
        "ports": "containerPort",
        "volumeMounts": "mountPath",
        "volumeDevices": "devicePath",
        # PodStatus
        "conditions": "type",
        "podIPs": "ip",
        "hostIPs": "ip",
        "resourceClaimStatuses": "name",
    }
)

#: Primitive lists a strategic merge joins as a set (ObjectMeta's `finalizers`).
UNION_LISTS: frozenset[str] = frozenset({"finalizers"})
