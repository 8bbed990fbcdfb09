"""Every record survives encode → decode unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from shared.messages import (
    SCHEMA_VERSION,
    EventSource,
    Job,
    LaunchEvent,
    LaunchOutcome,
    PodEvent,
    PodPhase,
    TaskKey,
)

ids = st.text(min_size=1, max_size=60)
keys = st.builds(
    TaskKey, dag_id=ids, task_id=ids, run_id=ids, map_index=st.integers(min_value=-1, max_value=99)
)
times = st.datetimes(timezones=st.just(UTC))
label_values = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?)?", fullmatch=True)
label_names = st.from_regex(r"([a-z0-9]{1,10}\.)?[a-z0-9]{1,10}/[A-Za-z0-9]{1,20}", fullmatch=True)
jobs = st.builds(
    Job,
    dag_id=ids,
    task_id=ids,
    run_id=ids,
    map_index=st.integers(min_value=-1, max_value=10**6),
    try_number=st.integers(min_value=1, max_value=10**6),
    command=st.lists(st.text(max_size=40), min_size=1, max_size=5),
    namespace=st.none() | st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    image=st.none() | st.text(min_size=1, max_size=30),
    priority=st.integers(min_value=-(10**6), max_value=10**6),
    labels=st.none() | st.dictionaries(label_names, label_values, max_size=3),
    annotations=st.none() | st.dictionaries(label_names, st.text(max_size=30), max_size=3),
    pod_override=st.none()
    | st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=3),
)


@given(job=jobs)
def test_a_job_round_trips(job: Job) -> None:
    assert Job.decode(job.encode()) == job
    assert Job.decode(job.to_dict()) == job


@given(
    key=keys,
    try_number=st.integers(min_value=1, max_value=99),
    outcome=st.sampled_from(LaunchOutcome),
    reason=st.text(max_size=80),
    job=st.none() | jobs,
    at=times,
)
def test_a_launch_event_round_trips(
    key: TaskKey,
    try_number: int,
    outcome: LaunchOutcome,
    reason: str,
    job: Job | None,
    at: datetime,
) -> None:
    event = LaunchEvent(
        version=SCHEMA_VERSION,
        key=key,
        try_number=try_number,
        namespace="ns",
        pod="p",
        outcome=outcome,
        reason=reason,
        job=job,
        at=at,
    )
    assert LaunchEvent.decode(event.encode()) == event


@given(
    key=keys,
    phase=st.sampled_from(PodPhase),
    exit_code=st.none() | st.integers(min_value=0, max_value=255),
    reason=st.text(max_size=40),
    deleted=st.booleans(),
    resource_version=st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    observed_at=times,
    started_at=st.none() | times,
    source=st.sampled_from(EventSource),
)
def test_a_pod_event_round_trips(
    key: TaskKey,
    phase: PodPhase,
    exit_code: int | None,
    reason: str,
    deleted: bool,
    resource_version: str,
    observed_at: datetime,
    started_at: datetime | None,
    source: EventSource,
) -> None:
    event = PodEvent(
        version=SCHEMA_VERSION,
        key=key,
        try_number=1,
        namespace="ns",
        pod="p",
        phase=phase,
        terminated_reason=reason,
        exit_code=exit_code,
        deleted=deleted,
        resource_version=resource_version,
        observed_at=observed_at,
        started_at=started_at,
        source=source,
    )
    assert PodEvent.decode(event.encode()) == event
