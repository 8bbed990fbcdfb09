"""From a job message to a pod manifest, or to the reason it cannot become one.

Everything that can be decided without the API server is decided here, once per delivery: the
job must decode, fit its row (the same check as the API's), name a namespace this launcher serves
(and match the queue it came from), name a template only from the template directory, and
render to a pod that passes pod security (the level's controls, the operator's allowlists and
reserved keys: `shared.k8s.podsecurity`). A rejection keeps whatever of the task key could be
read, so the reconciler can fail the right row with the reason (and the job, when its row can
hold it); a body with no readable key, or one no row can hold, is only dead-lettered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared import admission
from shared.k8s import podsecurity, rendering, template_files
from shared.k8s.rendering import RenderSettings
from shared.k8s.template_files import Templates
from shared.messages import DecodeError, Job, TaskKey

#: The most of an unexpected error's message a rejection reason quotes.
_MAX_DETAIL = 300


@dataclass(frozen=True)
class LaunchSettings:
    render: RenderSettings
    namespaces: frozenset[str]
    security: podsecurity.PodSecurity


@dataclass(frozen=True)
class Prepared:
    job: Job
    namespace: str
    pod: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.pod["metadata"]["name"])


@dataclass(frozen=True)
class Rejection:
    """A job that cannot be launched, and why; `key` is None when not even that could be read."""

    reason: str
    namespace: str
    key: TaskKey | None = None
    try_number: int = 1
    job: Job | None = None


def prepare(
    body: bytes, *, queue_namespace: str, settings: LaunchSettings, templates: Templates
) -> Prepared | Rejection:
    try:
        job = Job.decode(body)
    except DecodeError as error:
        key, try_number = _partial_key(body)
        return Rejection(str(error), queue_namespace, key, try_number)
    namespace = job.namespace or queue_namespace
    try:
        admission.check_fits(job)
    except admission.Unfit as unfit:
        return _unfit(job, namespace, unfit)
    reason = _namespace_problem(namespace, queue_namespace, settings)
    if reason is None:
        reason = _template_problem(job, templates)
    if reason is not None:
        return Rejection(reason, namespace, job.key, job.try_number, job)
    return _render(job, namespace, settings, templates)


def _render(
    job: Job, namespace: str, settings: LaunchSettings, templates: Templates
) -> Prepared | Rejection:
    try:
        pod = rendering.render_pod(job, settings=settings.render, templates=templates)
    except template_files.TemplateError as error:
        return Rejection(str(error), namespace, job.key, job.try_number, job)
    except Exception as error:  # noqa: BLE001 - one job's fault must not stop the launcher
        return Rejection(
            unexpected("rendering the pod", error), namespace, job.key, job.try_number, job
        )
    reason = _security_problem(job, pod, settings, templates)
    if reason is not None:
        return Rejection(reason, namespace, job.key, job.try_number, job)
    return Prepared(job, namespace, pod)


def _unfit(job: Job, namespace: str, unfit: admission.Unfit) -> Rejection:
    """A job its row cannot hold: rejected without it, and without its key when that is what
    does not fit."""
    try:
        admission.check_key_fits(job.key, job.try_number)
    except admission.Unfit:
        return Rejection(str(unfit), namespace)
    return Rejection(str(unfit), namespace, job.key, job.try_number)


def unexpected(doing: str, error: Exception) -> str:
    """A one-line reason for an error nobody foresaw while `doing` something with one job."""
    text = " ".join(str(error).split())[:_MAX_DETAIL]
    return f"{doing} failed unexpectedly: {type(error).__name__}: {text}"


def _namespace_problem(
    namespace: str, queue_namespace: str, settings: LaunchSettings
) -> str | None:
    if namespace not in settings.namespaces:
        served = ", ".join(sorted(settings.namespaces))
        return f"namespace {namespace!r} is not served by this podrunner (serves: {served})"
    if namespace != queue_namespace:
        return f"job for namespace {namespace!r} arrived on the queue of {queue_namespace!r}"
    return None


def _template_problem(job: Job, templates: Templates) -> str | None:
    """The rule a job's own template name breaks (the same check as the API's), if any."""
    try:
        admission.check_template_name(job.pod_template_file, template_dir=templates.directory)
    except admission.Refused as refused:
        return str(refused)
    return None


def _security_problem(
    job: Job, pod: dict[str, Any], settings: LaunchSettings, templates: Templates
) -> str | None:
    """The one-line refusal of `job`'s rendered pod, or None when it may be created."""
    try:
        found = podsecurity.judge(
            job, pod, security=settings.security, render=settings.render, templates=templates
        )
    except Exception as error:  # noqa: BLE001 - one job's fault must not stop the launcher
        return unexpected("checking pod security", error)
    return podsecurity.refusal(settings.security.level, found) if found else None


def _partial_key(body: bytes) -> tuple[TaskKey | None, int]:
    """The task key of a job that failed to decode, when its key fields are readable."""
    try:
        data = orjson.loads(body)
        key = TaskKey(
            dag_id=data["dag_id"],
            task_id=data["task_id"],
            run_id=data["run_id"],
            map_index=data.get("map_index", -1),
        )
        try_number = data.get("try_number", 1)
    except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError, ValueError):
        return None, 1
    if not isinstance(try_number, int) or isinstance(try_number, bool) or try_number < 1:
        try_number = 1
    try:
        admission.check_key_fits(key, try_number)
    except admission.Unfit:
        return None, 1
    return key, try_number
