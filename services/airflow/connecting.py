"""The executor's hold on podrunner: its database and its job queues, from the settings.

Built once, when the executor first needs it (a scheduler at start, an API server reading a log
when asked), and closed at the end. The database pool is small: the scheduler asks one thing at
a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from airflow.models.taskinstancekey import TaskInstanceKey

from services.airflow.configuring import ExecutorConfig, ExecutorOptions
from shared import intake, revoking
from shared.db import engines, progress
from shared.db.engines import Engine
from shared.messages import Job, TaskKey
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.outlets import LaunchOutlet
from shared.settings import Settings

#: Database connections the executor keeps (the scheduler's loop uses one at a time).
POOL_SIZE = 2


@dataclass(frozen=True)
class Podrunner:
    settings: Settings
    options: ExecutorOptions
    engine: Engine
    jobs: JobQueue
    launches: LaunchOutlet
    where: intake.Where

    @classmethod
    def connect(cls, config: ExecutorConfig) -> Podrunner:
        settings = config.settings
        assert settings.database_url is not None
        assert settings.broker_url is not None
        broker = BrokerSettings(settings.broker_url, settings.broker_visibility_timeout_s)
        return cls(
            settings=settings,
            options=config.options,
            engine=engines.make_engine(settings.database_url, pool_size=POOL_SIZE),
            jobs=JobQueue(broker),
            launches=LaunchOutlet.connect(
                settings.redis_url or settings.broker_url,
                instance=settings.instance,
                maxlen=settings.stream_maxlen,
            ),
            where=intake.Where(
                default_namespace=settings.namespace,
                served=settings.namespaces,
                template_dir=settings.pod_template_dir,
            ),
        )

    def submit(self, jobs: Sequence[Job]) -> intake.Batch:
        """Submit `jobs` through intake, together (see `intake.submit_many`)."""
        return intake.submit_many(self.engine, self.jobs, jobs, where=self.where)

    def standings(
        self, keys: Iterable[TaskInstanceKey], *, changed_only: bool
    ) -> list[progress.Standing]:
        """Where the tries of `keys` stand, in one query (see `progress.standings`)."""
        return progress.standings(self.engine, _tries(keys), changed_only=changed_only)

    def revoke(self, keys: Iterable[TaskInstanceKey], *, reason: str) -> list[revoking.Revoked]:
        """Revoke the live tries of `keys` (see `revoking.revoke`)."""
        return revoking.revoke(self.engine, self.launches.publish, _tries(keys), reason=reason)

    def close(self) -> None:
        self.jobs.close()
        self.launches.close()
        self.engine.dispose()


def _tries(keys: Iterable[TaskInstanceKey]) -> list[tuple[TaskKey, int]]:
    return [(TaskKey(k.dag_id, k.task_id, k.run_id, k.map_index), k.try_number) for k in keys]
