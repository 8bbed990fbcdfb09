"""What a container waits for before the kubelet can start it: the Secrets and ConfigMaps it names.

The kubelet mounts a pod's volumes before it creates any container, so a volume naming a missing
Secret or ConfigMap holds the whole pod in ContainerCreating (the kubelet only reports a FailedMount
event). It then builds each container's environment: `envFrom` first, then `env`; a missing object
or key there is `CreateContainerConfigError` with the kubelet's message (`secret "x" not found`,
`couldn't find key k in Secret ns/x`). A reference marked `optional: true` never holds anything.
"""

from __future__ import annotations

from typing import Any

from services.kubesim.configs import ConfigObjects

Pod = dict[str, Any]
_SINGULAR = {"secrets": "secret", "configmaps": "configmap"}
_KIND = {"secrets": "Secret", "configmaps": "ConfigMap"}


def missing_volume(pod: Pod, configs: ConfigObjects) -> str | None:
    """Why the pod's volumes cannot be mounted, or None when they can."""
    namespace = pod["metadata"].get("namespace", "")
    for volume in pod["spec"].get("volumes") or []:
        for resource, name, optional in _volume_sources(volume):
            if not optional and configs.find(resource, namespace, name) is None:
                return (
                    f'MountVolume.SetUp failed for volume "{volume.get("name", "")}" : '
                    f'{_SINGULAR[resource]} "{name}" not found'
                )
    return None


def env_error(pod: Pod, configs: ConfigObjects) -> str | None:
    """Why some container's environment cannot be built, or None when every one can."""
    namespace = pod["metadata"].get("namespace", "")
    for container in pod["spec"].get("containers") or []:
        for resource, ref in _env_from(container):
            found = _lookup(configs, resource, namespace, ref)
            if isinstance(found, str):
                return found
        for resource, ref in _env_refs(container):
            found = _lookup(configs, resource, namespace, ref)
            if isinstance(found, str):
                return found
            key = str(ref.get("key", ""))
            if found is not None and key not in (found.get("data") or {}) and not _optional(ref):
                return f"couldn't find key {key} in {_KIND[resource]} {namespace}/{ref.get('name')}"
    return None


def _lookup(
    configs: ConfigObjects, resource: str, namespace: str, ref: dict[str, Any]
) -> dict[str, Any] | str | None:
    """The object `ref` names; the kubelet's message when it is missing and not optional."""
    name = str(ref.get("name", ""))
    found = configs.find(resource, namespace, name)
    if found is None and not _optional(ref):
        return f'{_SINGULAR[resource]} "{name}" not found'
    return found


def _volume_sources(volume: dict[str, Any]) -> list[tuple[str, str, bool]]:
    sources: list[tuple[str, str, bool]] = []
    if isinstance(volume.get("secret"), dict):
        secret = volume["secret"]
        sources.append(("secrets", str(secret.get("secretName", "")), _optional(secret)))
    if isinstance(volume.get("configMap"), dict):
        config = volume["configMap"]
        sources.append(("configmaps", str(config.get("name", "")), _optional(config)))
    for projected in (volume.get("projected") or {}).get("sources") or []:
        for field, resource in (("secret", "secrets"), ("configMap", "configmaps")):
            ref = projected.get(field)
            if isinstance(ref, dict):
                sources.append((resource, str(ref.get("name", "")), _optional(ref)))
    return sources


def _env_from(container: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    refs: list[tuple[str, dict[str, Any]]] = []
    for source in container.get("envFrom") or []:
        for field, resource in (("secretRef", "secrets"), ("configMapRef", "configmaps")):
            if isinstance(source.get(field), dict):
                refs.append((resource, source[field]))
    return refs


def _env_refs(container: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    refs: list[tuple[str, dict[str, Any]]] = []
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom") or {}
        for field, resource in (("secretKeyRef", "secrets"), ("configMapKeyRef", "configmaps")):
            if isinstance(value_from.get(field), dict):
                refs.append((resource, value_from[field]))
    return refs


def _optional(ref: dict[str, Any]) -> bool:
    return ref.get("optional") is True
