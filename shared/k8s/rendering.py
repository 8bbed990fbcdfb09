"""Rendering a job into the pod manifest the launcher creates.

Three layers, each merged over the previous one by `merging.merge` (containers, env and volumes by
name):

1. the pod template file: the one the job names from `PODRUNNER_POD_TEMPLATE_DIR`, else
   `PODRUNNER_POD_TEMPLATE_FILE`, else a bare pod with one `base` container, hardened to pass the
   restricted Pod Security Standard (non-root user 10001, RuntimeDefault seccomp, no privilege
   escalation, every capability dropped, a read-only root filesystem with an emptyDir on /tmp,
   no service-account token); files are read by `template_files`, which confines what a job may
   name;
2. podrunner's dynamic pod: name, namespace, the job's labels and annotations, the `base`
   container's command (and its image when the job names one), `restartPolicy: Never`;
3. the job's `pod_override`.

Then ownership is asserted again, so no override can take a pod away from podrunner: the name,
namespace, `podrunner.io/*` and managed-by labels and annotations, the result finalizer and
`restartPolicy: Never` are podrunner's. Fields the server sets (`resourceVersion`, `uid`,
`status`, ...) are dropped, since a create that carries them fails. The `base` container's image is
the job's, else the one merged from template and override, else `PODRUNNER_WORKER_IMAGE`.

`restartPolicy` is forced to Never whatever a template or override asks: under OnFailure or Always
the kubelet would restart a failed task's container in place (CrashLoopBackOff) and the pod would
stay Running, so the task would never end and its failure would be hidden. A task's retries are
its tries (a new `try_number`, a new pod), decided by whoever submits it; the first exit of the
`base` container is the try's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.k8s import merging, naming, template_files
from shared.messages import Job

BASE_CONTAINER = "base"

_SERVER_SET_METADATA = (
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
    "generation",
    "generateName",
)


@dataclass(frozen=True)
class RenderSettings:
    """What rendering needs from the settings."""

    instance: str
    namespace: str
    worker_image: str
    template_file: Path | None = None


def render_pod(
    job: Job, *, settings: RenderSettings, templates: template_files.Templates
) -> dict[str, Any]:
    """The pod manifest (Kubernetes JSON, camelCase) for `job`.

    Raises:
        TemplateError: the template file cannot be used (see `template_files`).
    """
    if job.pod_template_file:
        pod = templates.load_named(job.pod_template_file)
    elif settings.template_file:
        pod = templates.load(settings.template_file)
    else:
        pod = _bare_pod()
    merging.merge_into(pod, _dynamic_pod(job))  # a fresh pod: a template's is a copy
    if job.pod_override:
        merging.merge_into(pod, job.pod_override)
    return _assert_ownership(pod, job=job, settings=settings)


def namespace_of(job: Job, *, default: str) -> str:
    return job.namespace or default


#: The user and group the bare pod runs as: any non-root id works with the worker image.
BARE_POD_USER = 10001


def _bare_pod() -> dict[str, Any]:
    base = {
        "name": BASE_CONTAINER,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - the pod's own
    }
    return {
        "metadata": {},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": BARE_POD_USER,
                "runAsGroup": BARE_POD_USER,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [base],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def _dynamic_pod(job: Job) -> dict[str, Any]:
    base: dict[str, Any] = {"name": BASE_CONTAINER, "command": list(job.command), "args": None}
    if job.image:
        base["image"] = job.image
    return {
        "metadata": {"labels": dict(job.labels or {}), "annotations": dict(job.annotations or {})},
        "spec": {"containers": [base]},
    }


def _assert_ownership(pod: dict[str, Any], *, job: Job, settings: RenderSettings) -> dict[str, Any]:
    """podrunner's fields, over whatever the layers said; `restartPolicy` is always Never, so a
    failed task ends failed instead of restarting in place (see the module docstring)."""
    for top_level in ("apiVersion", "kind", "status"):
        pod.pop(top_level, None)
    metadata = pod.setdefault("metadata", {})
    for server_field in _SERVER_SET_METADATA:
        metadata.pop(server_field, None)
    metadata["name"] = naming.pod_name(job.key, job.try_number)
    metadata["namespace"] = namespace_of(job, default=settings.namespace)
    metadata["labels"] = {
        **(metadata.get("labels") or {}),
        **naming.ownership_labels(settings.instance),
        **naming.key_labels(job.key, job.try_number),
    }
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        **naming.key_annotations(job.key, job.try_number),
    }
    finalizers = [f for f in metadata.get("finalizers") or [] if f != naming.RESULT_FINALIZER]
    metadata["finalizers"] = [*finalizers, naming.RESULT_FINALIZER]
    spec = pod.setdefault("spec", {})
    spec["restartPolicy"] = "Never"
    base = _base_container(spec)
    if job.image:
        base["image"] = job.image
    base.setdefault("image", settings.worker_image)
    base.setdefault("command", list(job.command))
    return {"apiVersion": "v1", "kind": "Pod", **pod}


def _base_container(spec: dict[str, Any]) -> dict[str, Any]:
    containers = spec.setdefault("containers", [])
    for container in containers:
        if isinstance(container, dict) and container.get("name") == BASE_CONTAINER:
            return container
    base: dict[str, Any] = {"name": BASE_CONTAINER}
    containers.append(base)
    return base
