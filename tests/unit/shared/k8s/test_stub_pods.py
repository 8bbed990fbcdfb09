"""The in-memory pod API stands in for the client: same interface, same errors."""

from __future__ import annotations

import pytest

from shared.k8s import errors, pods, stub


def test_the_client_and_the_stub_are_both_pod_apis() -> None:
    implementations: list[type[pods.Pods]] = [pods.PodApi, stub.StubPodApi]  # checked by mypy
    assert all(issubclass(kind, pods.Pods) for kind in implementations)


def test_creating_a_pod_twice_is_already_exists_and_a_missing_pod_is_not_found() -> None:
    api = stub.StubPodApi()
    api.create("ns", {"metadata": {"name": "p"}})
    with pytest.raises(errors.AlreadyExists):
        api.create("ns", {"metadata": {"name": "p"}})
    with pytest.raises(errors.NotFound):
        api.get("ns", "q")
    assert api.get("ns", "p")["metadata"] == {"name": "p", "namespace": "ns"}


def test_a_scripted_failure_is_raised_once_by_the_next_call_of_its_verb() -> None:
    api = stub.StubPodApi()
    api.fail_next("create", errors.Unavailable("down"))
    with pytest.raises(errors.Unavailable):
        api.create("ns", {"metadata": {"name": "p"}})
    api.create("ns", {"metadata": {"name": "p"}})
    assert ("ns", "p") in api.pods


def test_removing_a_finalizer_sets_labels_and_ignores_a_pod_already_gone() -> None:
    api = stub.StubPodApi()
    api.create("ns", {"metadata": {"name": "p", "finalizers": ["f", "g"]}})
    api.remove_finalizer("ns", "p", "f", labels={"done": "true"})
    api.remove_finalizer("ns", "gone", "f")
    metadata = api.get("ns", "p")["metadata"]
    assert (metadata["finalizers"], metadata["labels"]) == (["g"], {"done": "true"})
