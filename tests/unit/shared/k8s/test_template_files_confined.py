"""A job's template is a regular file inside the template directory once links are resolved;
whatever lies outside answers exactly as a missing file does, nothing is ever quoted, and no read
goes past the size cap (nor waits on a FIFO or a device)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.k8s.template_files import TemplateError, Templates

POD = "kind: Pod\nspec:\n  containers: [{name: base, image: mine}]\n"
SECRET = "kind: Pod\nspec: {containers: [{name: base, image: top-secret}]}\n"


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    templates = tmp_path / "templates"
    (templates / "team").mkdir(parents=True)
    (templates / "pod.yaml").write_text(POD)
    (templates / "team" / "pod.yaml").write_text(POD)
    (tmp_path / "outside.yaml").write_text(SECRET)
    return templates


def refusal(templates: Templates, name: str) -> str:
    with pytest.raises(TemplateError) as raised:
        templates.load_named(name)
    message = str(raised.value)
    assert "\n" not in message
    assert "top-secret" not in message
    return message


def test_a_file_in_the_directory_or_below_it_is_read(directory: Path) -> None:
    templates = Templates(directory)

    assert templates.load_named("pod.yaml")["spec"]["containers"][0]["image"] == "mine"
    assert templates.load_named("team/pod.yaml")["spec"]["containers"][0]["image"] == "mine"


def test_links_that_stay_inside_are_followed_as_in_a_mounted_configmap(directory: Path) -> None:
    # Given the layout kubelet gives a ConfigMap volume: name -> ..data/name, ..data -> ..v1
    (directory / "..v1").mkdir()
    (directory / "..v1" / "gpu.yaml").write_text(POD)
    (directory / "..data").symlink_to("..v1")
    (directory / "gpu.yaml").symlink_to("..data/gpu.yaml")

    pod = Templates(directory).load_named("gpu.yaml")

    assert pod["spec"]["containers"][0]["image"] == "mine"


def test_a_link_out_of_the_directory_answers_as_a_missing_file_does(directory: Path) -> None:
    (directory / "escape.yaml").symlink_to(directory.parent / "outside.yaml")
    (directory / "gone.yaml").symlink_to(directory.parent / "nowhere.yaml")
    (directory / "proc.yaml").symlink_to("/proc/self/status")
    (directory / "etc").symlink_to("/etc")
    templates = Templates(directory)

    answers = {
        name: refusal(templates, name)
        for name in ("escape.yaml", "gone.yaml", "proc.yaml", "etc/hostname", "missing.yaml")
    }

    for name, message in answers.items():
        assert message == f"pod_template_file {name!r}: no such template in the template directory"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("/proc/self/status", "not an absolute path", id="absolute"),
        pytest.param("../outside.yaml", "must not contain '..'", id="parent"),
        pytest.param("team/../../outside.yaml", "must not contain '..'", id="parent-inside"),
    ],
)
def test_a_name_breaking_the_rules_is_refused_before_any_file_is_touched(
    directory: Path, name: str, reason: str
) -> None:
    assert reason in refusal(Templates(directory), name)


def test_without_a_directory_jobs_may_not_name_a_template(directory: Path) -> None:
    assert "PODRUNNER_POD_TEMPLATE_DIR is not set" in refusal(Templates(None), "pod.yaml")


def test_a_directory_fifo_or_device_is_not_a_regular_file(directory: Path) -> None:
    os.mkfifo(directory / "fifo.yaml")  # opening it for reading must not wait for a writer
    templates = Templates(directory)

    assert refusal(templates, "team").endswith(": not a regular file")
    assert refusal(templates, "fifo.yaml").endswith(": not a regular file")


def test_a_file_past_the_cap_is_refused_without_reading_it_all(directory: Path) -> None:
    (directory / "big.yaml").write_text(POD + "#" * 2000)
    (directory / "exact.yaml").write_text(POD + "#" * (1000 - len(POD)))
    templates = Templates(directory, max_bytes=1000)

    assert refusal(templates, "big.yaml").endswith(": larger than 1000 bytes")
    assert templates.load_named("exact.yaml")["kind"] == "Pod"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_the_operators_template_file_is_bounded_too(device: str, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(POD + "#" * 300_000)
    templates = Templates()

    with pytest.raises(TemplateError, match=f"pod template file {device}: not a regular file"):
        templates.load(Path(device))
    with pytest.raises(TemplateError, match="larger than 262144 bytes"):
        templates.load(big)


def test_a_changed_template_is_read_again(directory: Path) -> None:
    templates = Templates(directory)
    templates.load_named("pod.yaml")
    (directory / "pod.yaml").write_text(POD.replace("mine", "theirs-now"))

    assert templates.load_named("pod.yaml")["spec"]["containers"][0]["image"] == "theirs-now"
