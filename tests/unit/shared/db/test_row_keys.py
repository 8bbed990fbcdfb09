"""A task's row key: the one conversion to and from the wire records, and its tuple shape."""

from __future__ import annotations

import msgspec

from shared.db.keys import KEY_NAMES, TABLE, RowKey
from shared.messages import TaskKey

KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1", map_index=3)


def test_a_task_key_gives_the_row_key_of_its_fields_in_primary_key_order() -> None:
    assert RowKey.of(KEY) == ("etl", "load", "r1", 3)


def test_a_row_key_gives_back_the_task_key_it_came_from() -> None:
    assert RowKey.of(KEY).record() == KEY


def test_a_row_key_finds_what_a_plain_tuple_of_its_fields_stored() -> None:
    assert {("etl", "load", "r1", 3): "row"}[RowKey.of(KEY)] == "row"


def test_a_row_key_travels_as_a_json_array_in_primary_key_order() -> None:
    encoded = msgspec.json.encode(RowKey.of(KEY))
    assert encoded == b'["etl","load","r1",3]'
    assert msgspec.json.decode(encoded, type=RowKey) == RowKey.of(KEY)


def test_the_key_fields_are_the_tables_primary_key() -> None:
    assert RowKey._fields == KEY_NAMES == tuple(c.name for c in TABLE.primary_key.columns)
