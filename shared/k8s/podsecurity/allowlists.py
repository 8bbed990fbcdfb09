"""The operator's allowlists: what a job may change in its pod beyond what the template set.

Pod Security Standards say nothing about whose service account a pod runs as, which image it
pulls, which Secrets it reads or which node it lands on, yet any of those lets a job borrow the
control plane's credentials or escape its place. So what the job changed — found by comparing
the rendered pod with the pod the same job renders to without its image, labels, annotations and
override (the operator's pod) — must fit these lists, at every level, `privileged` included. What
the template set is the operator's choice and is not judged here: its service account, its own
Secret mounts and its sidecars' images are fine.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.k8s.podsecurity._types import Violation
from shared.k8s.podsecurity._walk import CONTAINER_LISTS, mapping, objects, quoted, spec_of
from shared.k8s.podsecurity.restricted import RESTRICTED_VOLUME_TYPES, volume_type


class Placement(enum.StrEnum):
    """Pod spec fields that choose a node."""

    NODE_NAME = "nodeName"
    NODE_SELECTOR = "nodeSelector"
    AFFINITY = "affinity"
    TOLERATIONS = "tolerations"


#: Placement a job may set by default: narrowing the nodes it may use, never skipping the scheduler
#: (nodeName) or tolerating the taints that keep ordinary pods off dedicated nodes.
DEFAULT_PLACEMENT = frozenset({Placement.NODE_SELECTOR, Placement.AFFINITY})
#: The pseudo volume type of a projected service-account token.
SERVICE_ACCOUNT_TOKEN = "serviceAccountToken"  # noqa: S105 - a volume type, not a secret
#: Volume types a job may add by default: restricted's, without Secrets.
DEFAULT_VOLUME_TYPES = RESTRICTED_VOLUME_TYPES - {"secret"}
#: Every volume source of a pod (core/v1), plus projected service-account tokens.
VOLUME_TYPES = RESTRICTED_VOLUME_TYPES | {
    SERVICE_ACCOUNT_TOKEN,
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
}


@dataclass(frozen=True)
class Allowlists:
    """What a job may set in its pod; `images` are shell-style patterns (`registry.example/t/*`)."""

    images: tuple[str, ...]
    service_accounts: frozenset[str] = frozenset()
    volume_types: frozenset[str] = DEFAULT_VOLUME_TYPES
    secrets: frozenset[str] = frozenset()
    placement: frozenset[Placement] = field(default=DEFAULT_PLACEMENT)


def image_patterns_for(image: str) -> tuple[str, ...]:
    """Patterns matching any tag or digest of `image`'s repository (`python:3.11` → `python:*`)."""
    repository = image.split("@", 1)[0]
    name_start = repository.rfind("/") + 1
    if ":" in repository[name_start:]:
        repository = repository[: repository.rindex(":")]
    return (repository, f"{repository}:*", f"{repository}@*")


def job_violations(
    pod: Mapping[str, Any], *, operator_pod: Mapping[str, Any], allow: Allowlists
) -> list[Violation]:
    """Every change the job made to `operator_pod`, yielding `pod`, that `allow` does not allow."""
    return [
        *_service_account(spec_of(pod), spec_of(operator_pod), allow),
        *_images(pod, operator_pod, allow),
        *_volumes(spec_of(pod), spec_of(operator_pod), allow),
        *_env_secrets(pod, operator_pod, allow),
        *_pull_secrets(spec_of(pod), spec_of(operator_pod), allow),
        *_placement(spec_of(pod), spec_of(operator_pod), allow),
    ]


def _service_account(
    spec: Mapping[str, Any], operator: Mapping[str, Any], allow: Allowlists
) -> Iterator[Violation]:
    for name in ("serviceAccountName", "serviceAccount"):
        value = spec.get(name)
        if value != operator.get(name) and value not in allow.service_accounts:
            yield Violation(
                "serviceAccount",
                f"spec.{name}",
                f"{quoted(value)} is not in PODRUNNER_JOB_SERVICE_ACCOUNTS",
            )
    turned_on = spec.get("automountServiceAccountToken") is not False
    if turned_on and operator.get("automountServiceAccountToken") is False:
        yield Violation(
            "serviceAccount",
            "spec.automountServiceAccountToken",
            "must stay false, as the pod template has it",
        )


def _images(
    pod: Mapping[str, Any], operator_pod: Mapping[str, Any], allow: Allowlists
) -> Iterator[Violation]:
    for where, container, theirs in _paired_containers(pod, operator_pod):
        image = container.get("image")
        if image is None or image == theirs.get("image"):
            continue
        if not any(fnmatch.fnmatchcase(str(image), p) for p in allow.images):
            yield Violation(
                "image",
                f"{where}.image",
                f"{quoted(image)} matches no PODRUNNER_JOB_IMAGES pattern",
            )


def _volumes(
    spec: Mapping[str, Any], operator: Mapping[str, Any], allow: Allowlists
) -> Iterator[Violation]:
    theirs = {v.get("name"): v for v in objects(operator.get("volumes"))}
    for n, volume in enumerate(objects(spec.get("volumes"))):
        if volume == theirs.get(volume.get("name")):
            continue
        for path, kind, secret in _volume_sources(f"spec.volumes[{n}]", volume):
            if kind not in allow.volume_types:
                yield Violation("volumeType", path, f"{kind} is not in PODRUNNER_JOB_VOLUME_TYPES")
            if secret is not None:
                yield from _secret(path, secret, allow)


def _volume_sources(where: str, volume: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(path, type, Secret name or None) of a volume and, when projected, of each source."""
    kind = volume_type(volume)
    if kind is None:
        return
    source = mapping(volume.get(kind))
    if kind == "secret":
        yield f"{where}.secret", kind, source.get("secretName")
    elif kind != "projected":
        yield f"{where}.{kind}", kind, None
    else:
        yield f"{where}.projected", kind, None
        for n, item in enumerate(objects(source.get("sources"))):
            path = f"{where}.projected.sources[{n}]"
            if item.get("secret") is not None:
                yield f"{path}.secret", "secret", mapping(item.get("secret")).get("name")
            if item.get(SERVICE_ACCOUNT_TOKEN) is not None:
                yield f"{path}.{SERVICE_ACCOUNT_TOKEN}", SERVICE_ACCOUNT_TOKEN, None


def _env_secrets(
    pod: Mapping[str, Any], operator_pod: Mapping[str, Any], allow: Allowlists
) -> Iterator[Violation]:
    for where, container, theirs in _paired_containers(pod, operator_pod):
        their_env = {e.get("name"): e for e in objects(theirs.get("env"))}
        for n, env in enumerate(objects(container.get("env"))):
            ref = mapping(mapping(env.get("valueFrom")).get("secretKeyRef"))
            if ref and env != their_env.get(env.get("name")):
                path = f"{where}.env[{n}].valueFrom.secretKeyRef.name"
                yield from _secret(path, ref.get("name"), allow)
        their_from = objects(theirs.get("envFrom"))
        for n, source in enumerate(objects(container.get("envFrom"))):
            ref = mapping(source.get("secretRef"))
            if ref and source not in their_from:
                yield from _secret(f"{where}.envFrom[{n}].secretRef.name", ref.get("name"), allow)


def _pull_secrets(
    spec: Mapping[str, Any], operator: Mapping[str, Any], allow: Allowlists
) -> Iterator[Violation]:
    theirs = objects(operator.get("imagePullSecrets"))
    for n, ref in enumerate(objects(spec.get("imagePullSecrets"))):
        if ref not in theirs:
            yield from _secret(f"spec.imagePullSecrets[{n}].name", ref.get("name"), allow)


def _secret(path: str, name: Any, allow: Allowlists) -> Iterator[Violation]:
    if name not in allow.secrets:
        yield Violation("secret", path, f"{quoted(name)} is not in PODRUNNER_JOB_SECRETS")


def _placement(
    spec: Mapping[str, Any], operator: Mapping[str, Any], allow: Allowlists
) -> Iterator[Violation]:
    for placement in Placement:
        if placement not in allow.placement and spec.get(placement) != operator.get(placement):
            yield Violation("placement", f"spec.{placement}", "is not in PODRUNNER_JOB_PLACEMENT")


def _paired_containers(
    pod: Mapping[str, Any], operator_pod: Mapping[str, Any]
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """Each container of `pod` with its path and the operator's container of that name (or {})."""
    for field_name in CONTAINER_LISTS:
        theirs = {c.get("name"): c for c in objects(spec_of(operator_pod).get(field_name))}
        for n, container in enumerate(objects(spec_of(pod).get(field_name))):
            yield f"spec.{field_name}[{n}]", container, theirs.get(container.get("name"), {})
