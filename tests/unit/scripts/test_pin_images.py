"""`scripts/pin_images.py` pins the manifests' images to a digest and keeps the files readable.

Each case works on a copy of `k8s/` and checks the result the way a cluster would see it: the
copy is rendered with the kustomize renderer, and every podrunner container and the worker image
setting must then name the pinned digest. A tag is resolved by an injected resolver (the real one
asks a registry through docker, which is not here).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts import pin_images
from tests.support import kustomize, manifests

pytestmark = pytest.mark.timeout(10)

DIGEST = "sha256:" + "3f" * 32
OTHER_DIGEST = "sha256:" + "a1" * 32


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copytree(manifests.K8S, tmp_path / "k8s")
    return tmp_path


def _rendered(checkout: Path) -> list[kustomize.Resource]:
    return kustomize.build(checkout / "k8s" / "base")


def _no_registry(reference: str) -> str:
    raise AssertionError(f"{reference} carries its digest: no registry lookup expected")


def test_a_digest_reference_pins_every_podrunner_container_and_keeps_the_comments(
    checkout: Path,
) -> None:
    # Given a checkout, and the comments of the file holding the pin
    path = checkout / pin_images.KUSTOMIZATION
    comments = [line for line in path.read_text().splitlines() if line.startswith("#")]
    # When the services' image is pinned by a reference with a digest
    written = pin_images.pin_images(
        root=checkout,
        podrunner=f"registry.example.com/team/podrunner:1.2@{DIGEST}",
        worker=None,
        resolver=_no_registry,
    )
    # Expect every podrunner container to run exactly that, and the comments intact
    assert written == [
        f"{pin_images.KUSTOMIZATION}: registry.example.com/team/podrunner:1.2@{DIGEST}"
    ]
    images = {
        container["image"]
        for pod in manifests.pods(_rendered(checkout))
        for container in manifests.containers(pod)
        if not pod.source.startswith("ConfigMap")
    }
    assert images == {f"registry.example.com/team/podrunner@{DIGEST}"}
    assert [line for line in path.read_text().splitlines() if line.startswith("#")] == comments


def test_a_tag_is_resolved_to_the_digest_the_registry_serves_for_the_worker_image(
    checkout: Path,
) -> None:
    asked: list[str] = []

    def registry(reference: str) -> str:
        asked.append(reference)
        return OTHER_DIGEST

    pin_images.pin_images(
        root=checkout, podrunner=None, worker="python:3.11-slim", resolver=registry
    )
    assert asked == ["python:3.11-slim"]
    settings = manifests.settings(_rendered(checkout))
    assert settings["PODRUNNER_WORKER_IMAGE"] == f"python:3.11-slim@{OTHER_DIGEST}"


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("podrunner@sha256:1234", id="short-digest"),
        pytest.param("podrunner@md5:" + "0" * 32, id="not-sha256"),
        pytest.param("", id="empty"),
        pytest.param(" podrunner:1", id="spaces"),
    ],
)
def test_a_reference_that_is_neither_a_tag_nor_a_full_digest_is_refused(
    checkout: Path, reference: str
) -> None:
    with pytest.raises(pin_images.PinError, match="expected NAME:TAG or NAME@sha256"):
        pin_images.pin_images(
            root=checkout, podrunner=reference, worker=None, resolver=_no_registry
        )


def test_a_registry_answer_that_is_not_a_digest_is_refused_and_nothing_is_written(
    checkout: Path,
) -> None:
    before = (checkout / pin_images.SETTINGS).read_text()
    with pytest.raises(pin_images.PinError, match="not a sha256 digest"):
        pin_images.pin_images(
            root=checkout, podrunner=None, worker="python:3.11", resolver=lambda _ref: "latest"
        )
    assert (checkout / pin_images.SETTINGS).read_text() == before


def test_the_command_line_asks_for_at_least_one_image(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        pin_images.main([])
    assert exit_info.value.code == 2
    assert "--podrunner REF and/or --worker REF" in capsys.readouterr().err
