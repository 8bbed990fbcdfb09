"""`podrunner render-pod` prints the pod a job would make, and refuses what the launcher would."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services import cli
from shared.k8s import naming
from shared.messages import TaskKey

JOB = ["--dag-id", "etl", "--task-id", "load", "--run-id", "manual__1"]


def test_it_prints_the_rendered_pod_as_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render-pod", *JOB, "--", "python", "-m", "etl.load"]) == 0
    pod = yaml.safe_load(capsys.readouterr().out)
    assert pod["kind"] == "Pod"
    assert pod["metadata"]["name"] == naming.pod_name(
        TaskKey(dag_id="etl", task_id="load", run_id="manual__1"), 1
    )
    assert pod["spec"]["containers"][0]["command"] == ["python", "-m", "etl.load"]
    assert pod["metadata"]["finalizers"] == [naming.RESULT_FINALIZER]


def test_it_applies_an_override_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    override = tmp_path / "override.yaml"
    override.write_text(
        "spec:\n  containers:\n  - name: base\n    resources: {limits: {memory: 1Gi}}\n"
    )
    assert cli.main(["render-pod", *JOB, "--pod-override", str(override), "--", "true"]) == 0
    pod = yaml.safe_load(capsys.readouterr().out)
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"memory": "1Gi"}}


def test_it_prints_the_pod_security_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render-pod", *JOB, "--", "true"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == '# pod security "restricted": allowed'


def test_a_pod_security_violation_exits_2_naming_the_control_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    override = tmp_path / "override.json"
    override.write_text('{"spec": {"hostPID": true}}')
    assert cli.main(["render-pod", *JOB, "--pod-override", str(override), "--", "true"]) == 2
    assert 'pod security "restricted": hostNamespaces: spec.hostPID must be false' in (
        capsys.readouterr().err
    )


def test_a_job_without_a_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render-pod", *JOB]) == 2
    assert "command" in capsys.readouterr().err


def test_a_missing_override_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(["render-pod", *JOB, "--pod-override", str(tmp_path / "nope.yaml"), "--", "x"])
        == 2
    )
    assert "No such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("/etc/passwd", "not an absolute path", id="absolute"),
        pytest.param("../x.yaml", "must not contain '..'", id="parent"),
        pytest.param("escape.yaml", "no such template in the template directory", id="link-out"),
        pytest.param("missing.yaml", "no such template in the template directory", id="missing"),
    ],
)
def test_a_template_name_outside_the_template_directory_exits_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    reason: str,
) -> None:
    (tmp_path / "secret.yaml").write_text("kind: Pod\nspec: {containers: [{name: top-secret}]}\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "escape.yaml").symlink_to(tmp_path / "secret.yaml")
    monkeypatch.setenv("PODRUNNER_POD_TEMPLATE_DIR", str(tmp_path / "templates"))

    code = cli.main(["render-pod", *JOB, "--pod-template-file", name, "--", "true"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert reason in err
    assert "top-secret" not in err


def test_a_template_of_the_template_directory_is_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gpu.yaml").write_text("spec: {nodeSelector: {pool: gpu}, containers: []}\n")
    monkeypatch.setenv("PODRUNNER_POD_TEMPLATE_DIR", str(tmp_path))
    # the template is not hardened: judged at the level that checks no control
    monkeypatch.setenv("PODRUNNER_POD_SECURITY", "privileged")

    code = cli.main(["render-pod", *JOB, "--pod-template-file", "gpu.yaml", "--", "true"])

    assert code == 0
    assert yaml.safe_load(capsys.readouterr().out)["spec"]["nodeSelector"] == {"pool": "gpu"}


def test_without_a_template_directory_a_job_may_not_name_a_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["render-pod", *JOB, "--pod-template-file", "gpu.yaml", "--", "true"])

    assert code == 2
    assert "PODRUNNER_POD_TEMPLATE_DIR is not set" in capsys.readouterr().err
