"""Anything malformed raises one DecodeError that names the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.messages import SCHEMA_VERSION, DecodeError, Job, LaunchEvent, LaunchOutcome, PodEvent
from tests.support import builders


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param(builders.job_dict(dag_id=...), "dag_id", id="missing-field"),
        pytest.param(builders.job_dict(command=...), "command", id="missing-command"),
        pytest.param(builders.job_dict(try_number="1"), "try_number", id="wrong-type-string"),
        pytest.param(builders.job_dict(map_index=True), "map_index", id="wrong-type-bool"),
        pytest.param(builders.job_dict(command="echo hi"), "command", id="command-not-a-list"),
        pytest.param(builders.job_dict(command=[]), "command", id="empty-command"),
        pytest.param(builders.job_dict(command=["ok", 3]), "command.1", id="command-item-not-str"),
        pytest.param(builders.job_dict(try_number=0), "try_number", id="try-number-zero"),
        pytest.param(builders.job_dict(map_index=-2), "map_index", id="map-index-below-minus-one"),
        pytest.param(builders.job_dict(version=2), "version", id="unknown-version"),
        pytest.param(builders.job_dict(version=...), "version", id="missing-version"),
        pytest.param(builders.job_dict(dag_id=""), "dag_id", id="empty-dag-id"),
        pytest.param(builders.job_dict(namespace="Bad_NS"), "namespace", id="bad-namespace"),
        pytest.param(builders.job_dict(labels={"a": "b c"}), "labels", id="bad-label-value"),
        pytest.param(builders.job_dict(labels={"-a": "b"}), "labels", id="bad-label-name"),
        pytest.param(builders.job_dict(pod_override=[1]), "pod_override", id="override-not-object"),
        pytest.param(builders.job_dict(surprise=1), "surprise", id="unknown-field"),
    ],
)
def test_a_malformed_job_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(DecodeError) as raised:
        Job.decode(raw)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"invalid Job: {field}: ")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"not json", id="non-json"),
        pytest.param(b"", id="empty-body"),
        pytest.param(b"[1, 2]", id="a-list"),
        pytest.param(b'"text"', id="a-string"),
        pytest.param(b'{"version": 1,', id="truncated"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_body_error(raw: bytes) -> None:
    with pytest.raises(DecodeError) as raised:
        Job.decode(raw)
    assert raised.value.field == "(body)"
    assert raised.value.raw == raw


def test_the_decode_error_is_one_line() -> None:
    with pytest.raises(DecodeError) as raised:
        Job.decode(b"{\n\n")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("record", [LaunchEvent, PodEvent])
def test_events_with_a_missing_key_name_the_key(record: type[LaunchEvent | PodEvent]) -> None:
    with pytest.raises(DecodeError) as raised:
        record.decode(b'{"version": 1}')
    assert raised.value.field == "key"


def test_a_pod_event_with_an_unknown_phase_names_the_phase() -> None:
    raw = (
        b'{"version":1,"key":{"dag_id":"d","task_id":"t","run_id":"r"},"try_number":1,'
        b'"namespace":"n","pod":"p","phase":"Exploded","resource_version":"1",'
        b'"observed_at":"2026-11-23T00:00:00Z"}'
    )
    with pytest.raises(DecodeError) as raised:
        PodEvent.decode(raw)
    assert raised.value.field == "phase"


def test_a_job_without_its_version_names_the_version_before_any_later_fault() -> None:
    with pytest.raises(DecodeError) as raised:
        Job.decode(builders.job_dict(version=..., try_number="1"))
    assert (raised.value.field, raised.value.reason) == ("version", "Input should be 1")


def test_a_launch_event_whose_job_left_out_its_version_names_the_jobs_version() -> None:
    job = builders.job()
    event = LaunchEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=1,
        namespace="n",
        pod="p",
        outcome=LaunchOutcome.CREATED,
        job=job,
        at=datetime.now(UTC),
    ).to_dict()
    del event["job"]["version"]
    with pytest.raises(DecodeError) as raised:
        LaunchEvent.decode(event)
    assert (raised.value.field, raised.value.reason) == ("job.version", "Input should be 1")


POD_EVENT = (
    b'{"version":1,"key":{"dag_id":"d","task_id":"t","run_id":"r"},"try_number":1,'
    b'"namespace":"n","pod":"p","phase":"Running","resource_version":"1",'
    b'"observed_at":"2026-11-23T00:00:00Z"}'
)


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        pytest.param(
            POD_EVENT.replace(b'"run_id":"r"', b'"run_id":"r","map_index":-2'),
            "key.map_index",
            "Input should be greater than or equal to -1",
            id="nested-constraint",
        ),
        pytest.param(
            POD_EVENT.replace(b'"task_id":"t",', b""), "key.task_id", "Field required", id="nested"
        ),
        pytest.param(
            POD_EVENT[:-1] + b',"zz":1}', "zz", "Extra inputs are not permitted", id="unknown-field"
        ),
        pytest.param(
            POD_EVENT.replace(b'"try_number":1', b'"try_number":"1"'),
            "try_number",
            "Input should be a valid integer",
            id="wrong-type",
        ),
        pytest.param(b"[]", "(body)", "Input should be an object", id="not-an-object"),
    ],
)
def test_a_malformed_pod_event_names_the_field_and_the_reason_in_the_jobs_words(
    raw: bytes, field: str, reason: str
) -> None:
    with pytest.raises(DecodeError) as raised:
        PodEvent.decode(raw)
    assert (raised.value.field, raised.value.reason) == (field, reason)
