"""A pod's `exit-rate`: a fraction of pods exit with the exit code, drawn once per pod.

Benchmarks give thousands of pods one template and still want some of them to fail; the draw
comes from the kubelet's generator, so a seed repeats it.
"""

from __future__ import annotations

from services.kubesim.behaviour import PREFIX, Behaviour


def pod(**notes: str) -> dict[str, object]:
    return {"metadata": {"annotations": {f"{PREFIX}{k}": v for k, v in notes.items()}}}


def test_a_draw_below_the_rate_exits_with_the_exit_code_and_one_above_exits_zero() -> None:
    behaviour = Behaviour.of(pod(**{"exit-rate": "0.1", "exit-code": "3"}))
    assert behaviour.outcome(lambda: 0.05) == (3, "Error")
    assert behaviour.outcome(lambda: 0.5) == (0, "Completed")


def test_an_exit_rate_without_an_exit_code_fails_with_exit_1() -> None:
    assert Behaviour.of(pod(**{"exit-rate": "1"})).outcome(lambda: 0.99) == (1, "Error")


def test_a_pod_without_an_exit_rate_draws_nothing() -> None:
    def no_draw() -> float:
        raise AssertionError("drew for a pod without an exit-rate")

    assert Behaviour.of(pod(**{"exit-code": "2"})).outcome(no_draw) == (2, "Error")
    assert Behaviour.of(pod()).outcome(no_draw) == (0, "Completed")


def test_a_rate_out_of_range_is_clamped_and_one_that_is_not_a_number_is_ignored() -> None:
    assert Behaviour.of(pod(**{"exit-rate": "7"})).exit_rate == 1.0
    assert Behaviour.of(pod(**{"exit-rate": "-1"})).exit_rate == 0.0
    assert Behaviour.of(pod(**{"exit-rate": "often"})).exit_rate is None


def test_an_oom_kill_wins_over_the_draw() -> None:
    behaviour = Behaviour.of(pod(**{"exit-rate": "0.5", "oom": "true"}))
    assert behaviour.outcome(lambda: 0.0) == (137, "OOMKilled")
