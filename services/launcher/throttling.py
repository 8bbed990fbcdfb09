"""The launcher's token bucket: a sustained create rate, bursts up to a bound, and pauses.

Every create takes a token first. A 429 from the API server pauses the whole bucket until its
Retry-After has passed, so no thread tries again early and the launcher backs off as one client,
which is what the API server's fairness asks for. Waiting is on the stop event, so shutdown never
waits for a token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._updated = clock()
        self._not_before = 0.0
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event) -> bool:
        """Take one token, waiting as needed; False if `stop` was set first."""
        while not stop.is_set():
            wait = self._try_take()
            if wait <= 0:
                return True
            stop.wait(wait)
        return False

    def pause_for(self, seconds: float) -> None:
        """No token is handed out for `seconds` (a server's Retry-After)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def _try_take(self) -> float:
        with self._lock:
            now = self._clock()
            if now < self._not_before:
                return self._not_before - now
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate
