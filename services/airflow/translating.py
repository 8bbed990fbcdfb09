"""An Airflow `ExecuteTask` workload as a podrunner job, field by field.

* The task key and try map one to one: dag_id, task_id, run_id, map_index, try_number.
* The command is what Airflow's own Kubernetes executor runs for the workload: the Task SDK's
  `execute_workload` module given the workload as JSON (the pod's interpreter is configurable).
* `executor_config["pod_override"]` (a `V1Pod` or a dict in the API's JSON shape) becomes the
  job's `pod_override`, and its `metadata.namespace`, if any, the job's namespace;
  `executor_config["pod_template_file"]` the job's (a name in `PODRUNNER_POD_TEMPLATE_DIR`).
* The priority is the task's `priority_weight` plus its queue's share from
  `[podrunner] queue_priorities`, kept within 32 bits: higher runs first (the job queues order
  by it, in ten levels: 0 and below, 1, ..., 9 and above).

Nothing here renders a pod or asks Kubernetes: the launcher does that, off the scheduler.
"""

from __future__ import annotations

from typing import Any

from services.airflow.configuring import ExecutorOptions
from shared import admission
from shared.k8s import objects
from shared.messages import Job

#: The Task SDK module Airflow's Kubernetes executor runs in the pod, given the workload's JSON.
WORKLOAD_MODULE = "airflow.sdk.execution_time.execute_workload"


class Untranslatable(ValueError):
    """The workload's `executor_config` cannot become a job; the message says why."""


def job_for(workload: Any, *, options: ExecutorOptions) -> Job:
    """The job that runs `workload` (an `ExecuteTask`) once.

    Raises:
        Untranslatable: the executor_config is not one podrunner can take.
        DecodeError: the job the workload makes is not valid (naming the field).
    """
    ti = workload.ti
    config = ti.executor_config or {}
    if not isinstance(config, dict):
        raise Untranslatable(f"executor_config must be a dict, not {type(config).__name__}")
    fields: dict[str, Any] = {
        "version": 1,
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "map_index": ti.map_index if ti.map_index is not None else -1,
        "try_number": ti.try_number,
        "command": command_for(workload, python=options.python),
        "priority": priority_of(ti.priority_weight, ti.queue, options),
    }
    override = config.get("pod_override")
    if override is not None:
        fields["pod_override"] = _manifest(override)
        namespace = (fields["pod_override"].get("metadata") or {}).get("namespace")
        if namespace:
            fields["namespace"] = namespace
    if config.get("pod_template_file"):
        fields["pod_template_file"] = str(config["pod_template_file"])
    return Job.decode(fields)


def command_for(workload: Any, *, python: str) -> list[str]:
    """The pod's command: the Task SDK runs the workload, talking to Airflow's execution API."""
    return [python, "-m", WORKLOAD_MODULE, "--json-string", workload.model_dump_json()]


def priority_of(weight: int | None, queue: str | None, options: ExecutorOptions) -> int:
    """The job's priority: the task's weight plus its queue's share, within 32 bits."""
    total = (weight or 0) + options.queue_priorities.get(queue or "", 0)
    return max(admission.INT_MIN, min(admission.INT_MAX, total))


def _manifest(override: object) -> dict[str, Any]:
    try:
        return objects.as_manifest(override)
    except objects.NotAModel as error:
        raise Untranslatable(f"executor_config.pod_override: {error}") from None
