"""Rendering: template ← dynamic pod ← override, merged by name, ownership always podrunner's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.k8s import naming, rendering, template_files
from shared.k8s.rendering import RenderSettings
from shared.k8s.template_files import Templates
from tests.support import builders

SETTINGS = RenderSettings(instance="prod", namespace="jobs", worker_image="worker:1")


def render(
    job_changes: dict[str, Any] | None = None,
    *,
    template: Path | None = None,
    template_dir: Path | None = None,
) -> Any:
    job = builders.job(**(job_changes or {}))
    settings = RenderSettings(**{**SETTINGS.__dict__, "template_file": template})
    return rendering.render_pod(job, settings=settings, templates=Templates(template_dir))


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == name)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"labels": {"team": "data"}, "annotations": {"owner": "alice"}},
                "spec": {
                    "serviceAccountName": "worker",
                    "containers": [
                        {"name": "proxy", "image": "envoy:1"},
                        {
                            "name": "base",
                            "image": "template-image:2",
                            "env": [{"name": "MODE", "value": "template"}],
                            "resources": {"requests": {"cpu": "100m"}},
                        },
                    ],
                },
            }
        )
    )
    return path


def test_without_a_template_the_pod_has_one_base_container_with_the_command() -> None:
    pod = render()
    assert [c["name"] for c in pod["spec"]["containers"]] == ["base"]
    assert container(pod, "base")["command"] == ["python", "-c", "print('hello')"]
    assert container(pod, "base")["image"] == "worker:1"
    assert pod["spec"]["restartPolicy"] == "Never"


def test_the_pod_carries_the_contract_name_labels_annotations_and_finalizer() -> None:
    job = builders.job()
    pod = render()
    metadata = pod["metadata"]
    assert metadata["name"] == naming.pod_name(job.key, 1)
    assert metadata["namespace"] == "jobs"
    assert metadata["labels"][naming.MANAGED_BY_LABEL] == "podrunner"
    assert metadata["labels"][naming.INSTANCE_LABEL] == "prod"
    assert metadata["labels"][naming.TRY_NUMBER] == "1"
    assert metadata["annotations"][naming.RUN_ID] == job.run_id
    assert metadata["finalizers"] == [naming.RESULT_FINALIZER]


def test_template_only_keeps_everything_the_template_sets(template: Path) -> None:
    pod = render(template=template)
    assert pod["spec"]["serviceAccountName"] == "worker"
    assert container(pod, "base")["image"] == "template-image:2"
    assert container(pod, "base")["resources"] == {"requests": {"cpu": "100m"}}
    assert container(pod, "base")["command"] == ["python", "-c", "print('hello')"]


def test_a_sidecar_listed_before_base_stays_first_and_base_gets_the_command(
    template: Path,
) -> None:
    pod = render(template=template)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["proxy", "base"]
    assert "command" not in container(pod, "proxy")
    assert container(pod, "proxy")["image"] == "envoy:1"


def test_an_override_adds_env_volume_and_sidecar(template: Path) -> None:
    override = {
        "spec": {
            "volumes": [{"name": "scratch", "emptyDir": {}}],
            "containers": [
                {
                    "name": "base",
                    "env": [{"name": "EXTRA", "value": "1"}],
                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                },
                {"name": "logger", "image": "fluent-bit:3"},
            ],
        }
    }
    pod = render({"pod_override": override}, template=template)
    base = container(pod, "base")
    assert base["env"] == [{"name": "MODE", "value": "template"}, {"name": "EXTRA", "value": "1"}]
    assert base["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"}]
    assert pod["spec"]["volumes"] == [{"name": "scratch", "emptyDir": {}}]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["proxy", "base", "logger"]


def test_an_override_replaces_an_env_var_by_name(template: Path) -> None:
    override = {"spec": {"containers": [{"name": "base", "env": [{"name": "MODE", "value": "x"}]}]}}
    pod = render({"pod_override": override}, template=template)
    assert container(pod, "base")["env"] == [{"name": "MODE", "value": "x"}]


def test_an_override_sets_resources(template: Path) -> None:
    resources = {"limits": {"memory": "1Gi"}, "requests": {"cpu": "2"}}
    override = {"spec": {"containers": [{"name": "base", "resources": resources}]}}
    pod = render({"pod_override": override}, template=template)
    assert container(pod, "base")["resources"] == {
        "requests": {"cpu": "2"},
        "limits": {"memory": "1Gi"},
    }


def test_labels_and_annotations_merge_from_template_job_and_override(template: Path) -> None:
    override = {"metadata": {"labels": {"tier": "batch"}, "annotations": {"note": "o"}}}
    pod = render(
        {"labels": {"cost": "etl"}, "annotations": {"ticket": "T-1"}, "pod_override": override},
        template=template,
    )
    labels, annotations = pod["metadata"]["labels"], pod["metadata"]["annotations"]
    assert {labels["team"], labels["cost"], labels["tier"]} == {"data", "etl", "batch"}
    assert {annotations["owner"], annotations["ticket"], annotations["note"]} == {
        "alice",
        "T-1",
        "o",
    }


def test_a_job_names_its_own_template_file_from_the_template_directory(
    template: Path, tmp_path: Path
) -> None:
    own = tmp_path / "templates" / "gpu" / "own.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("kind: Pod\nspec:\n  nodeSelector: {pool: gpu}\n  containers: [{name: base}]\n")
    pod = render(
        {"pod_template_file": "gpu/own.yaml"},
        template=template,
        template_dir=tmp_path / "templates",
    )
    assert pod["spec"]["nodeSelector"] == {"pool": "gpu"}
    assert "serviceAccountName" not in pod["spec"]


def test_a_missing_template_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(template_files.TemplateError, match=rf"{missing}: No such file"):
        render(template=missing)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        pytest.param("kind: Pod\nspec: [unclosed", "not valid YAML", id="bad-yaml"),
        pytest.param("kind: Deployment\nspec: {}\n", "not a Pod manifest", id="not-a-pod"),
        pytest.param("- a\n- b\n", "not a Pod manifest", id="a-list"),
        pytest.param("kind: Pod\nmetadata: {}\n", "has no spec", id="no-spec"),
    ],
)
def test_an_invalid_template_file_is_a_clear_error(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(template_files.TemplateError, match=complaint):
        render(template=path)


def test_an_override_cannot_change_name_namespace_or_ownership() -> None:
    override = {
        "metadata": {
            "name": "hijacked",
            "namespace": "kube-system",
            "labels": {naming.MANAGED_BY_LABEL: "someone-else", naming.INSTANCE_LABEL: "other"},
            "annotations": {naming.DAG_ID: "forged"},
            "finalizers": None,
        },
        "spec": {"restartPolicy": "Always"},
    }
    job = builders.job(pod_override=override)
    pod = render({"pod_override": override})
    assert pod["metadata"]["name"] == naming.pod_name(job.key, 1)
    assert pod["metadata"]["namespace"] == "jobs"
    assert pod["metadata"]["labels"][naming.MANAGED_BY_LABEL] == "podrunner"
    assert pod["metadata"]["labels"][naming.INSTANCE_LABEL] == "prod"
    assert pod["metadata"]["annotations"][naming.DAG_ID] == job.dag_id
    assert pod["metadata"]["finalizers"] == [naming.RESULT_FINALIZER]
    assert pod["spec"]["restartPolicy"] == "Never"


def test_an_override_may_change_the_image_when_the_job_names_none(template: Path) -> None:
    override = {"spec": {"containers": [{"name": "base", "image": "custom:9"}]}}
    pod = render({"pod_override": override}, template=template)
    assert container(pod, "base")["image"] == "custom:9"


def test_the_jobs_image_wins_over_template_and_override(template: Path) -> None:
    override = {"spec": {"containers": [{"name": "base", "image": "custom:9"}]}}
    pod = render({"image": "job-image:3", "pod_override": override}, template=template)
    assert container(pod, "base")["image"] == "job-image:3"


def test_the_jobs_namespace_is_used_when_given() -> None:
    assert render({"namespace": "team-a"})["metadata"]["namespace"] == "team-a"


def test_fields_the_server_sets_are_dropped_from_the_template(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "kind: Pod\nmetadata: {resourceVersion: '5', uid: abc, generateName: x-}\n"
        "spec: {containers: [{name: base}]}\nstatus: {phase: Running}\n"
    )
    pod = render(template=path)
    assert {"resourceVersion", "uid", "generateName"}.isdisjoint(pod["metadata"])
    assert "status" not in pod


def test_args_from_the_template_do_not_leak_into_the_command(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("kind: Pod\nspec: {containers: [{name: base, args: [--old]}]}\n")
    assert "args" not in container(render(template=path), "base")


def test_a_changed_template_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    templates = Templates()
    path.write_text("kind: Pod\nspec: {priorityClassName: low, containers: [{name: base}]}\n")
    assert templates.load(path)["spec"]["priorityClassName"] == "low"
    path.write_text("kind: Pod\nspec: {priorityClassName: high, containers: [{name: base}]}\n")
    assert templates.load(path)["spec"]["priorityClassName"] == "high"


@pytest.mark.parametrize("policy", [pytest.param(p, id=p) for p in ("OnFailure", "Always")])
def test_a_template_asking_for_restarts_still_yields_never(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "restarting.yaml"
    path.write_text(yaml.safe_dump({"spec": {"restartPolicy": policy, "containers": []}}))
    assert render(template=path)["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("policy", [pytest.param(p, id=p) for p in ("OnFailure", "Always")])
def test_an_override_asking_for_restarts_still_yields_never(policy: str) -> None:
    pod = render({"pod_override": {"spec": {"restartPolicy": policy}}})
    assert pod["spec"]["restartPolicy"] == "Never"
