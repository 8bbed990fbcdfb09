"""Every image the manifests run is pinned by digest, and the pin can be moved by one command.

A tag is a pointer the registry lets anyone with push rights move; a pod started from a tag can
run other code than the one reviewed, and two replicas can run different code. So every
container of every rendered pod names a `sha256` digest, as does the worker pods' default image
(`PODRUNNER_WORKER_IMAGE`), and the Makefile's `pin-images` target is the documented way to
write a new pin after a build (tests/unit/scripts/test_pin_images.py tests the tool itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import manifests

pytestmark = pytest.mark.timeout(10)

PINNED = re.compile(r"[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}")
MAKEFILE = manifests.K8S.parent / "Makefile"


def _containers() -> Iterator[Any]:
    for name in manifests.KUSTOMIZATIONS:
        for pod in manifests.pods(manifests.rendered(name)):
            for container in manifests.containers(pod):
                yield pytest.param(pod, container, id=f"{name}:{pod.source}:{container['name']}")


@pytest.mark.parametrize(("pod", "container"), list(_containers()))
def test_every_container_image_is_pinned_by_digest(
    pod: manifests.Pod, container: dict[str, Any]
) -> None:
    if pod.source.startswith("ConfigMap"):
        # the worker template leaves the image to podrunner: the job's, else the setting's
        assert "image" not in container
    else:
        assert PINNED.fullmatch(container["image"]), container["image"]


@pytest.mark.parametrize("overlay", sorted(manifests.KUSTOMIZATIONS))
def test_the_worker_pods_default_image_is_pinned_by_digest(overlay: str) -> None:
    image = manifests.settings(manifests.rendered(overlay))["PODRUNNER_WORKER_IMAGE"]
    assert PINNED.fullmatch(image), image


def test_the_makefile_pins_new_images_with_the_pin_tool() -> None:
    target = re.search(r"(?m)^pin-images:.*\n((?:\t.*\n)+)", MAKEFILE.read_text())
    assert target, "no pin-images target in the Makefile"
    assert "-m scripts.pin_images" in target.group(1)
