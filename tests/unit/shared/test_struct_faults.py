"""The walk that explains a refused record agrees with msgspec: it finds a fault exactly when the
record does not decode, and it names a field for every record that is a JSON object."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import struct_faults
from shared.messages import DecodeError, Job, LaunchEvent, PodEvent, Record
from tests.support import builders

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.sampled_from(["", "a", "Running", "created", "2026-11-23T00:00:00Z", "etl"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)

POD_EVENT: dict[str, Any] = {
    "version": 1,
    "key": {"dag_id": "etl", "task_id": "load", "run_id": "r1", "map_index": 2},
    "try_number": 1,
    "namespace": "jobs",
    "pod": "etl-load-x",
    "phase": "Running",
    "resource_version": "7",
    "observed_at": "2026-11-23T00:00:00Z",
}
LAUNCH_EVENT: dict[str, Any] = {
    "version": 1,
    "key": POD_EVENT["key"],
    "try_number": 1,
    "namespace": "jobs",
    "pod": "etl-load-x",
    "outcome": "created",
    "job": builders.job_dict(),
    "at": "2026-11-23T00:00:00Z",
}


def mutated(base: dict[str, Any], data: st.DataObject, depth: int = 0) -> dict[str, Any]:
    """`base` with one field (or a field of a record inside it) changed, removed or added."""
    changed = dict(base)
    name = data.draw(st.sampled_from([*changed, "surprise"]))
    inner = changed.get(name)
    if isinstance(inner, dict) and depth == 0 and data.draw(st.booleans()):
        changed[name] = mutated(inner, data, depth + 1)
    elif name in changed and data.draw(st.booleans()):
        del changed[name]
    else:
        changed[name] = data.draw(values)
    return changed


def accepted(kind: type[Record], data: Any) -> bool:
    try:
        record = msgspec.convert(data, kind, strict=True)
    except msgspec.ValidationError:
        return False
    return struct_faults.record_fault(record) is None


@pytest.mark.parametrize(
    ("kind", "base"),
    [(Job, builders.job_dict()), (PodEvent, POD_EVENT), (LaunchEvent, LAUNCH_EVENT)],
    ids=["job", "pod-event", "launch-event"],
)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_walk_finds_a_fault_exactly_when_the_record_is_refused(
    kind: type[Record], base: dict[str, Any], data: st.DataObject
) -> None:
    candidate = mutated(base, data)
    assert (struct_faults.first_fault(kind, candidate) is None) == accepted(kind, candidate)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_refused_job_object_is_explained_by_a_field_never_by_the_body(
    data: st.DataObject,
) -> None:
    candidate = mutated(builders.job_dict(), data)
    if accepted(Job, candidate):
        return
    with pytest.raises(DecodeError) as raised:
        Job.decode(json.dumps(candidate).encode())
    assert raised.value.field != struct_faults.BODY
    assert "`" not in raised.value.reason  # msgspec quotes types in backticks; we never do


def test_a_valid_record_has_no_fault() -> None:
    assert struct_faults.first_fault(Job, builders.job_dict()) is None
    assert struct_faults.first_fault(PodEvent, POD_EVENT) is None
    assert struct_faults.first_fault(LaunchEvent, LAUNCH_EVENT) is None
