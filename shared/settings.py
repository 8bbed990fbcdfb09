"""podrunner's settings: read from the environment once, validated, then passed in explicitly.

Every service builds one `Settings` in its `main()` and hands it (or the parts it needs) to the
objects it constructs; nothing reads the environment after start-up and nothing holds settings in a
module global. Field names map to `PODRUNNER_<NAME>` variables, which are a contract (operators'
manifests and scripts set them), so renaming a field is a breaking change.

URLs can carry passwords. `redacted()` and `repr()` never show them: anything printed, logged or
served on `/status` goes through `redaction.redact_url`.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared import syntax
from shared.k8s.podsecurity import Level, Placement, allowlists
from shared.redaction import HIDDEN, redact_url

#: Settings holding a URL that may contain credentials.
URL_FIELDS = ("redis_url", "database_url", "broker_url")

#: Fewest characters of `PODRUNNER_API_TOKEN`: anything shorter is guessable.
MIN_API_TOKEN_CHARS = 16

#: Health-app ports when `PODRUNNER_HEALTH_PORT` is not set.
DEFAULT_HEALTH_PORTS = {"launcher": 8081, "watcher": 8082, "reconciler": 8083}


class LogFormat(enum.StrEnum):
    JSON = "json"
    CONSOLE = "console"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class ApiAuth(enum.StrEnum):
    """How the reconciler's API admits writes."""

    TOKEN = "token"  # noqa: S105 - the name of a mode, not a secret
    """Writes need `PODRUNNER_API_TOKEN` as a bearer token; refused while no token is set."""
    NONE = "none"
    """Anyone who reaches the port may write: only for a network nobody else can reach."""


class Settings(BaseSettings):
    """All of podrunner's configuration; every field is `PODRUNNER_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="PODRUNNER_",
        frozen=True,
        extra="ignore",
        use_attribute_docstrings=True,
        hide_input_in_errors=True,  # a refused value may be a secret (a short token)
    )

    redis_url: str | None = None
    """Redis for streams, leases and checkpoints, e.g. `redis://127.0.0.1:6379/0`."""

    database_url: str | None = None
    """Postgres, as a SQLAlchemy URL or a plain `postgresql://user@host:port/db`."""

    broker_url: str | None = None
    """kombu broker for the job queues; defaults to the Redis URL."""

    instance: str = "default"
    """Value of the `podrunner.io/instance` label: which podrunner owns a pod."""

    namespace: str = "default"
    """Namespace for jobs that do not name one."""

    namespaces: Annotated[tuple[str, ...], NoDecode] = ()
    """Comma-separated namespaces served; defaults to `PODRUNNER_NAMESPACE` alone."""

    pod_template_file: Path | None = None
    """Absolute path of the YAML pod template every pod starts from (the operator's own)."""

    pod_template_dir: Path | None = None
    """Absolute path of the directory whose files a job may name as its `pod_template_file`;
    unset, jobs may not name a template."""

    pod_template_max_bytes: int = Field(default=256 * 1024, ge=1, le=16 * 1024 * 1024)
    """Largest pod template file read, in bytes (both the operator's and a job's)."""

    worker_image: str = "python:3.11-slim"
    """Image of the `base` container when neither the job nor its override names one."""

    delete_worker_pods: bool = True
    """Delete a pod once its task succeeded and the result is recorded."""

    delete_worker_pods_on_failure: bool = False
    """Delete a pod once its task failed and the result is recorded."""

    launch_concurrency: int = Field(default=16, ge=1, le=1024)
    """Pod creates in flight at once, per launcher."""

    launch_prefetch: int = Field(default=64, ge=1, le=10_000)
    """Jobs a launcher holds unacknowledged per namespace (4 x PODRUNNER_LAUNCH_CONCURRENCY when
    unset): each round of taking, settling and acknowledging costs the same few Redis round trips
    whatever its size, so holding more than the creates in flight makes the rounds bigger."""

    launch_qps: float = Field(default=100.0, gt=0)
    """Sustained pod creates per second, per launcher (token bucket)."""

    max_active_pods: int = Field(default=1000, ge=1)
    """Unfinished pods allowed at once, per namespace."""

    pending_timeout_s: float = Field(default=300.0, gt=0)
    """A pod Pending longer than this fails with its pending reason."""

    queued_timeout_s: float = Field(default=600.0, gt=0)
    """A row queued longer than this without a launch has its job published again."""

    max_relaunches: int = Field(default=3, ge=0)
    """Relaunches of a pod lost before its task started, before the task fails."""

    max_republishes: int = Field(default=3, ge=0)
    """Times the stuck-queued sweep publishes a job again before the task fails."""

    sweep_interval_s: float = Field(default=30.0, gt=0)
    """Pause between two rounds of the reconciler's sweeps (run by one replica)."""

    drift_grace_s: float = Field(default=60.0, ge=0)
    """Age before the drift scan acts on a pod without a row or a launched row without a pod."""

    image_pull_grace_s: float = Field(default=120.0, ge=0)
    """How long a pod may stay in ImagePullBackOff before its task fails."""

    config_error_grace_s: float = Field(default=120.0, ge=0)
    """How long a container may wait for a missing Secret or ConfigMap
    (CreateContainerConfigError) before its task fails; creating the object in time lets it run."""

    log_tail_lines: int = Field(default=100, ge=1, le=10_000)
    """Lines of a failed pod's log kept in its row."""

    health_port: int | None = Field(default=None, ge=0, le=65535)
    """Port of the service's health app; defaults to 8081/8082/8083 by service."""

    health_host: str = "0.0.0.0"  # noqa: S104 - probes reach the pod's IP, not its loopback
    """Address the health app listens on."""

    api_auth: ApiAuth = ApiAuth.TOKEN
    """`token`: the reconciler's API takes writes only with `PODRUNNER_API_TOKEN` (and refuses
    them while it is unset); `none`: the API is open to anyone reaching it, logged at start."""

    api_token: SecretStr | None = None
    """Bearer token of the reconciler's API (at least 16 characters): every `/api/v1` route
    requires it when set."""

    http_header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """A client of an HTTP app must send a request's headers within this long (else it is cut)."""

    http_body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """A client of an HTTP app must send a request's body within this long (else 408)."""

    http_keepalive_s: float = Field(default=5.0, gt=0, le=300)
    """An idle keep-alive connection to an HTTP app is closed after this long."""

    log_format: LogFormat = LogFormat.JSON
    """`json` for machines, `console` for people."""

    log_level: LogLevel = LogLevel.INFO
    """Least severe level logged."""

    pod_security: Level = Level.RESTRICTED
    """Pod Security Standard every rendered pod must meet: `restricted`, `baseline` or
    `privileged` (no control; the job allowlists below still apply)."""

    job_service_accounts: Annotated[tuple[str, ...], NoDecode] = ()
    """Comma-separated service accounts a job may run its pod as; by default none, so a pod keeps
    the template's account (and a job may never turn `automountServiceAccountToken` on)."""

    job_images: Annotated[tuple[str, ...], NoDecode] = ()
    """Comma-separated shell-style patterns of the images a job may name (`registry.example/t/*`);
    by default any tag or digest of PODRUNNER_WORKER_IMAGE's repository."""

    job_volume_types: Annotated[tuple[str, ...], NoDecode] = tuple(
        sorted(allowlists.DEFAULT_VOLUME_TYPES)
    )
    """Comma-separated volume types a job may add (`serviceAccountToken` for projected tokens); by
    default restricted's list without `secret`."""

    job_secrets: Annotated[tuple[str, ...], NoDecode] = ()
    """Comma-separated Secrets a job may reference in volumes, env or envFrom; by default none."""

    job_placement: Annotated[tuple[Placement, ...], NoDecode] = tuple(
        sorted(allowlists.DEFAULT_PLACEMENT)
    )
    """Comma-separated node-placement fields a job may set: `nodeSelector`, `affinity`,
    `tolerations`, `nodeName`; by default `affinity,nodeSelector`."""

    stream_maxlen: int = Field(default=1_000_000, ge=1000)
    """Approximate length each Redis stream is trimmed to."""

    max_deliveries: int = Field(default=5, ge=1)
    """Deliveries of a stream entry before it is dead-lettered."""

    apply_workers: int = Field(default=2, ge=1, le=16)
    """Reconciler threads applying batches side by side: one decodes and folds while another
    waits on Postgres or Kubernetes, as separate replicas would."""

    apply_batch_size: int = Field(default=5_000, ge=1, le=50_000)
    """Stream entries a reconciler apply thread reads and applies in one transaction: a bigger
    batch folds more of each pod's events into one row write."""

    claim_idle_s: float = Field(default=30.0, gt=0)
    """A stream entry unacknowledged this long is claimed by another consumer."""

    broker_visibility_timeout_s: float = Field(default=300.0, gt=0)
    """A job taken but not acknowledged this long is redelivered (Redis broker)."""

    finished_pod_retention_s: float = Field(default=86_400.0, gt=0)
    """How long the end of each pod is remembered in Redis, so that a job delivered again
    after its pod finished and was deleted is not run a second time; must exceed
    PODRUNNER_BROKER_VISIBILITY_TIMEOUT_S."""

    lease_ttl_s: float = Field(default=15.0, gt=0)
    """Time-to-live of a single-active lease; a dead holder is replaced within it."""

    @field_validator(
        "namespaces",
        "job_service_accounts",
        "job_images",
        "job_volume_types",
        "job_secrets",
        "job_placement",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("api_token")
    @classmethod
    def _token_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_API_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_API_TOKEN_CHARS} characters (it is shorter)")
        return value

    @field_validator("pod_template_file", "pod_template_dir")
    @classmethod
    def _path_is_absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError("must be an absolute path")
        return value

    @field_validator("instance")
    @classmethod
    def _instance_is_label_safe(cls, value: str) -> str:
        if not syntax.is_label_value(value) or not value:
            raise ValueError(f"{value!r} is not a valid label value")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace_is_dns_label(cls, value: str) -> str:
        return _dns_label(value)

    @field_validator("namespaces")
    @classmethod
    def _namespaces_are_dns_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_dns_label(item) for item in value)

    @field_validator("job_volume_types")
    @classmethod
    def _volume_types_are_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - allowlists.VOLUME_TYPES)
        if unknown:
            raise ValueError(f"unknown volume types: {', '.join(unknown)}")
        return value

    @field_validator("job_images")
    @classmethod
    def _image_patterns_have_no_spaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if any(c.isspace() for c in pattern):
                raise ValueError(f"{pattern!r} is not an image pattern (it has white space)")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if self.broker_url is None and self.redis_url is not None:
            object.__setattr__(self, "broker_url", self.redis_url)
        if not self.namespaces:
            object.__setattr__(self, "namespaces", (self.namespace,))
        if "job_images" not in self.model_fields_set:
            images = allowlists.image_patterns_for(self.worker_image)
            object.__setattr__(self, "job_images", images)
        if "launch_prefetch" not in self.model_fields_set:
            object.__setattr__(self, "launch_prefetch", 4 * self.launch_concurrency)
        return self

    @model_validator(mode="after")
    def _one_way_of_auth(self) -> Settings:
        if self.api_auth is ApiAuth.NONE and self.api_token is not None:
            raise ValueError(
                "PODRUNNER_API_AUTH=none and PODRUNNER_API_TOKEN are both set: choose one"
            )
        return self

    @model_validator(mode="after")
    def _retention_outlasts_redelivery(self) -> Settings:
        if self.finished_pod_retention_s <= self.broker_visibility_timeout_s:
            raise ValueError(
                "PODRUNNER_FINISHED_POD_RETENTION_S must exceed "
                "PODRUNNER_BROKER_VISIBILITY_TIMEOUT_S (a job comes back after the latter)"
            )
        return self

    def health_port_for(self, service: str) -> int:
        """The health-app port of `service`: the configured one, else the service's default."""
        if self.health_port is not None:
            return self.health_port
        return DEFAULT_HEALTH_PORTS.get(service, 8080)

    def redacted(self) -> dict[str, Any]:
        """All settings as JSON-ready values, with passwords and tokens hidden."""
        values = self.model_dump(mode="json")
        for name in URL_FIELDS:
            values[name] = redact_url(values[name])
        values["api_token"] = HIDDEN if self.api_token is not None else None
        return values

    def __repr_args__(self) -> Any:
        return self.redacted().items()


def _dns_label(value: str) -> str:
    if not syntax.is_dns_label(value):
        raise ValueError(f"{value!r} is not a valid namespace (a DNS-1123 label)")
    return value
