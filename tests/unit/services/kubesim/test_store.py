"""The store: one revision counter, no-op writes, history bounds, past states rebuilt."""

from __future__ import annotations

from typing import Any

import pytest

from services.kubesim.store import Event, Store, TooOld


def pod(name: str, namespace: str = "ns", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {},
        "status": {},
    }


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def offer(self, event: Event) -> None:
        self.events.append(event)


def test_every_write_takes_the_next_revision_of_one_counter() -> None:
    store = Store(start_rv=5000)
    first = store.put(pod("a"))
    second = store.put(pod("b", namespace="other"))
    assert (first.rv, second.rv) == (5001, 5002)
    assert first.obj()["metadata"]["resourceVersion"] == "5001"


def test_a_write_that_changes_nothing_is_no_write() -> None:
    store = Store(start_rv=10)
    recorder = Recorder()
    stored = store.put(pod("a"))
    store.subscribe(recorder)
    again = store.put(stored.obj())
    assert again is stored
    assert store.rv == 11
    assert recorder.events == []


def test_removal_stamps_the_last_state_with_the_deletes_revision() -> None:
    store = Store(start_rv=10)
    store.put(pod("a", app="x"))
    removed = store.remove(("ns", "a"))
    assert removed.rv == 12
    assert removed.obj()["metadata"]["labels"] == {"app": "x"}
    assert store.get(("ns", "a")) is None


def test_events_after_a_revision_are_returned_in_order() -> None:
    store = Store(start_rv=0)
    for name in "abc":
        store.put(pod(name))
    assert [event.rv for event in store.events_after(1)] == [2, 3]
    assert store.events_after(3) == []


def test_history_beyond_its_limit_is_compacted() -> None:
    store = Store(start_rv=0, history_limit=2)
    for name in "abcd":
        store.put(pod(name))
    with pytest.raises(TooOld):
        store.events_after(1)
    assert [event.rv for event in store.events_after(2)] == [3, 4]


def test_history_older_than_its_age_is_compacted() -> None:
    now = [100.0]
    store = Store(start_rv=0, history_age_s=10, clock=lambda: now[0])
    store.put(pod("a"))
    now[0] = 200.0
    store.put(pod("b"))
    with pytest.raises(TooOld):
        store.events_after(0)


def test_compacting_makes_every_older_revision_too_old() -> None:
    store = Store(start_rv=0)
    store.put(pod("a"))
    store.compact()
    with pytest.raises(TooOld, match=r"too old resource version: 0 \(1\)"):
        store.events_after(0)


def test_keys_come_in_namespace_then_name_order_from_a_start() -> None:
    store = Store()
    for namespace, name in [("b", "x"), ("a", "z"), ("a", "y")]:
        store.put(pod(name, namespace=namespace))
    assert [s.key for s in store.keys_from(None)] == [("a", "y"), ("a", "z"), ("b", "x")]
    assert [s.key for s in store.keys_from(("a", "z"))] == [("a", "z"), ("b", "x")]


def test_a_past_state_is_rebuilt_from_the_history() -> None:
    store = Store(start_rv=0)
    store.put(pod("a", v="1"))
    store.put(pod("b"))
    snapshot = store.rv
    store.put(pod("a", v="2"))
    store.remove(("ns", "b"))
    store.put(pod("c"))
    then = {s.name: s.labels for s in store.keys_from(None, at_rv=snapshot)}
    assert then == {"a": {"v": "1"}, "b": {}}


def test_pods_in_a_terminal_phase_do_not_count_as_active() -> None:
    store = Store()
    store.put(pod("a"))
    done = pod("b")
    done["status"] = {"phase": "Succeeded"}
    store.put(done)
    assert store.active_count("ns") == 1
