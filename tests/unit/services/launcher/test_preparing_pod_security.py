"""The launcher refuses a job whose rendered pod fails pod security, keeping its key and job for
the row, with the one-line reason; the level and allowlists come from the settings."""

from __future__ import annotations

import orjson

from services.launcher import preparing, service
from shared.k8s.template_files import Templates
from shared.settings import Settings
from tests.support import builders


def prepare(settings: Settings, **job: object) -> preparing.Prepared | preparing.Rejection:
    body = orjson.dumps(builders.job_dict(**job))
    return preparing.prepare(
        body,
        queue_namespace="default",
        settings=service.launch_settings(settings),
        templates=Templates(),
    )


def test_a_plain_job_is_prepared() -> None:
    assert isinstance(prepare(Settings()), preparing.Prepared)


def test_a_job_breaking_the_level_is_rejected_with_key_job_and_reason() -> None:
    override = {"spec": {"securityContext": {"runAsUser": 0}}}
    rejection = prepare(Settings(), task_id="root", pod_override=override)
    assert isinstance(rejection, preparing.Rejection)
    assert rejection.reason == (
        'pod security "restricted": runAsUser: spec.securityContext.runAsUser must not be 0'
    )
    assert rejection.key is not None
    assert rejection.key.task_id == "root"
    assert rejection.job is not None


def test_a_lower_level_lets_through_what_it_does_not_judge() -> None:
    override = {"spec": {"securityContext": None}}
    assert isinstance(prepare(Settings(), pod_override=override), preparing.Rejection)
    lenient = Settings(pod_security="baseline")
    assert isinstance(prepare(lenient, pod_override=override), preparing.Prepared)


def test_the_allowlists_come_from_the_settings() -> None:
    assert isinstance(prepare(Settings(), image="evil.example/x:1"), preparing.Rejection)
    allowing = Settings(job_images=("evil.example/*",))
    assert isinstance(prepare(allowing, image="evil.example/x:1"), preparing.Prepared)
