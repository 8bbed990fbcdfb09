"""A work loop's heartbeat: alive while it beats within its deadline, stalled once past it."""

from __future__ import annotations

from shared.health import Heartbeat
from tests.support.clocks import ManualClock


def test_a_loop_silent_past_its_deadline_is_not_alive() -> None:
    clock = ManualClock()
    beat = Heartbeat("consume", deadline_s=5, clock=clock)
    clock.advance(5)
    assert beat.is_alive()
    clock.advance(0.5)
    assert not beat.is_alive()
    assert beat.age_s() == 5.5


def test_a_beat_makes_a_stalled_loop_alive_again() -> None:
    clock = ManualClock()
    beat = Heartbeat("consume", deadline_s=5, clock=clock)
    clock.advance(60)
    beat.beat()
    assert beat.is_alive()
    assert beat.age_s() == 0
