"""`PodrunnerExecutor`: Airflow's scheduler hands task instances to podrunner, which runs each as a
Kubernetes pod and records its end in Postgres; the executor reads those ends back.

Used as `[core] executor = services.airflow.executor.PodrunnerExecutor`. The scheduler process
does little per task, by design: a batch of workloads becomes jobs that go through podrunner's
intake together (one transaction, one publish round), and each heartbeat's `sync` asks Postgres
once where all of this executor's tries stand. Pods are rendered and created by podrunner's
launchers, watched by its watcher, and their ends recorded by its reconciler; the executor needs
no Kubernetes credentials.

What Airflow sees:
* a job intake refuses (an invalid `executor_config`, a namespace not served, a try already
  submitted) fails at once, its reason in the event buffer, the task's audit log and
  `get_task_log`; so does a job the launcher refuses (the pod policy), at the next `sync`;
* a pod lost before its task started is relaunched by podrunner for the same try: the task
  stays running in Airflow and spends no try;
* a failed task's reason is podrunner's (`OOMKilled (exit 137)`, `ErrImagePull: ...`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.executors.base_executor import BaseExecutor
from airflow.executors.workloads import ExecuteTask
from airflow.models.taskinstancekey import TaskInstanceKey

from services.airflow import configuring, task_logs, translating
from services.airflow.configuring import ExecutorOptions
from services.airflow.connecting import Podrunner
from shared import intake
from shared.db import progress
from shared.db.engines import DatabaseUnavailable
from shared.db.models import TaskState
from shared.messages import DecodeError, Job, TaskKey
from shared.messaging.connections import MessagingError

if TYPE_CHECKING:
    from airflow.models.taskinstance import TaskInstance

#: The audit-log event of a task podrunner refused or saw fail.
REFUSED_EVENT = "podrunner refused"
FAILED_EVENT = "podrunner failed"
#: The reasons a revoked try fails with in podrunner.
REVOKED_BY_AIRFLOW = "revoked by the Airflow scheduler"
REVOKED_STUCK = "stuck in queued in Airflow; revoked by the scheduler"
#: Refusal reasons kept for `get_task_log` (a refused task has no row in podrunner).
REFUSALS_KEPT = 10_000


class PodrunnerExecutor(BaseExecutor):
    """Runs each task instance as a pod through podrunner (see the module docstring)."""

    supports_ad_hoc_ti_run = True
    serve_logs = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._podrunner: Podrunner | None = None
        # the reasons of the latest refusals, for their tasks' logs (oldest forgotten first)
        self._refused: OrderedDict[TaskInstanceKey, str] = OrderedDict()

    def start(self) -> None:
        """Read and check the settings and connect, so a bad setting stops the scheduler now."""
        self._connected()

    def _connected(self) -> Podrunner:
        if self._podrunner is None:
            config = configuring.read(self.conf.getsection(configuring.SECTION))
            self._podrunner = Podrunner.connect(config)
        return self._podrunner

    def _process_workloads(self, workloads: Sequence[Any]) -> None:
        """Submit a batch of workloads through podrunner's intake, together."""
        podrunner = self._connected()
        tasks = self._taken(workloads)
        jobs = self._jobs_for(tasks, podrunner.options)
        try:
            batch = podrunner.submit([job for _, job in jobs])
        except DatabaseUnavailable as error:
            # nothing was recorded: the same workloads are submitted again next heartbeat
            self.log.warning("podrunner's database is unavailable, will retry: %s", error)
            built = {key for key, _ in jobs}
            self.queued_tasks.update({t.ti.key: t for t in tasks if t.ti.key in built})
            return
        if batch.publish_error is not None:
            self.log.warning("jobs recorded, published later: %s", batch.publish_error)
        for (key, _), answer in zip(jobs, batch.answers, strict=True):
            if answer.refused is not None:
                self._refuse(key, _why(answer.refused, key.try_number))
            else:
                self.running.add(key)

    def _taken(self, workloads: Sequence[Any]) -> list[ExecuteTask]:
        """The tasks of `workloads`, out of the queue."""
        tasks: list[ExecuteTask] = []
        for workload in workloads:
            if not isinstance(workload, ExecuteTask):
                raise TypeError(f"{type(self).__name__} runs tasks only, not {type(workload)}")
            self.queued_tasks.pop(workload.ti.key, None)
            tasks.append(workload)
        return tasks

    def _jobs_for(
        self, tasks: list[ExecuteTask], options: ExecutorOptions
    ) -> list[tuple[TaskInstanceKey, Job]]:
        """Each task's job; a task that makes none is refused."""
        jobs: list[tuple[TaskInstanceKey, Job]] = []
        for task in tasks:
            try:
                jobs.append((task.ti.key, translating.job_for(task, options=options)))
            except (translating.Untranslatable, DecodeError) as error:
                self._refuse(task.ti.key, str(error))
        return jobs

    def _refuse(self, key: TaskInstanceKey, reason: str) -> None:
        message = f"podrunner refused the task: {reason}"
        self.log.error("%s: %s", key, message)
        self._refused[key] = message
        if len(self._refused) > REFUSALS_KEPT:
            self._refused.popitem(last=False)
        self.log_task_event(event=REFUSED_EVENT, extra=message, ti_key=key)
        self.fail(key, info=message)

    def sync(self) -> None:
        """Report the tries that ended since the last call: one query for all of them."""
        tracked = [key for key in self.running if isinstance(key, TaskInstanceKey)]
        if not tracked:
            return
        try:
            ended = self._connected().standings(tracked, changed_only=True)
        except DatabaseUnavailable as error:
            self.log.warning("podrunner's database is unavailable, will retry: %s", error)
            return
        for standing in ended:
            self._report(standing)

    def _report(self, standing: progress.Standing) -> None:
        key = _ti_key(standing.key, standing.wanted)
        if standing.is_other_try:
            # another scheduler submitted a later try: this one is no longer ours to report
            self.log.warning("%s: podrunner now runs try %s", key, standing.try_number)
            self.running.discard(key)
        elif standing.state is TaskState.SUCCESS:
            self.success(key)
        else:
            reason = standing.failure_reason or f"exit code {standing.exit_code}"
            self.log_task_event(event=FAILED_EVENT, extra=reason, ti_key=key)
            self.fail(key, info=reason)

    def try_adopt_task_instances(self, tis: Sequence[TaskInstance]) -> Sequence[TaskInstance]:
        """Adopt the task instances whose try podrunner has (its rows and pods outlive any
        scheduler); return the rest, which Airflow resets."""
        by_key = {ti.key: ti for ti in tis}
        try:
            known = self._connected().standings(list(by_key), changed_only=False)
        except DatabaseUnavailable as error:
            self.log.warning("cannot adopt while podrunner's database is unavailable: %s", error)
            return list(tis)
        for standing in known:
            if not standing.is_other_try:
                self.running.add(_ti_key(standing.key, standing.wanted))
        return [ti for key, ti in by_key.items() if key not in self.running]

    def revoke_task(self, *, ti: TaskInstance) -> None:
        """Stop the task's try: podrunner fails it and deletes its pod (no Airflow event)."""
        self.queued_tasks.pop(ti.key, None)
        self.running.discard(ti.key)
        try:
            self._connected().revoke([ti.key], reason=REVOKED_BY_AIRFLOW)
        except (DatabaseUnavailable, MessagingError) as error:
            self.log.error("could not revoke %s: %s", ti.key, error)

    def cleanup_stuck_queued_tasks(self, tis: list[TaskInstance]) -> list[str]:
        """Revoke tasks Airflow found stuck in queued, together, and report them failed."""
        keys = [ti.key for ti in tis]
        for key in keys:
            self.queued_tasks.pop(key, None)
        try:
            self._connected().revoke(keys, reason=REVOKED_STUCK)
        except (DatabaseUnavailable, MessagingError) as error:
            self.log.error("could not revoke %d stuck tasks: %s", len(keys), error)
        for key in keys:
            self.fail(key, info=REVOKED_STUCK)
        return [repr(ti) for ti in tis]

    def get_task_log(self, ti: TaskInstance, try_number: int) -> tuple[list[str], list[str]]:
        """The try's log: podrunner's refusal, else the pod's log live, else the stored tail."""
        key = TaskInstanceKey(ti.dag_id, ti.task_id, ti.run_id, try_number, ti.map_index)
        if key in self._refused:
            return ["podrunner"], [self._refused[key]]
        try:
            podrunner = self._connected()
            row_key = TaskKey(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)
            return task_logs.read(
                podrunner.engine,
                row_key,
                try_number,
                api_url=podrunner.options.api_url,
                settings=podrunner.settings,
            )
        except (configuring.ConfigError, DatabaseUnavailable) as error:
            return [f"podrunner could not be asked for the log: {error}"], []

    def end(self) -> None:
        """Report what has ended, then let go of podrunner (its pods run on regardless)."""
        self.sync()
        self.terminate()

    def terminate(self) -> None:
        if self._podrunner is not None:
            self._podrunner.close()
            self._podrunner = None


def _why(refused: Exception, try_number: int) -> str:
    """Intake's refusal in words; a try asked for again once it ended is named for what it
    is (Airflow reruns a try for a sensor in reschedule mode or a task resuming after deferral,
    which podrunner, running each try once, does not support)."""
    if isinstance(refused, intake.AlreadySubmitted):
        current = refused.current
        if current["try_number"] == try_number and TaskState(current["state"]).is_terminal:
            return (
                f"try {try_number} already ran to {current['state']} in podrunner, which runs "
                "each try once (reschedule-mode sensors and resumed deferred tasks are not "
                "supported)"
            )
    return str(refused)


def _ti_key(key: TaskKey, try_number: int) -> TaskInstanceKey:
    return TaskInstanceKey(key.dag_id, key.task_id, key.run_id, try_number, key.map_index)
