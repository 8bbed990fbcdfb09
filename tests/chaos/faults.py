"""The faults a run suffers, on a schedule drawn from its seed.

* every 2-5 s a random service replica is killed with SIGKILL and started again;
* once, Redis is killed and started empty (after every job sent straight to the queue has its
  row: such a job is durable only from then on, which is the documented contract);
* twice, every Postgres connection to the run's database is terminated;
* all along, kubesim answers about 5% of requests with 500 or 429;
* every 5-9 s the watches meet compaction and a 410, or are cut off.

The conductor also notices processes that exited on their own (crashes), with their log tail.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import sqlalchemy

from tests.chaos.processes import ServiceProcess
from tests.support.redis_process import RedisProcess

#: How long the run waits for the queue's jobs to get their rows before wiping Redis.
RECORD_WAIT_S = 60.0


@dataclass
class Conductor:
    services: Sequence[ServiceProcess]
    redis: RedisProcess
    kubesim_url: str
    engine: sqlalchemy.Engine
    seed: int
    #: Fractions of the fault period at which Redis is wiped and connections are cut.
    wipe_at: float = 0.4
    cut_at: tuple[float, ...] = (0.3, 0.7)
    #: Closes the queue to direct jobs and returns those still without a row (see `Submitter`).
    before_wipe: Callable[[], list[str]] = list
    after_wipe: Callable[[], None] = lambda: None
    counts: Counter[str] = field(default_factory=Counter)
    unrecorded_at_wipe: list[str] = field(default_factory=list)
    _chooser: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._chooser = random.Random(self.seed)

    def inject_api_errors(self) -> None:
        for error in ("500", "429"):
            self._admin("POST", "faults", {"verb": "*", "error": error, "rate": 0.025})

    def clear_api_errors(self) -> None:
        self._admin("DELETE", "faults")

    def run(self, *, seconds: float, stop: threading.Event) -> None:
        """Inject faults for `seconds` (or until `stop`), then stop injecting."""
        started = time.monotonic()
        pending = sorted([(self.wipe_at, "wipe"), *((at, "cut") for at in self.cut_at)])
        next_kill = started + self._chooser.uniform(2, 5)
        next_watch = started + self._chooser.uniform(5, 9)
        while not stop.wait(0.2):
            now = time.monotonic()
            if now - started >= seconds:
                return
            self.check_crashes()
            while pending and now - started >= pending[0][0] * seconds:
                self._once(pending.pop(0)[1])
            if now >= next_kill:
                self._kill_one()
                next_kill = now + self._chooser.uniform(2, 5)
            if now >= next_watch:
                self._disturb_watches()
                next_watch = now + self._chooser.uniform(5, 9)

    def check_crashes(self) -> None:
        for service in self.services:
            service.check()

    def crashes(self) -> list[str]:
        return [crash for service in self.services for crash in service.crashes]

    def _once(self, what: str) -> None:
        if what == "wipe":
            self._wipe_redis()
        else:
            self._cut_connections()

    def _kill_one(self) -> None:
        victim = self._chooser.choice(list(self.services))
        victim.kill()
        victim.start()
        self.counts[f"kill-{victim.name}"] += 1

    def _wipe_redis(self) -> None:
        self.unrecorded_at_wipe = self.before_wipe()
        self.redis.restart()
        self.after_wipe()
        self.counts["redis-wipe"] += 1

    def _cut_connections(self) -> None:
        statement = sqlalchemy.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as connection:
            cut = connection.execute(statement).scalar_one()
        self.engine.dispose()  # this engine's own connections were cut too
        self.counts["db-connections-cut"] += int(cut)

    def _disturb_watches(self) -> None:
        if self._chooser.random() < 0.5:
            self._admin("POST", "compact")
            self._admin("POST", "watches/expire")
            self.counts["watch-410"] += 1
        else:
            self._admin("POST", "watches/drop", {"final_chunk": False})
            self.counts["watch-drop"] += 1

    def _admin(self, method: str, path: str, body: dict[str, object] | None = None) -> None:
        url = f"{self.kubesim_url}/kubesim/{path}"
        httpx.request(method, url, json=body, timeout=10).raise_for_status()
