"""A job names a pod template only as a plain relative name, and only where a template directory
is set; the rule is judged on the name alone, so the answer says nothing about any file."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import admission

DIRECTORY = Path("/etc/podrunner/templates")


@pytest.mark.parametrize(
    "name",
    ["gpu.yaml", "team-a/gpu.yaml", "a_b/c-d/e.f.yml", "x", "v1.2/pod.yaml"],
)
def test_a_plain_relative_name_is_accepted(name: str) -> None:
    admission.check_template_name(name, template_dir=DIRECTORY)


def test_no_name_is_always_accepted() -> None:
    admission.check_template_name(None, template_dir=None)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("/etc/passwd", "not an absolute path", id="absolute"),
        pytest.param("/proc/self/status", "not an absolute path", id="proc"),
        pytest.param("../secret.yaml", "must not contain '..'", id="parent"),
        pytest.param("a/../../b", "must not contain '..'", id="parent-inside"),
        pytest.param("..data/pod.yaml", "no part starting with '.'", id="configmap-link-dir"),
        pytest.param(".hidden", "no part starting with '.'", id="hidden"),
        pytest.param("a//b", "no part starting with '.'", id="empty-part"),
        pytest.param("a/", "no part starting with '.'", id="trailing-slash"),
        pytest.param("./a", "no part starting with '.'", id="dot"),
        pytest.param("a\\..\\b", "no part starting with '.'", id="backslash"),
        pytest.param("a b", "no part starting with '.'", id="space"),
        pytest.param("x" * 256, "at most 255 characters", id="too-long"),
    ],
)
def test_anything_else_is_refused_naming_the_rule(name: str, reason: str) -> None:
    with pytest.raises(admission.Refused) as refused:
        admission.check_template_name(name, template_dir=DIRECTORY)

    assert refused.value.field == "pod_template_file"
    assert reason in refused.value.reason


def test_without_a_template_directory_no_name_is_accepted() -> None:
    with pytest.raises(admission.Refused, match="PODRUNNER_POD_TEMPLATE_DIR is not set"):
        admission.check_template_name("gpu.yaml", template_dir=None)
