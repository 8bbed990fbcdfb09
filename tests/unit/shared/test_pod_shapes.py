"""A pod manifest of the wrong shape, where rendering walks it, is refused naming the path of the
fault; anything else (and `null`, which removes a field) is left for the API server to judge."""

from __future__ import annotations

from typing import Any

import pytest

from shared import pod_shapes


@pytest.mark.parametrize(
    ("pod", "where", "reason"),
    [
        ({"spec": "x"}, "spec", "must be an object"),
        ({"metadata": "x"}, "metadata", "must be an object"),
        ({"metadata": {"labels": "x"}}, "metadata.labels", "must be an object of strings"),
        (
            {"metadata": {"annotations": {"a": 1}}},
            "metadata.annotations",
            "must be an object of strings",
        ),
        ({"metadata": {"finalizers": 5}}, "metadata.finalizers", "must be a list of strings"),
        ({"metadata": {"finalizers": [5]}}, "metadata.finalizers", "must be a list of strings"),
        ({"spec": {"containers": "x"}}, "spec.containers", "must be a list of objects"),
        ({"spec": {"containers": ["x"]}}, "spec.containers", "must be a list of objects"),
        ({"spec": {"initContainers": [None]}}, "spec.initContainers", "must be a list of objects"),
        ({"spec": {"volumes": {"name": "v"}}}, "spec.volumes", "must be a list of objects"),
        ({"spec": {"volumes": [{"emptyDir": {}}]}}, "spec.volumes[0].name", "must be a string"),
        ({"spec": {"containers": [{"name": 3}]}}, "spec.containers[0].name", "must be a string"),
        (
            {"spec": {"containers": [{"name": "base", "env": "A=1"}]}},
            "spec.containers[0].env",
            "must be a list of objects",
        ),
        (
            {"spec": {"containers": [{"name": "base", "env": [{"value": "1"}]}]}},
            "spec.containers[0].env[0].name",
            "must be a string",
        ),
        (
            {"spec": {"containers": [{"name": "b", "volumeMounts": [1]}]}},
            "spec.containers[0].volumeMounts",
            "must be a list of objects",
        ),
    ],
)
def test_a_part_of_the_wrong_shape_is_named_with_what_it_must_be(
    pod: dict[str, Any], where: str, reason: str
) -> None:
    with pytest.raises(pod_shapes.ShapeError) as raised:
        pod_shapes.check_pod(pod)
    assert (raised.value.where, raised.value.reason) == (where, reason)
    assert str(raised.value) == f"{where}: {reason}"


@pytest.mark.parametrize(
    "pod",
    [
        {},
        {"spec": None, "metadata": None},
        {"metadata": {"labels": None, "finalizers": None}},
        {"spec": {"containers": None, "nodeSelector": {"pool": "gpu"}}},
        {
            "metadata": {"labels": {"a": "b"}, "finalizers": ["x/y"]},
            "spec": {
                "containers": [{"name": "base", "env": [{"name": "A", "value": "1"}]}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "priority": "left to the API server",
            },
        },
    ],
)
def test_a_pod_of_the_right_shape_passes(pod: dict[str, Any]) -> None:
    pod_shapes.check_pod(pod)
