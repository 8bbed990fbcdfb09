"""The job schema refuses a `pod_override` of a shape rendering could not walk, naming the path of
the fault, so the API, the queue path and the command line refuse it alike."""

from __future__ import annotations

from typing import Any

import pytest

from shared.messages import DecodeError, Job
from tests.support import builders


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ({"spec": "x"}, "pod_override.spec", "must be an object"),
        ({"metadata": "x"}, "pod_override.metadata", "must be an object"),
        (
            {"metadata": {"labels": "x"}},
            "pod_override.metadata.labels",
            "must be an object of strings",
        ),
        (
            {"metadata": {"finalizers": 5}},
            "pod_override.metadata.finalizers",
            "must be a list of strings",
        ),
        (
            {"spec": {"containers": "x"}},
            "pod_override.spec.containers",
            "must be a list of objects",
        ),
        (
            {"spec": {"containers": [1]}},
            "pod_override.spec.containers",
            "must be a list of objects",
        ),
        (
            {"spec": {"containers": [{"name": "base", "env": {}}]}},
            "pod_override.spec.containers[0].env",
            "must be a list of objects",
        ),
        (
            {"spec": {"containers": [{"name": ["base"]}]}},
            "pod_override.spec.containers[0].name",
            "must be a string",
        ),
    ],
)
def test_a_pod_override_of_the_wrong_shape_is_refused_naming_the_path(
    override: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(DecodeError) as raised:
        Job.decode(builders.job_dict(pod_override=override))
    assert (raised.value.field, raised.value.reason) == (field, reason)
    assert str(raised.value) == f"invalid Job: {field}: {reason}"


def test_a_pod_override_of_the_right_shape_is_kept() -> None:
    override = {"spec": {"containers": [{"name": "base", "env": [{"name": "A", "value": "1"}]}]}}
    assert Job.decode(builders.job_dict(pod_override=override)).pod_override == override
