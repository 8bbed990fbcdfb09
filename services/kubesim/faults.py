"""Fault injection: errors, latency and throttling answers, chosen per verb at run time.

A rule names a verb (`create`, `get`, `list`, `watch`, `update`, `patch`, `delete`, or `*`), an
error, and either a count (the next N matching requests fail) or a rate (each matching request
fails with that probability). Errors are produced in the real server's shapes: 500, 503, 504,
409 Conflict, 403 exceeded quota, and 429 both as a JSON Status and as the API server's plain-text
throttling answer, each 429 with Retry-After.
"""

from __future__ import annotations

import collections
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.kubesim import statuses
from services.kubesim.statuses import ApiError

VERBS = ("create", "get", "list", "watch", "update", "patch", "delete", "*")


@dataclass
class FaultRule:
    id: int
    verb: str
    error: str
    count: int | None = None
    rate: float | None = None
    retry_after_s: int = 1

    def applies(self, verb: str, roll: float) -> bool:
        if self.verb not in ("*", verb):
            return False
        if self.count is not None:
            return self.count > 0
        return self.rate is not None and roll < self.rate

    def make_error(self, name: str) -> ApiError:
        return _ERRORS[self.error](name or "unknown", self.retry_after_s)


_THROTTLED = "the server has received too many requests and has asked us to try again later"
_ERRORS: dict[str, Callable[[str, int], ApiError]] = {
    "500": lambda _name, _retry: statuses.internal_error("injected by kubesim"),
    "503": lambda _name, _retry: statuses.service_unavailable(),
    "504": lambda _name, _retry: statuses.timeout(),
    "409": lambda name, _retry: statuses.conflict(name),
    "quota": lambda name, _retry: statuses.quota_exceeded(
        name, quota="compute-resources", requested=1, used=10, limit=10
    ),
    "429": lambda _name, retry: statuses.too_many_requests(_THROTTLED, retry),
    "429-text": lambda _name, retry: statuses.too_many_requests_text(retry),
}


@dataclass
class Faults:
    """The active fault rules and added latency."""

    rules: list[FaultRule] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    #: Latency added after the request was carried out (the answer is slow, the write is done).
    after_ms: dict[str, float] = field(default_factory=dict)
    #: Recent requests as (monotonic time, verb, HTTP status), for tests to inspect.
    requests: collections.deque[tuple[float, str, int]] = field(
        default_factory=lambda: collections.deque(maxlen=10_000)
    )
    injected: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self,
        *,
        verb: str,
        error: str,
        count: int | None,
        rate: float | None,
        retry_after_s: int = 1,
    ) -> FaultRule:
        if verb not in VERBS:
            raise ValueError(f"verb must be one of {', '.join(VERBS)}")
        if error not in _ERRORS:
            raise ValueError(f"error must be one of {', '.join(_ERRORS)}")
        if (count is None) == (rate is None):
            raise ValueError("give exactly one of count or rate")
        rule = FaultRule(next(self._ids), verb, error, count, rate, max(1, retry_after_s))
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()
        self.latency_ms.clear()
        self.after_ms.clear()

    def pick(self, verb: str, name: str = "") -> ApiError | None:
        """The injected error for this request, if a rule fires (counting it down)."""
        roll = random.random()
        for rule in self.rules:
            if rule.applies(verb, roll):
                if rule.count is not None:
                    rule.count -= 1
                self.injected += 1
                return rule.make_error(name)
        return None

    def delay_s(self, verb: str, *, after: bool = False) -> float:
        table = self.after_ms if after else self.latency_ms
        return max(table.get(verb, 0.0), table.get("*", 0.0)) / 1000.0

    def record(self, verb: str, status: int) -> None:
        self.requests.append((time.monotonic(), verb, status))
