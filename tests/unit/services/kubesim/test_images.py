"""Image references the kubelet parses, and the InvalidImageName message for those it cannot."""

from __future__ import annotations

import pytest

from services.kubesim import images


@pytest.mark.parametrize(
    "image",
    [
        "busybox",
        "busybox:1.37",
        "registry.example:5000/team/app:v1.2-rc_3",
        f"ghcr.io/a/b@sha256:{'0' * 64}",
        "localhost/app",
    ],
)
def test_a_well_formed_reference_parses(image: str) -> None:
    assert images.invalid_reason(image) is None


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        pytest.param("BUSYBOX", "invalid reference format: repository name must be lowercase"),
        pytest.param("busybox::1", "invalid reference format"),
        pytest.param("bad image", "invalid reference format"),
        pytest.param("app:", "invalid reference format"),
    ],
)
def test_an_unparsable_reference_gets_the_kubelets_message(image: str, problem: str) -> None:
    assert images.invalid_reason(image) == (
        f'Failed to apply default image tag "{image}": couldn\'t parse image reference '
        f'"{image}": {problem}'
    )
