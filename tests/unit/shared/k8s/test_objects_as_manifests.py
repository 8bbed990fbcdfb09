"""Client model objects become manifests in the API's spelling; anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kubernetes.client import models as k8s

from shared.k8s import objects


def test_a_pod_is_its_wire_json_without_unset_fields() -> None:
    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(
            labels={"team": "data"}, creation_timestamp=datetime(2026, 12, 4, tzinfo=UTC)
        ),
        spec=k8s.V1PodSpec(
            containers=[k8s.V1Container(name="base", image_pull_policy="Always")],
            service_account_name="runner",
        ),
    )
    assert objects.as_manifest(pod) == {
        "metadata": {"labels": {"team": "data"}, "creationTimestamp": "2026-12-04T00:00:00+00:00"},
        "spec": {
            "containers": [{"name": "base", "imagePullPolicy": "Always"}],
            "serviceAccountName": "runner",
        },
    }


def test_a_mapping_is_taken_as_it_is_nulls_included() -> None:
    override = {"spec": {"nodeSelector": None}}
    assert objects.as_manifest(override) == override


@pytest.mark.parametrize("value", ["a pod", 3, ["list"], object()])
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(objects.NotAModel):
        objects.as_manifest(value)
