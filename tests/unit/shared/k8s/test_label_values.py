"""Label values are valid and unique; annotations carry the exact key back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import syntax
from shared.k8s import naming
from shared.messages import TaskKey

values = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,70}", fullmatch=True),
    st.sampled_from(["-1", "manual__2026-11-23T00:00:00+00:00", "a" * 63, "a" * 64, "x.", "_x"]),
)


@given(value=values)
def test_every_value_becomes_a_valid_label_value(value: str) -> None:
    assert syntax.is_label_value(naming.label_value(value))


@given(first=values, second=values)
def test_distinct_values_stay_distinct(first: str, second: str) -> None:
    if first != second:
        assert naming.label_value(first) != naming.label_value(second)


@given(value=st.from_regex(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]", fullmatch=True))
def test_a_value_that_is_already_valid_is_kept_as_it_is(value: str) -> None:
    assert naming.label_value(value) == value


def test_a_changed_value_is_cut_and_suffixed_with_a_hash() -> None:
    value = "manual__2026-11-23T00:00:00+00:00"
    assert naming.label_value(value) == f"manual__2026-11-23T0000000000-{naming.short_hash(value)}"


def test_an_over_long_value_is_cut_to_63_characters() -> None:
    label = naming.label_value("a" * 100)
    assert len(label) == 63
    assert syntax.is_label_value(label)


@given(
    key=st.builds(
        TaskKey,
        dag_id=st.text(min_size=1, max_size=250),
        task_id=st.text(min_size=1, max_size=250),
        run_id=st.text(min_size=1, max_size=250),
        map_index=st.integers(min_value=-1, max_value=10**6),
    ),
    try_number=st.integers(min_value=1, max_value=10**4),
)
def test_annotations_round_trip_the_exact_key(key: TaskKey, try_number: int) -> None:
    annotations = naming.key_annotations(key, try_number)
    assert naming.key_from_annotations(annotations) == (key, try_number)


def test_key_labels_are_all_valid_label_values() -> None:
    key = TaskKey(dag_id="etl dag", task_id="load/orders", run_id="manual__2026+00:00")
    labels = naming.key_labels(key, 3)
    assert set(labels) == set(naming.KEY_NAMES)
    assert all(syntax.is_label_value(value) for value in labels.values())
    assert labels[naming.TRY_NUMBER] == "3"


@pytest.mark.parametrize(
    ("annotations", "complaint"),
    [
        pytest.param({}, "no podrunner.io/dag-id", id="none-at-all"),
        pytest.param(
            {name: "1" for name in naming.KEY_NAMES if name != naming.RUN_ID},
            "no podrunner.io/run-id",
            id="one-missing",
        ),
        pytest.param(
            {**{name: "x" for name in naming.KEY_NAMES}},
            "non-numeric",
            id="try-not-a-number",
        ),
    ],
)
def test_a_pod_without_readable_key_annotations_is_refused(
    annotations: dict[str, str], complaint: str
) -> None:
    with pytest.raises(naming.AnnotationError, match=complaint):
        naming.key_from_annotations(annotations)
