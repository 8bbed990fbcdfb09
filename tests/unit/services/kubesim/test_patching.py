"""The three patch formats, including the strategic-merge directives pods use."""

from __future__ import annotations

from typing import Any

import pytest

from services.kubesim import patching

POD: dict[str, Any] = {
    "metadata": {"labels": {"a": "1"}, "finalizers": ["x"]},
    "spec": {
        "containers": [
            {"name": "side", "image": "s:1"},
            {"name": "base", "image": "b:1", "env": [{"name": "A", "value": "1"}]},
        ]
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"}]},
}


def test_merge_patch_replaces_lists_and_null_deletes() -> None:
    patched = patching.merge_patch(
        POD, {"metadata": {"labels": {"a": None, "b": "2"}, "finalizers": []}}
    )
    assert patched["metadata"] == {"labels": {"b": "2"}, "finalizers": []}
    assert POD["metadata"]["labels"] == {"a": "1"}, "the input is not modified"


def test_strategic_patch_merges_containers_and_env_by_name() -> None:
    patch = {"spec": {"containers": [{"name": "base", "env": [{"name": "B", "value": "2"}]}]}}
    base = patching.strategic_merge_patch(POD, patch)["spec"]["containers"][1]
    assert base["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert base["image"] == "b:1"


def test_strategic_patch_merges_conditions_by_type() -> None:
    patch = {
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "True"}]
        }
    }
    conditions = patching.strategic_merge_patch(POD, patch)["status"]["conditions"]
    assert conditions == [{"type": "Ready", "status": "True"}, {"type": "X", "status": "True"}]


def test_strategic_delete_directive_removes_a_named_item() -> None:
    patch = {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}
    names = [c["name"] for c in patching.strategic_merge_patch(POD, patch)["spec"]["containers"]]
    assert names == ["base"]


def test_strategic_replace_directive_replaces_a_map() -> None:
    patch = {"metadata": {"labels": {"$patch": "replace", "z": "9"}}}
    assert patching.strategic_merge_patch(POD, patch)["metadata"]["labels"] == {"z": "9"}


def test_strategic_finalizers_are_a_union() -> None:
    patch = {"metadata": {"finalizers": ["y", "x"]}}
    assert patching.strategic_merge_patch(POD, patch)["metadata"]["finalizers"] == ["x", "y"]


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        pytest.param(
            [{"op": "add", "path": "/metadata/labels/b", "value": "2"}],
            {"a": "1", "b": "2"},
            id="add",
        ),
        pytest.param([{"op": "remove", "path": "/metadata/labels/a"}], {}, id="remove"),
        pytest.param(
            [{"op": "replace", "path": "/metadata/labels/a", "value": "9"}],
            {"a": "9"},
            id="replace",
        ),
        pytest.param(
            [{"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/c"}],
            {"a": "1", "c": "1"},
            id="copy",
        ),
        pytest.param(
            [{"op": "move", "from": "/metadata/labels/a", "path": "/metadata/labels/m"}],
            {"m": "1"},
            id="move",
        ),
        pytest.param(
            [{"op": "test", "path": "/metadata/labels/a", "value": "1"}],
            {"a": "1"},
            id="test-holds",
        ),
    ],
)
def test_json_patch_operations(operations: list[dict[str, Any]], expected: dict[str, str]) -> None:
    assert patching.json_patch(POD, operations)["metadata"]["labels"] == expected


def test_json_patch_escapes_slash_and_tilde() -> None:
    patched = patching.json_patch(
        POD, [{"op": "add", "path": "/metadata/labels/a~1b~0c", "value": "x"}]
    )
    assert patched["metadata"]["labels"]["a/b~c"] == "x"


def test_json_patch_appends_with_a_dash() -> None:
    patched = patching.json_patch(
        POD, [{"op": "add", "path": "/metadata/finalizers/-", "value": "z"}]
    )
    assert patched["metadata"]["finalizers"] == ["x", "z"]


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param(
            [{"op": "test", "path": "/metadata/labels/a", "value": "2"}], id="failed-test"
        ),
        pytest.param([{"op": "remove", "path": "/metadata/missing"}], id="remove-missing"),
        pytest.param([{"op": "replace", "path": "/nope/deeper", "value": 1}], id="replace-missing"),
    ],
)
def test_an_operation_that_cannot_apply_fails(operations: list[dict[str, Any]]) -> None:
    with pytest.raises(patching.PatchFailed):
        patching.json_patch(POD, operations)


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param({"op": "add"}, id="not-a-list"),
        pytest.param([{"op": "explode", "path": "/a"}], id="unknown-op"),
        pytest.param([{"op": "add", "path": "no-slash", "value": 1}], id="bad-pointer"),
        pytest.param([{"op": "add", "path": "/a"}], id="missing-value"),
    ],
)
def test_a_malformed_json_patch_is_refused(operations: Any) -> None:
    with pytest.raises(patching.PatchMalformed):
        patching.json_patch(POD, operations)
