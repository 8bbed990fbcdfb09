"""The account at the end of a run: every task, every pod, and everything left behind.

Lost: a task with no terminal row at its last try. Wrong: a terminal row that is not what the
task must end as. Run twice: a (task, try) whose containers started in more than one pod, seen
by the independent observer; extra pods: more pods than 1 + the relaunches the row records (a
relaunch replaces a pod lost before its task started). Leaked: pods still there (every pod is
deleted once recorded in this run's settings), pods still holding the result finalizer,
active-pod slots still taken, jobs still queued or held unacknowledged, stream entries never
acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import redis
import sqlalchemy

from shared.k8s import naming
from shared.messaging.keys import RECONCILER_GROUP, RedisKeys, job_queue
from tests.chaos.observer import PodObserver
from tests.chaos.workload import DAG, NAMESPACE, Task

#: kombu's Redis transport keeps taken, unacknowledged messages in this hash.
KOMBU_UNACKED = "unacked"


@dataclass
class Account:
    tasks: int = 0
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    ran_twice: list[str] = field(default_factory=list)
    extra_pods: list[str] = field(default_factory=list)
    leaked_pods: list[str] = field(default_factory=list)
    leaked_finalizers: list[str] = field(default_factory=list)
    leaked_slots: int = 0
    queue_left: int = 0
    unacked_jobs: int = 0
    unacked_entries: int = 0
    dead_letters: int = 0
    crashes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        problems = [self.lost, self.wrong, self.ran_twice, self.extra_pods, self.leaked_pods]
        problems += [self.leaked_finalizers, self.crashes, self.refused]
        leaks = self.leaked_slots + self.queue_left + self.unacked_jobs + self.unacked_entries
        return sum(map(len, problems)) + leaks

    def line(self) -> str:
        return (
            f"tasks={self.tasks} lost={len(self.lost)} wrong={len(self.wrong)} "
            f"run_twice={len(self.ran_twice)} extra_pods={len(self.extra_pods)} "
            f"leaked_pods={len(self.leaked_pods)} leaked_finalizers={len(self.leaked_finalizers)} "
            f"leaked_slots={self.leaked_slots} queued_jobs_left={self.queue_left} "
            f"unacked_jobs={self.unacked_jobs} unacked_entries={self.unacked_entries} "
            f"dead_letters={self.dead_letters} crashes={len(self.crashes)} "
            f"refused={len(self.refused)}"
        )

    def examples(self) -> list[str]:
        """A few of each problem, for the reader of a failed run."""
        named = {
            "lost": self.lost,
            "wrong": self.wrong,
            "run twice": self.ran_twice,
            "extra pods": self.extra_pods,
            "leaked pods": self.leaked_pods,
            "leaked finalizers": self.leaked_finalizers,
            "crashes": self.crashes,
            "refused submissions": self.refused,
        }
        return [f"{what}: {'; '.join(items[:5])}" for what, items in named.items() if items]


def rows(engine: sqlalchemy.Engine, run_id: str) -> dict[str, Any]:
    query = sqlalchemy.text(
        "SELECT task_id, state, try_number, failure_reason, relaunch_count FROM task_instance "
        "WHERE dag_id = :dag AND run_id = :run"
    )
    with engine.connect() as connection:
        return {row.task_id: row for row in connection.execute(query, {"dag": DAG, "run": run_id})}


def account(
    tasks: list[Task],
    *,
    run_id: str,
    engine: sqlalchemy.Engine,
    observer: PodObserver,
    kubesim_url: str,
    redis_url: str,
    instance: str,
) -> Account:
    found = rows(engine, run_id)
    result = Account(tasks=len(tasks))
    for task in tasks:
        row = found.get(task.task_id)
        if row is None or row.state not in ("success", "failed"):
            result.lost.append(f"{task.task_id}: {row.state if row else 'no row'}")
        elif (why := task.expected.judge(row)) is not None:
            result.wrong.append(f"{task.task_id}: {why}")
    _count_pods(result, observer, found)
    _count_leftovers(result, kubesim_url)
    _count_redis(result, redis_url, instance)
    return result


def leftovers_settled(kubesim_url: str, redis_url: str, instance: str) -> bool:
    """Whether nothing is left behind any more (the run waits for this before accounting)."""
    probe = Account()
    _count_leftovers(probe, kubesim_url)
    _count_redis(probe, redis_url, instance)
    return probe.failures == 0


def _count_pods(result: Account, observer: PodObserver, found: dict[str, Any]) -> None:
    for (key, try_number), pods in observer.uids_by_try().items():
        row = found.get(key[1])
        if row is None:
            continue
        label = f"{key[1]} try {try_number}"
        if sum(pod.started for pod in pods) > 1:
            result.ran_twice.append(f"{label}: {len(pods)} pods")
        allowed = 1 + (row.relaunch_count if row.try_number == try_number else 0)
        if len(pods) > allowed:
            result.extra_pods.append(f"{label}: {len(pods)} pods, {allowed} allowed")


def _count_leftovers(result: Account, kubesim_url: str) -> None:
    url = f"{kubesim_url}/api/v1/namespaces/{NAMESPACE}/pods"
    for pod in httpx.get(url, timeout=10).json()["items"]:
        metadata = pod["metadata"]
        result.leaked_pods.append(metadata["name"])
        if naming.RESULT_FINALIZER in (metadata.get("finalizers") or []):
            result.leaked_finalizers.append(metadata["name"])


def _count_redis(result: Account, redis_url: str, instance: str) -> None:
    keys = RedisKeys(instance)
    client = redis.Redis.from_url(redis_url)
    try:
        result.leaked_slots = int(client.hlen(keys.active_pods(NAMESPACE)))
        queue = job_queue(NAMESPACE)
        lists = [
            name for name in client.scan_iter(match=f"{queue}*") if client.type(name) == b"list"
        ]
        result.queue_left = sum(int(client.llen(name)) for name in lists)
        result.unacked_jobs = int(client.hlen(KOMBU_UNACKED))
        result.unacked_entries = sum(
            _pending(client, stream) for stream in (keys.launches, keys.pod_events(NAMESPACE))
        )
        result.dead_letters = int(client.xlen(keys.dead_letters))
    finally:
        client.close()


def _pending(client: redis.Redis, stream: str) -> int:
    try:
        return int(client.xpending(stream, RECONCILER_GROUP)["pending"])
    except redis.ResponseError:  # no such stream or group: nothing pending
        return 0
