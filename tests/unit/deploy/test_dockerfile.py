"""The Dockerfile builds a production image of the services alone, and a dev image with kubesim.

Nothing here builds an image (no Docker engine where the tests run): the Dockerfile is read as
data (`tests.support.dockerfile`) and held to what it promises. Both images are multi-stage on
python-slim, copy only a virtual environment out of their builder, run `podrunner` as a fixed
non-root UID and expose their ports. The `prod` image, what clusters run, never has kubesim (a
fake Kubernetes API server) or the demo copied into its build, while every other package the
distribution ships is; the `dev` image, which docker compose builds, has everything.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from services import cli
from shared.settings import DEFAULT_HEALTH_PORTS
from tests.support import dockerfile

pytestmark = pytest.mark.timeout(10)

ROOT = Path(__file__).resolve().parents[3]
PROD, DEV = "prod", "dev"
FINAL_STAGES = (PROD, DEV)
#: Packages of `services/` the production image leaves out: test doubles and the demo.
DEV_ONLY = {"services/kubesim", "services/demo"}
BUILDERS = {PROD: "prod-builder", DEV: "dev-builder"}
INSTALL_TOOLS = re.compile(r"\bpip\b|apt-get install|\bgcc\b|build-essential")


def copied_sources(stage: str) -> set[str]:
    """The build-context paths the stage `stage` (and what it is built from) copies in."""
    return {
        PurePosixPath(source).as_posix().strip("./")
        for copy in dockerfile.parse().carried(stage, "COPY")
        if not copy.startswith("--from")
        for source in copy.split()[:-1]
    }


def service_packages() -> set[str]:
    return {f"services/{path.parent.name}" for path in (ROOT / "services").glob("*/__init__.py")}


def test_both_images_are_multi_stage_on_python_slim() -> None:
    parsed = dockerfile.parse()
    assert parsed.arguments["PYTHON_IMAGE"].startswith("python:3.11-slim")
    names = {stage.name for stage in parsed.stages}
    for stage in parsed.stages:
        assert stage.base in names or stage.base == parsed.arguments["PYTHON_IMAGE"], stage.name
    for final in FINAL_STAGES:
        assert len(parsed.chain(final)) >= 2


def test_a_plain_build_makes_the_production_image() -> None:
    assert dockerfile.parse().stages[-1].name == PROD


@pytest.mark.parametrize("final", FINAL_STAGES)
def test_an_image_copies_only_its_builders_environment_and_installs_nothing(final: str) -> None:
    parsed = dockerfile.parse()
    copies = parsed.carried(final, "COPY") + parsed.carried(final, "ADD")
    assert copies == [f"--from={BUILDERS[final]} /opt/podrunner /opt/podrunner"]
    for run in parsed.carried(final, "RUN"):
        assert not INSTALL_TOOLS.search(run), run


@pytest.mark.parametrize("final", FINAL_STAGES)
def test_an_image_runs_podrunner_unbuffered_as_a_fixed_non_root_user(final: str) -> None:
    parsed = dockerfile.parse()
    uid = parsed.carried(final, "USER")[-1].split(":")[0]
    assert uid.isdigit(), "a numeric UID, so runAsNonRoot can verify it"
    assert int(uid) != 0
    assert json.loads(parsed.carried(final, "ENTRYPOINT")[-1]) == ["podrunner"]
    assert json.loads(parsed.carried(final, "CMD")[-1]) == ["--help"]
    assert re.search(r"\bPYTHONUNBUFFERED=1\b", " ".join(parsed.carried(final, "ENV")))


def exposed(final: str) -> set[int]:
    return {
        int(port.split("/")[0])
        for line in dockerfile.parse().carried(final, "EXPOSE")
        for port in line.split()
    }


def test_the_production_image_exposes_the_service_ports_and_not_kubesims() -> None:
    kubesim_port = cli.build_parser().parse_args(["kubesim"]).port
    assert exposed(PROD) == set(DEFAULT_HEALTH_PORTS.values())
    assert exposed(DEV) == {*DEFAULT_HEALTH_PORTS.values(), kubesim_port}


def test_the_production_build_never_copies_kubesim_or_the_demo() -> None:
    for source in copied_sources(BUILDERS[PROD]):
        assert not any(source == p or source.startswith(f"{p}/") for p in DEV_ONLY), source
        assert source != "services", "copy the service packages one by one, not services/"


def test_the_production_build_fails_if_kubesim_or_the_demo_became_importable() -> None:
    checks = [
        run for run in dockerfile.parse().stage(BUILDERS[PROD]).all("RUN") if "find_spec" in run
    ]
    assert len(checks) == 1
    for package in DEV_ONLY:
        assert f"'{package.replace('/', '.')}'" in checks[0]
    assert checks[0].startswith("cd / &&"), "ask the installed environment, not /src"


def test_every_package_the_distribution_ships_is_built_into_the_image_it_belongs_to() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {"pyproject.toml", project["project"]["readme"]}
    wanted |= {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    wanted -= {"services"}
    prod = copied_sources(BUILDERS[PROD])
    dev = copied_sources(BUILDERS[DEV])
    assert wanted | {"services/cli.py", "services/__init__.py"} <= prod
    assert service_packages() - DEV_ONLY <= prod, "a new service must reach the production image"
    assert wanted | service_packages() <= dev


def test_docker_compose_builds_and_runs_the_dev_image() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    (build,) = [spec["build"] for spec in compose["services"].values() if "build" in spec]
    assert build["target"] == DEV
