"""Retrying as its own component: how many attempts, and how long to wait before each.

Backoff is exponential with full jitter (each delay is drawn between half and all of the
exponential step, capped), so many launchers meeting the same overloaded API server spread their
retries instead of hitting it in step. A server's Retry-After always wins over the computed delay.
After `max_attempts` the caller gives the work back (requeues it) instead of retrying forever.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.2
    factor: float = 2.0
    max_s: float = 10.0

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempts count from 1)."""
        step = min(self.max_s, self.base_s * self.factor ** max(0, attempt - 1))
        jittered = random.uniform(step / 2, step)
        return max(jittered, retry_after or 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff: Backoff = Backoff()

    def gives_up_after(self, attempt: int) -> bool:
        """True when `attempt` was the last one allowed."""
        return attempt >= self.max_attempts
