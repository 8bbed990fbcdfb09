"""Settings: read from PODRUNNER_* once, validated, with secrets never shown."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.k8s.podsecurity import Level, Placement
from shared.settings import Settings


def settings(**values: Any) -> Settings:
    return Settings(**values)


def test_environment_variables_with_the_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODRUNNER_INSTANCE", "prod")
    monkeypatch.setenv("PODRUNNER_LAUNCH_QPS", "250")
    monkeypatch.setenv("PODRUNNER_DELETE_WORKER_PODS", "false")
    loaded = Settings()
    assert (loaded.instance, loaded.launch_qps, loaded.delete_worker_pods) == ("prod", 250.0, False)


def test_the_broker_defaults_to_the_redis_url() -> None:
    assert settings(redis_url="redis://r:6379/0").broker_url == "redis://r:6379/0"


def test_namespaces_are_comma_separated_and_default_to_the_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings(namespace="jobs").namespaces == ("jobs",)
    monkeypatch.setenv("PODRUNNER_NAMESPACES", "team-a, team-b")
    assert Settings().namespaces == ("team-a", "team-b")


def test_the_launch_prefetch_defaults_to_four_times_the_concurrency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings().launch_prefetch == 64
    monkeypatch.setenv("PODRUNNER_LAUNCH_CONCURRENCY", "5")
    assert Settings().launch_prefetch == 20
    monkeypatch.setenv("PODRUNNER_LAUNCH_PREFETCH", "3")
    assert Settings().launch_prefetch == 3


def test_pods_must_be_restricted_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().pod_security is Level.RESTRICTED
    monkeypatch.setenv("PODRUNNER_POD_SECURITY", "baseline")
    assert Settings().pod_security is Level.BASELINE


def test_a_job_may_name_only_the_worker_images_repository_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PODRUNNER_WORKER_IMAGE", "registry.example:5000/team/worker:1.2")
    assert Settings().job_images == (
        "registry.example:5000/team/worker",
        "registry.example:5000/team/worker:*",
        "registry.example:5000/team/worker@*",
    )
    monkeypatch.setenv("PODRUNNER_JOB_IMAGES", "registry.example/team/*, python:3.11-*")
    assert Settings().job_images == ("registry.example/team/*", "python:3.11-*")


def test_job_allowlists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().job_service_accounts == ()
    assert Settings().job_secrets == ()
    assert "secret" not in Settings().job_volume_types
    assert set(Settings().job_placement) == {Placement.NODE_SELECTOR, Placement.AFFINITY}
    monkeypatch.setenv("PODRUNNER_JOB_SERVICE_ACCOUNTS", "etl,reports")
    monkeypatch.setenv("PODRUNNER_JOB_SECRETS", "db-readonly")
    monkeypatch.setenv("PODRUNNER_JOB_VOLUME_TYPES", "emptyDir,secret")
    monkeypatch.setenv("PODRUNNER_JOB_PLACEMENT", "tolerations")
    settings = Settings()
    assert settings.job_service_accounts == ("etl", "reports")
    assert settings.job_secrets == ("db-readonly",)
    assert settings.job_volume_types == ("emptyDir", "secret")
    assert settings.job_placement == (Placement.TOLERATIONS,)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("PODRUNNER_LAUNCH_QPS", "0", id="qps-zero"),
        pytest.param("PODRUNNER_LAUNCH_CONCURRENCY", "lots", id="concurrency-not-a-number"),
        pytest.param("PODRUNNER_LAUNCH_PREFETCH", "0", id="prefetch-zero"),
        pytest.param("PODRUNNER_INSTANCE", "not a label!", id="instance-not-label-safe"),
        pytest.param("PODRUNNER_NAMESPACE", "Upper_Case", id="namespace-not-dns"),
        pytest.param("PODRUNNER_LOG_FORMAT", "xml", id="unknown-log-format"),
        pytest.param("PODRUNNER_POD_SECURITY", "lenient", id="unknown-pod-security-level"),
        pytest.param("PODRUNNER_JOB_VOLUME_TYPES", "emptyDir,magic", id="unknown-volume-type"),
        pytest.param("PODRUNNER_JOB_PLACEMENT", "anywhere", id="unknown-placement-field"),
        pytest.param("PODRUNNER_JOB_IMAGES", "a b", id="image-pattern-with-space"),
        pytest.param("PODRUNNER_HEALTH_PORT", "70000", id="port-out-of-range"),
        pytest.param("PODRUNNER_API_AUTH", "maybe", id="unknown-api-auth"),
        pytest.param("PODRUNNER_API_TOKEN", "", id="empty-token"),
        pytest.param("PODRUNNER_API_TOKEN", "x" * 15, id="short-token"),
        pytest.param("PODRUNNER_POD_TEMPLATE_DIR", "templates", id="relative-template-dir"),
        pytest.param("PODRUNNER_POD_TEMPLATE_FILE", "pod.yaml", id="relative-template-file"),
        pytest.param("PODRUNNER_POD_TEMPLATE_MAX_BYTES", "0", id="template-cap-zero"),
        pytest.param("PODRUNNER_HTTP_HEADER_TIMEOUT_S", "0", id="header-timeout-zero"),
        pytest.param("PODRUNNER_HTTP_BODY_TIMEOUT_S", "-1", id="body-timeout-negative"),
    ],
)
def test_invalid_values_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_ends_must_be_remembered_longer_than_a_job_takes_to_come_back() -> None:
    with pytest.raises(ValidationError, match="must exceed PODRUNNER_BROKER_VISIBILITY"):
        settings(finished_pod_retention_s=300, broker_visibility_timeout_s=300)


def test_each_service_has_its_own_default_health_port() -> None:
    loaded = settings()
    ports = [loaded.health_port_for(s) for s in ("launcher", "watcher", "reconciler")]
    assert ports == [8081, 8082, 8083]
    assert settings(health_port="9000").health_port_for("watcher") == 9000


def test_passwords_and_tokens_never_appear_when_printed() -> None:
    loaded = settings(
        redis_url="redis://:hunter2@redis:6379/0",
        database_url="postgresql://app:s3cret@db:5432/podrunner",
        api_token="tok-123-long-enough-now",
    )
    shown = f"{loaded!r} {loaded.redacted()}"
    assert "hunter2" not in shown
    assert "s3cret" not in shown
    assert "tok-123" not in shown
    assert "long-enough" not in shown
    assert loaded.redacted()["database_url"] == "postgresql://app:***@db:5432/podrunner"


def test_settings_are_frozen() -> None:
    loaded = settings()
    with pytest.raises(ValidationError):
        loaded.instance = "other"  # type: ignore[misc]


def test_a_token_of_16_characters_is_enough_and_never_shown() -> None:
    loaded = settings(api_token="x" * 16)
    assert loaded.api_token is not None
    assert loaded.redacted()["api_token"] == "***"


def test_auth_none_and_a_token_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="choose one"):
        settings(api_auth="none", api_token="x" * 16)


def test_a_database_url_with_a_password_in_its_query_is_redacted() -> None:
    loaded = settings(database_url="postgresql://u@h/db?password=hunter2")
    assert loaded.redacted()["database_url"] == "postgresql://u@h/db?password=***"
    assert "hunter2" not in repr(loaded)
