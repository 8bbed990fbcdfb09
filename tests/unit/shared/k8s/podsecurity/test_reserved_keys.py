"""A job may not set the label and annotation keys podrunner writes or selects on, wherever it puts
them; kubesim's behaviour annotations and its own keys stay the job's to set."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.shared.k8s.podsecurity.conftest import Judge


@pytest.mark.parametrize(
    ("job", "path"),
    [
        pytest.param(
            {"labels": {"app.kubernetes.io/component": "reconciler"}},
            'labels["app.kubernetes.io/component"]',
            id="job-label",
        ),
        pytest.param(
            {"annotations": {"podrunner.io/dag-id": "someone-else"}},
            'annotations["podrunner.io/dag-id"]',
            id="job-annotation",
        ),
        pytest.param(
            {"pod_override": {"metadata": {"labels": {"app.kubernetes.io/name": "x"}}}},
            'pod_override.metadata.labels["app.kubernetes.io/name"]',
            id="override-label",
        ),
        pytest.param(
            {"pod_override": {"metadata": {"annotations": {"podrunner.io/anything": "x"}}}},
            'pod_override.metadata.annotations["podrunner.io/anything"]',
            id="override-annotation",
        ),
        pytest.param(
            {"pod_override": {"metadata": {"labels": None}}},
            'metadata.labels["app.kubernetes.io/component"]',
            id="template-label-removed",
        ),
    ],
)
def test_a_reserved_key_set_by_the_job_is_refused(
    judge: Judge, job: dict[str, Any], path: str
) -> None:
    found = judge(**job)
    assert [(v.control, v.path) for v in found] == [("reservedKey", path)]


def test_kubesims_behaviour_annotations_and_the_jobs_own_keys_are_allowed(judge: Judge) -> None:
    annotations = {"kubesim.podrunner.io/exit-code": "3", "ticket": "T-1"}
    assert judge(labels={"team": "etl", "example.com/cost": "a"}, annotations=annotations) == []
