"""One create on the stub API, called directly (no thread): attempts, giving up, our own pod."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry

from services.launcher.creating import Creator, Outcome
from services.launcher.metrics import LauncherMetrics
from services.launcher.preparing import Prepared
from services.launcher.throttling import TokenBucket
from shared.k8s import errors
from shared.k8s.stub import StubPodApi
from shared.retrying import RetryPolicy
from tests.support import builders
from tests.unit.services.launcher.rig import INSTANCE, NO_BACKOFF, NS, prepare


def creator(pods: StubPodApi, *, max_attempts: int) -> Creator:
    return Creator(
        pods,
        bucket=TokenBucket(10_000.0),
        policy=RetryPolicy(max_attempts=max_attempts, backoff=NO_BACKOFF),
        metrics=LauncherMetrics(CollectorRegistry()),
        instance=INSTANCE,
        stop=threading.Event(),
    )


def prepared_job() -> Prepared:
    prepared = prepare(builders.job().encode(), NS)
    assert isinstance(prepared, Prepared)
    return prepared


def test_a_create_failing_past_its_last_attempt_is_given_back_with_the_error() -> None:
    pods = StubPodApi()
    pods.fail_next("create", *[errors.Unavailable("api down")] * 3)
    result = creator(pods, max_attempts=3).create(prepared_job())
    assert (result.outcome, result.attempts) == (Outcome.RETRY_LATER, 3)
    assert "api down" in result.reason
    assert pods.pods == {}


def test_a_create_succeeding_on_a_later_attempt_counts_its_attempts() -> None:
    pods = StubPodApi()
    pods.fail_next("create", errors.Conflict("try again", status=409))
    result = creator(pods, max_attempts=3).create(prepared_job())
    assert (result.outcome, result.attempts) == (Outcome.CREATED, 2)


def test_a_pod_this_launcher_created_before_is_adopted_as_existing() -> None:
    pods, prepared = StubPodApi(), prepared_job()
    pods.create(NS, prepared.pod)
    result = creator(pods, max_attempts=1).create(prepared)
    assert result.outcome is Outcome.EXISTS
