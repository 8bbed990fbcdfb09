"""docker-compose.yml and .dockerignore, held against the code they start.

No Docker engine is available where the tests run, so nothing here builds an image or starts a
container, and `docker compose config` is not used either (the compose plugin need not be
installed). Instead the files are read as data and checked against what they describe: the service
list of the architecture brief, the settings of `shared.settings`, the subcommands `services.cli`
parses, the health ports, the drain period of `shared.running`, what the image build copies.
A renamed setting, a mistyped subcommand, a wait on a service that never reports health or a
kubeconfig other containers cannot reach then fails here, in a second, rather than on somebody's
`docker compose up`. (The Dockerfile itself: test_dockerfile.py.)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from services import cli
from services.kubesim import server
from shared import running
from shared.settings import DEFAULT_HEALTH_PORTS, Settings
from tests.support.compose import command, compose, compose_text, environment, service, services

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "podrunner:dev"

SERVICES = {"redis", "postgres", "migrate", "kubesim", "launcher", "watcher", "reconciler"}
ONE_SHOT = {"migrate"}
LONG_RUNNING = SERVICES - ONE_SHOT
#: The services with a health app of their own (shared.health), on PODRUNNER_HEALTH_PORT.
WITH_HEALTH_APP = {"launcher", "watcher", "reconciler"}

#: What each podrunner process connects to, as its `build()` in services/<name>/service.py (or
#: `podrunner db upgrade`) requires: a service using Postgres also waits for the migration.
USES = {
    "migrate": {"postgres"},
    "launcher": {"redis", "kubesim"},
    "watcher": {"redis", "kubesim"},
    "reconciler": {"redis", "postgres", "kubesim"},
}
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"


# --- reading the files ------------------------------------------------------------------------


def podrunner_services() -> set[str]:
    return {name for name, spec in services().items() if spec.get("image") == IMAGE}


def parsed(name: str) -> Any:
    """The service's command as `podrunner` parses it (parsing only: nothing is run)."""
    try:
        return cli.build_parser().parse_args(command(name))
    except SystemExit:
        pytest.fail(f"{name}: `podrunner {' '.join(command(name))}` is not a valid command")


def settings_of(name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings `name` starts with: its compose environment alone."""
    for key in list(os.environ):
        if key.startswith("PODRUNNER_"):
            monkeypatch.delenv(key)
    for key, value in environment(name).items():
        monkeypatch.setenv(key, value)
    return Settings()


def seconds(duration: str) -> float:
    """A compose duration such as `40s`, `1m30s` or `1h`, in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms|us)", duration)
    assert parts, f"not a duration: {duration!r}"
    assert "".join(number + unit for number, unit in parts) == duration, duration
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}
    return sum(float(number) * scale[unit] for number, unit in parts)


def probe_url(name: str) -> str:
    """The URL a `python -c "...urlopen(URL...)"` healthcheck opens, after checking its form."""
    test = service(name)["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], f"{name}: probe with the image's python"
    code = test[3]
    compile(code, f"{name} healthcheck", "exec")
    found = re.findall(r"urlopen\('([^']+)'", code)
    assert len(found) == 1, f"{name}: the healthcheck should open one URL"
    return str(found[0])


# --- the services and how they start ----------------------------------------------------------


def test_the_services_are_exactly_those_of_the_architecture_brief() -> None:
    assert set(services()) == SERVICES


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name in sorted(LONG_RUNNING):
        check = service(name).get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable", False), f"{name} disables its healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_the_migration_runs_once_and_is_never_restarted() -> None:
    for name in ONE_SHOT:
        assert service(name).get("restart") == "no"
        assert "healthcheck" not in service(name)
    for name in LONG_RUNNING:
        assert service(name).get("restart") in ("unless-stopped", "always"), name


@pytest.mark.parametrize("name", sorted(USES))
def test_each_podrunner_process_waits_for_exactly_what_it_uses(name: str) -> None:
    wanted = {dependency: HEALTHY for dependency in USES[name]}
    if "postgres" in USES[name] and name not in ONE_SHOT:
        wanted["migrate"] = COMPLETED
    depends_on = service(name).get("depends_on", {})
    assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions (long form)"
    assert {dep: spec["condition"] for dep, spec in depends_on.items()} == wanted


def test_no_dependency_names_a_missing_service_or_a_state_it_never_reaches() -> None:
    for name, spec in services().items():
        for dependency, condition in spec.get("depends_on", {}).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            if condition["condition"] == HEALTHY:
                assert "healthcheck" in service(dependency), f"{dependency} reports no health"
            else:
                assert condition["condition"] == COMPLETED, f"{name} -> {dependency}"
                assert dependency in ONE_SHOT, f"{dependency} never completes"


# --- settings -----------------------------------------------------------------------------------


def test_every_podrunner_variable_named_is_a_real_setting() -> None:
    real = {f"PODRUNNER_{field.upper()}" for field in Settings.model_fields}
    named = set(re.findall(r"\bPODRUNNER_[A-Z0-9_]+", compose_text()))
    assert named, "docker-compose.yml configures podrunner through PODRUNNER_* variables"
    assert named <= real, f"not settings: {sorted(named - real)}"


@pytest.mark.parametrize("name", sorted(USES))
def test_the_default_environment_is_valid_and_points_at_the_compose_services(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(name, monkeypatch)
    assert settings.database_url is not None
    database = urlsplit(settings.database_url)
    postgres = environment("postgres")
    assert database.hostname == "postgres"
    assert database.port in (None, 5432)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path == f"/{postgres['POSTGRES_DB']}"
    assert settings.redis_url is not None
    assert urlsplit(settings.redis_url).hostname == "redis"


# --- health probes and ports --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WITH_HEALTH_APP))
def test_the_healthcheck_asks_readyz_on_the_service_health_port(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = urlsplit(probe_url(name))
    assert url.hostname == "127.0.0.1"
    assert url.path == "/readyz"
    assert url.port == settings_of(name, monkeypatch).health_port_for(name)


def test_the_health_ports_are_the_defaults_unless_set() -> None:
    for name in WITH_HEALTH_APP:
        port = environment(name).get("PODRUNNER_HEALTH_PORT", DEFAULT_HEALTH_PORTS[name])
        assert urlsplit(probe_url(name)).port == int(port)


def test_the_kubesim_healthcheck_asks_its_own_port() -> None:
    url = urlsplit(probe_url("kubesim"))
    assert url.hostname == "127.0.0.1"
    assert url.port == parsed("kubesim").port
    assert url.path in ("/readyz", "/healthz", "/livez")


def test_the_reconciler_api_is_published_on_its_health_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = service("reconciler")["ports"]
    published = {int(str(entry).rsplit(":", 1)[1]) for entry in ports}
    assert settings_of("reconciler", monkeypatch).health_port_for("reconciler") in published


def test_the_stop_grace_period_leaves_time_to_drain() -> None:
    grace = {field.name: field.default for field in dataclasses.fields(running.Service)}
    drain = grace["grace_s"]
    assert isinstance(drain, float)
    for name in WITH_HEALTH_APP:
        # the drain, then up to 10 s for the health app to stop, then the clean-ups
        assert seconds(service(name)["stop_grace_period"]) >= drain + 10, name


# --- the podrunner image and its commands -------------------------------------------------------


def test_one_service_builds_the_image_and_every_podrunner_service_runs_it() -> None:
    builders = {name: spec["build"] for name, spec in services().items() if "build" in spec}
    assert len(builders) == 1, f"build the image once, not in {sorted(builders)}"
    (built,) = builders.values()
    context = built if isinstance(built, str) else built["context"]
    assert Path(ROOT, context).resolve() == ROOT
    assert podrunner_services() == {"migrate", "kubesim", "launcher", "watcher", "reconciler"}


@pytest.mark.parametrize("name", sorted(WITH_HEALTH_APP))
def test_a_service_runs_the_podrunner_subcommand_of_its_name(name: str) -> None:
    assert parsed(name).command == name


def test_the_migration_runs_db_upgrade() -> None:
    args = parsed("migrate")
    assert (args.command, args.db_command, args.revision) == ("db", "upgrade", "head")


def test_kubesim_writes_a_kubeconfig_the_other_containers_can_reach() -> None:
    args = parsed("kubesim")
    assert args.command == "kubesim"
    assert args.mode == "simulate"
    assert args.host == "0.0.0.0"  # noqa: S104 - other containers connect to it
    simulator = server.SimulatorSettings(
        host=args.host, port=args.port, advertise_address=args.advertise_address
    )
    assert urlsplit(server.client_url(simulator)).hostname == "kubesim"
    kubeconfig = PurePosixPath(args.kubeconfig_out)
    for name, uses in USES.items():
        if "kubesim" in uses:
            assert environment(name)["KUBECONFIG"] == str(kubeconfig), name


def test_the_kubeconfig_volume_is_written_by_kubesim_and_read_by_its_clients() -> None:
    directory = str(PurePosixPath(parsed("kubesim").kubeconfig_out).parent)

    def mounts(name: str) -> dict[str, str]:
        """Where each named volume is mounted: {volume: 'path' or 'path:ro'}."""
        found: dict[str, str] = {}
        for entry in service(name).get("volumes", []):
            volume, _, target = str(entry).partition(":")
            found[volume] = target
        return found

    volume = next(v for v, target in mounts("kubesim").items() if target == directory)
    assert volume in compose()["volumes"]
    for name, uses in USES.items():
        if "kubesim" in uses:
            assert mounts(name).get(volume) in (directory, f"{directory}:ro"), name


def test_kubesim_serves_the_namespace_jobs_default_to(monkeypatch: pytest.MonkeyPatch) -> None:
    served = {"default", *parsed("kubesim").namespace}
    for name in WITH_HEALTH_APP:
        assert settings_of(name, monkeypatch).namespace in served, name


# --- .dockerignore ------------------------------------------------------------------------------


def ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (no `!` exceptions)."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(p.startswith("!") for p in patterns), "extend ignored() for ! patterns"
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        anywhere = pattern.removeprefix("**/")
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
        if anywhere != pattern and any(fnmatch.fnmatchcase(part, anywhere) for part in parts):
            return True
    return False


def test_the_build_context_leaves_out_the_checkout_clutter() -> None:
    for path in (".git/HEAD", ".venv/bin/python", "tests/unit/__init__.py", "dist/x.whl"):
        assert ignored(path), path
    assert ignored("shared/__pycache__/settings.cpython-311.pyc")


def test_the_build_context_keeps_what_the_builder_copies() -> None:
    for path in ("pyproject.toml", "README.md", "shared/settings.py", "services/cli.py"):
        assert not ignored(path), path
    assert not ignored("migrations/versions/0001_task_instance.py")
    assert not ignored("migrations/script.py.mako")
