"""Pod names: valid DNS-1123 labels, deterministic, and distinct for distinct tries."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from shared import syntax
from shared.k8s import naming
from shared.messages import TaskKey

identifiers = st.one_of(
    st.text(min_size=1, max_size=300),
    st.from_regex(r"[a-z0-9._-]{1,250}", fullmatch=True),
    st.sampled_from([".", "_", "-", "..", "__", "---", "ü", "任务", "🙂", " ", "a" * 250]),
).filter(lambda s: 1 <= len(s) <= 250)
keys = st.builds(
    TaskKey,
    dag_id=identifiers,
    task_id=identifiers,
    run_id=identifiers,
    map_index=st.integers(min_value=-1, max_value=10_000),
)
tries = st.integers(min_value=1, max_value=1000)


@given(key=keys, try_number=tries)
def test_every_key_gives_a_valid_dns_label_of_at_most_63_characters(
    key: TaskKey, try_number: int
) -> None:
    name = naming.pod_name(key, try_number)
    assert syntax.is_dns_label(name), name
    assert len(name) <= 63


@given(key=keys, try_number=tries)
def test_the_same_key_and_try_always_give_the_same_name(key: TaskKey, try_number: int) -> None:
    copy = TaskKey(**msgspec.structs.asdict(key))
    assert naming.pod_name(key, try_number) == naming.pod_name(copy, try_number)


@given(first=keys, second=keys, try_number=tries)
def test_different_keys_give_different_names(
    first: TaskKey, second: TaskKey, try_number: int
) -> None:
    if first != second:
        assert naming.pod_name(first, try_number) != naming.pod_name(second, try_number)


@given(key=keys, first=tries, second=tries)
def test_different_tries_give_different_names(key: TaskKey, first: int, second: int) -> None:
    if first != second:
        assert naming.pod_name(key, first) != naming.pod_name(key, second)


def test_the_name_starts_with_a_readable_slug_of_dag_and_task() -> None:
    key = TaskKey(dag_id="Nightly_ETL", task_id="load.orders", run_id="r1")
    assert naming.pod_name(key, 1).startswith("nightly-etl-load-orders-")


def test_a_key_with_nothing_sluggable_still_gets_a_name() -> None:
    key = TaskKey(dag_id="任务", task_id="🙂", run_id="r1")
    name = naming.pod_name(key, 1)
    assert name.startswith("task-")
    assert syntax.is_dns_label(name)


def test_ids_that_differ_only_in_the_split_give_different_names() -> None:
    a = TaskKey(dag_id="a-b", task_id="c", run_id="r")
    b = TaskKey(dag_id="a", task_id="b-c", run_id="r")
    assert naming.pod_name(a, 1) != naming.pod_name(b, 1)
