"""One chaos run's course: start everything, submit under faults, drain, settle, account."""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING

from shared.db import engines
from tests.chaos import accounting, workload
from tests.chaos.accounting import Account
from tests.chaos.faults import RECORD_WAIT_S, Conductor
from tests.chaos.observer import PodObserver
from tests.chaos.processes import ServiceProcess, environment
from tests.chaos.submitting import Submitter
from tests.support.kubesim import KubesimProcess
from tests.support.redis_process import RedisProcess
from tests.support.services import API_TOKEN

if TYPE_CHECKING:
    from tests.chaos.run import Options

SERVICES = ("reconciler", "watcher", "launcher")
REPLICAS = 2
INSTANCE = "chaos"
#: Faults go on this long after the last first try is submitted (retries and drains under fire).
FAULTS_AFTER_S = 15.0
#: How long, once every task is over, leftovers (pods, slots, queued jobs) get to go.
SETTLE_S = 90.0
PROGRESS_EVERY_S = 5.0


def settings(redis_url: str, database_url: str, kubeconfig: str) -> dict[str, str]:
    """The services' settings: short timeouts, so that every recovery path runs within a run."""
    return environment(
        redis_url=redis_url,
        database_url=database_url,
        instance=INSTANCE,
        namespace=workload.NAMESPACE,
        namespaces=workload.NAMESPACE,
        health_host="127.0.0.1",
        log_format="console",
        api_token=API_TOKEN,
        lease_ttl_s="3",
        sweep_interval_s="1",
        drift_grace_s="5",
        pending_timeout_s="60",
        image_pull_grace_s="10",
        queued_timeout_s="8",
        max_relaunches="5",
        max_republishes="50",
        claim_idle_s="3",
        broker_visibility_timeout_s="8",
        max_active_pods="300",
        delete_worker_pods="true",
        delete_worker_pods_on_failure="true",
    ) | {"KUBECONFIG": kubeconfig}


class Stack:
    def __init__(
        self, options: Options, redis: RedisProcess, kubesim: KubesimProcess, database_url: str
    ) -> None:
        self.options = options
        self.redis = redis
        self.kubesim = kubesim
        self.engine = engines.make_engine(database_url)
        env = settings(redis.url, database_url, str(kubesim.kubeconfig))
        self.services = [
            ServiceProcess(name, n, env, options.workdir)
            for name in SERVICES
            for n in range(REPLICAS)
        ]
        self.run_id = f"chaos-{uuid.uuid4().hex[:8]}"
        self.tasks = workload.plan(options.tasks, seed=options.seed)
        self.observer = PodObserver(kubesim.url, workload.NAMESPACE)
        self.submitter = Submitter(self.tasks, self.run_id, self._api_ports, redis.url, self.engine)
        self.conductor = Conductor(
            self.services,
            redis,
            kubesim.url,
            self.engine,
            options.seed,
            before_wipe=self._close_queue,
            after_wipe=self.submitter.queue_open.set,
        )
        self._started = time.monotonic()

    def run(self) -> Account:
        try:
            self._start()
            self._submit_under_faults()
            self._drain()
            return self._account()
        finally:
            self._stop()

    def _start(self) -> None:
        self.observer.start()
        for service in self.services:
            service.start()
        deadline = time.monotonic() + 60
        while not all(service.ready() for service in self.services):
            self.conductor.check_crashes()
            if time.monotonic() > deadline:
                raise RuntimeError("the services did not become ready within 60s")
            time.sleep(0.2)
        self._say(f"{len(self.services)} service processes ready")

    def _submit_under_faults(self) -> None:
        stop = threading.Event()
        self.conductor.inject_api_errors()
        fault_s = self.options.seconds + FAULTS_AFTER_S
        threads = [
            threading.Thread(
                target=self.submitter.submit_all,
                kwargs={"seconds": self.options.seconds, "stop": stop},
                name="submit",
            ),
            threading.Thread(
                target=self.conductor.run, kwargs={"seconds": fault_s, "stop": stop}, name="faults"
            ),
        ]
        for thread in threads:
            thread.start()
        try:
            while any(thread.is_alive() for thread in threads):
                self.submitter.retry_failed()
                self._progress()
                time.sleep(0.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        self.conductor.clear_api_errors()
        self._say(f"faults over: {dict(self.conductor.counts)}")

    def _drain(self) -> None:
        deadline = time.monotonic() + self.options.drain_s
        while time.monotonic() < deadline:
            self.conductor.check_crashes()
            self.submitter.retry_failed()
            if self._over() == len(self.tasks):
                break
            self._progress()
            time.sleep(0.5)
        self._say(f"{self._over()}/{len(self.tasks)} tasks over; waiting for leftovers to go")
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            self.conductor.check_crashes()
            if accounting.leftovers_settled(self.kubesim.url, self.redis.url, INSTANCE):
                break
            time.sleep(1.0)

    def _account(self) -> Account:
        result = accounting.account(
            self.tasks,
            run_id=self.run_id,
            engine=self.engine,
            observer=self.observer,
            kubesim_url=self.kubesim.url,
            redis_url=self.redis.url,
            instance=INSTANCE,
        )
        crashes = self.conductor.crashes()
        self._say(
            f"faults {dict(self.conductor.counts)}; crashes {len(crashes)}; "
            f"observer relists {self.observer.relists}; refused {len(self.submitter.refused)}; "
            f"queue jobs without a row at the wipe {len(self.conductor.unrecorded_at_wipe)}"
        )
        for crash in crashes[:5]:
            self._say(f"crash: {crash}")
        result.crashes = crashes
        result.refused = list(self.submitter.refused)
        return result

    def _stop(self) -> None:
        for service in self.services:
            service.stop()
        self.observer.stop()
        self.submitter.close()
        self.engine.dispose()

    def _close_queue(self) -> list[str]:
        self.submitter.queue_open.clear()
        deadline = time.monotonic() + RECORD_WAIT_S
        while (waiting := self.submitter.unrecorded()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return [f"{task} try {tried}" for task, tried in waiting]

    def _api_ports(self) -> list[int]:
        return [service.port for service in self.services if service.name == "reconciler"]

    def _over(self) -> int:
        found = accounting.rows(self.engine, self.run_id)
        return sum(1 for task in self.tasks if task.is_over(found.get(task.task_id)))

    def _progress(self) -> None:
        now = time.monotonic()
        if now - getattr(self, "_last_progress", 0.0) < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        self._say(
            f"{self._over()}/{len(self.tasks)} over, {len(self.submitter.submitted)} submitted, "
            f"faults {sum(self.conductor.counts.values())}"
        )

    def _say(self, text: str) -> None:
        print(f"chaos [{time.monotonic() - self._started:6.1f}s] {text}", flush=True)
