"""WATCH: start rules, event types, bookmarks, timeouts, 410 after compaction."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from tests.conformance.conftest import Target, long_running, pod_body, watch_lines


def pods_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


def list_rv(target: Target, namespace: str) -> str:
    return str(target.http.get(pods_path(namespace)).json()["metadata"]["resourceVersion"])


def create(target: Target, namespace: str, body: dict[str, Any]) -> Any:
    response = target.http.post(pods_path(namespace), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_watch_without_a_version_starts_with_added_for_every_pod(
    target: Target, namespace: str
) -> None:
    for name in ("a", "b"):
        create(target, namespace, long_running(name))
    events = watch_lines(target, pods_path(namespace), {"timeoutSeconds": "2"}, count=2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]
    assert events[0]["object"]["kind"] == "Pod"


def test_a_watch_from_the_list_version_sends_only_later_changes(
    target: Target, namespace: str
) -> None:
    create(target, namespace, long_running("old"))
    rv = list_rv(target, namespace)
    create(target, namespace, long_running("new"))
    events = watch_lines(
        target, pods_path(namespace), {"resourceVersion": rv, "timeoutSeconds": "2"}, count=100
    )
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    # "old" may still change after the list (its kubelet starting it): only its ADDED is past
    assert ("ADDED", "new") in seen
    assert ("ADDED", "old") not in seen


def test_event_versions_strictly_increase_within_a_stream(target: Target, namespace: str) -> None:
    rv = list_rv(target, namespace)
    create(target, namespace, pod_body("quick"))
    events = watch_lines(
        target, pods_path(namespace), {"resourceVersion": rv, "timeoutSeconds": "3"}, count=4
    )
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(set(versions))
    assert events[0]["type"] == "ADDED"
    assert all(e["type"] == "MODIFIED" for e in events[1:])


def test_a_deleted_pod_ends_with_a_deleted_event_carrying_a_new_version(
    target: Target, namespace: str
) -> None:
    created = create(target, namespace, pod_body("gone"))
    rv = list_rv(target, namespace)
    target.http.delete(f"{pods_path(namespace)}/gone", params={"gracePeriodSeconds": "0"})
    events = watch_lines(
        target, pods_path(namespace), {"resourceVersion": rv, "timeoutSeconds": "3"}, count=10
    )
    deleted = [e for e in events if e["type"] == "DELETED"]
    assert len(deleted) == 1
    obj = deleted[0]["object"]
    assert obj["metadata"]["deletionTimestamp"]
    assert int(obj["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


def test_a_pod_leaving_the_label_selector_is_a_deleted_event_with_the_old_labels(
    target: Target, namespace: str
) -> None:
    create(target, namespace, long_running("adopted"))
    rv = list_rv(target, namespace)
    target.http.patch(
        f"{pods_path(namespace)}/adopted",
        json={"metadata": {"labels": {"app": "someone-else"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    events = watch_lines(
        target,
        pods_path(namespace),
        {"resourceVersion": rv, "labelSelector": "app=conformance", "timeoutSeconds": "2"},
        count=1,
    )
    assert events[0]["type"] == "DELETED"
    assert events[0]["object"]["metadata"]["labels"]["app"] == "conformance"
    assert "deletionTimestamp" not in events[0]["object"]["metadata"]


def test_a_watch_with_a_timeout_closes_cleanly(target: Target, namespace: str) -> None:
    events = watch_lines(
        target,
        pods_path(namespace),
        {"resourceVersion": list_rv(target, namespace), "timeoutSeconds": "1"},
        count=99,
    )
    assert events == []


@pytest.mark.kubesim_only
def test_bookmarks_carry_the_current_version_as_an_empty_pod(
    target: Target, namespace: str
) -> None:
    rv = list_rv(target, namespace)
    target.admin("POST", "advance", {"count": 3})
    events = watch_lines(
        target,
        pods_path(namespace),
        {"resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "5"},
        count=1,
    )
    bookmark = events[0]
    assert bookmark["type"] == "BOOKMARK"
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) > int(rv)
    assert bookmark["object"]["spec"] == {"containers": None}


@pytest.mark.kubesim_only
def test_a_watch_from_a_compacted_version_gets_an_error_410_event_then_close(
    target: Target, namespace: str
) -> None:
    rv = list_rv(target, namespace)
    create(target, namespace, long_running("x"))
    target.admin("POST", "compact")
    events = watch_lines(target, pods_path(namespace), {"resourceVersion": rv}, count=5)
    assert len(events) == 1
    error = events[0]
    assert error["type"] == "ERROR"
    assert error["object"]["code"] == 410
    assert error["object"]["reason"] == "Expired"
    assert error["object"]["message"].startswith(f"too old resource version: {rv} (")


def test_a_watch_with_a_bad_selector_is_refused_before_the_stream(
    target: Target, namespace: str
) -> None:
    response = target.http.get(
        pods_path(namespace), params={"watch": "1", "fieldSelector": "status.phase in (Running)"}
    )
    assert response.status_code == 400


def test_the_official_watch_stream_sees_a_pods_life(target: Target, namespace: str) -> None:
    rv = list_rv(target, namespace)
    create(target, namespace, pod_body("life"))
    stream = watch.Watch()
    phases = []
    for event in stream.stream(
        target.api.list_namespaced_pod, namespace, resource_version=rv, timeout_seconds=5
    ):
        phases.append(event["object"].status.phase)
        if phases[-1] in ("Succeeded", "Failed"):
            stream.stop()
    assert phases[0] == "Pending"
    assert phases[-1] == "Succeeded"


@pytest.mark.kubesim_only
def test_the_official_watch_stream_raises_410_from_inside_the_generator(
    target: Target, namespace: str
) -> None:
    rv = list_rv(target, namespace)
    create(target, namespace, long_running("y"))
    target.admin("POST", "compact")
    stream = watch.Watch()
    with pytest.raises(ApiException) as raised:
        for _ in stream.stream(target.api.list_namespaced_pod, namespace, resource_version=rv):
            pass
    assert raised.value.status == 410


@pytest.mark.kubesim_only
def test_an_expire_hook_sends_error_410_on_open_watches(target: Target, namespace: str) -> None:
    rv = list_rv(target, namespace)
    timer = threading.Timer(0.5, lambda: target.admin("POST", "watches/expire"))
    timer.start()
    events = watch_lines(target, pods_path(namespace), {"resourceVersion": rv}, count=5)
    timer.join()
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["code"] == 410


@pytest.mark.kubesim_only
def test_dropping_watches_with_a_final_chunk_ends_the_stream_cleanly(
    target: Target, namespace: str
) -> None:
    rv = list_rv(target, namespace)
    timer = threading.Timer(
        0.5, lambda: target.admin("POST", "watches/drop", {"final_chunk": True})
    )
    timer.start()
    events = watch_lines(target, pods_path(namespace), {"resourceVersion": rv}, count=5)
    timer.join()
    assert events == []


@pytest.mark.kubesim_only
def test_dropping_watches_without_a_final_chunk_cuts_the_connection(
    target: Target, namespace: str
) -> None:
    rv = list_rv(target, namespace)
    timer = threading.Timer(
        0.5, lambda: target.admin("POST", "watches/drop", {"final_chunk": False})
    )
    timer.start()
    with pytest.raises(httpx.RemoteProtocolError):
        watch_lines(target, pods_path(namespace), {"resourceVersion": rv}, count=5)
    timer.join()


def test_send_initial_events_ends_with_an_annotated_bookmark(
    target: Target, namespace: str
) -> None:
    create(target, namespace, long_running("init"))
    params = {
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "3",
    }
    events = watch_lines(target, pods_path(namespace), params, count=2)
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    annotations = events[1]["object"]["metadata"]["annotations"]
    assert annotations == {"k8s.io/initial-events-end": "true"}


def test_send_initial_events_without_a_version_match_is_422(target: Target, namespace: str) -> None:
    response = target.http.get(
        pods_path(namespace), params={"watch": "1", "sendInitialEvents": "true"}
    )
    assert response.status_code == 422


@pytest.mark.kubesim_only
def test_the_bookmark_interval_can_be_changed_at_run_time(target: Target, namespace: str) -> None:
    target.admin("PUT", "bookmarks", {"interval_s": 0.3})
    try:
        rv = list_rv(target, namespace)
        target.admin("POST", "advance", {"count": 1})
        started = time.monotonic()
        events = watch_lines(
            target,
            pods_path(namespace),
            {"resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "5"},
            count=1,
        )
    finally:
        target.admin("PUT", "bookmarks", {"interval_s": 1})
    assert events[0]["type"] == "BOOKMARK"
    assert time.monotonic() - started < 0.9
