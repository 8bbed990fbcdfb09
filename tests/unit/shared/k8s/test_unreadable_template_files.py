"""A pod template file a job names that is not text, not YAML, or not of a pod's shape is a
`TemplateError` with a one-line reason that quotes nothing of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.k8s import rendering, template_files
from shared.k8s.rendering import RenderSettings
from shared.k8s.template_files import Templates
from tests.support import builders

SETTINGS = RenderSettings(instance="prod", namespace="jobs", worker_image="worker:1")


def render_with(template: Path) -> None:
    job = builders.job(pod_template_file=template.name)
    rendering.render_pod(job, settings=SETTINGS, templates=Templates(template.parent))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(Path("/bin/sh").read_bytes(), "not UTF-8 text", id="a-binary"),
        pytest.param(
            b"kind: Pod\nspec: {secret: [unclosed\n",
            "not valid YAML (line 3, column 1)",
            id="bad-yaml",
        ),
        pytest.param(b"kind: Pod\nspec: {}\nwhen: 2001-13-45\n", "not valid YAML", id="bad-date"),
        pytest.param(
            b"kind: Pod\nspec: {containers: secret}\n",
            "spec.containers: must be a list of objects",
            id="bad-shape",
        ),
        pytest.param(
            b"kind: Pod\nmetadata: {labels: {secret: 5}}\nspec: {}\n",
            "metadata.labels: must be an object of strings",
            id="bad-labels",
        ),
    ],
)
def test_a_template_that_cannot_be_read_as_a_pod_is_a_one_line_template_error(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "template.yaml"
    path.write_bytes(content)
    with pytest.raises(template_files.TemplateError) as raised:
        render_with(path)
    message = str(raised.value)
    assert message == f"pod_template_file 'template.yaml': {reason}"
    assert "\n" not in message
    assert "secret" not in message, "the reason quotes the file"
