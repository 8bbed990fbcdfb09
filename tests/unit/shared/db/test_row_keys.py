"""A task's one key finds its row: its values in primary-key order, as SQL and the batch
documents take them, and back."""

from __future__ import annotations

import msgspec

from shared.db.keys import KEY_NAMES, TABLE, key_of, key_values
from shared.messages import TaskKey

KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1", map_index=3)


def test_a_key_gives_its_values_in_primary_key_order() -> None:
    assert key_values(KEY) == ("etl", "load", "r1", 3)


def test_the_values_of_a_key_give_back_the_key() -> None:
    assert key_of(key_values(KEY)) == KEY
    assert key_of(["etl", "load", "r1", 3]) == KEY


def test_a_key_is_a_dict_key_equal_to_the_same_key_read_from_the_wire() -> None:
    read = msgspec.json.decode(msgspec.json.encode(KEY), type=TaskKey)
    assert {KEY: "row"}[read] == "row"


def test_a_keys_values_travel_as_a_json_array_in_primary_key_order() -> None:
    encoded = msgspec.json.encode(key_values(KEY))
    assert encoded == b'["etl","load","r1",3]'
    assert key_of(msgspec.json.decode(encoded)) == KEY


def test_the_key_names_are_the_tables_primary_key_in_order() -> None:
    assert tuple(column.name for column in TABLE.primary_key.columns) == KEY_NAMES
    assert TaskKey.__struct_fields__ == KEY_NAMES
