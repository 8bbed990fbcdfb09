"""The test renderer for kustomize refuses what it does not implement, and merges like kustomize.

The manifest tests are only as good as `tests.support.kustomize`: if it quietly ignored a field,
they would pass on objects kustomize renders differently. These cases pin the subset down.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import kustomize

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: sidecar
          image: proxy
        - name: main
          image: app
          args: ["serve", "--port", "1"]
          env:
            - {name: A, value: "1"}
"""
ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app
rules: []
"""
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app}
subjects:
  - {kind: ServiceAccount, name: app}
"""
ACCOUNT = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
"""


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def _base(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "base",
        {
            "kustomization.yaml": "resources: [app.yaml, rbac.yaml]\nnamespace: one\n",
            "app.yaml": DEPLOYMENT,
            "rbac.yaml": "---\n".join([ROLE, BINDING, ACCOUNT]),
        },
    )


def test_an_unsupported_kustomization_field_is_refused_by_name(tmp_path: Path) -> None:
    _base(tmp_path)
    overlay = _write(
        tmp_path / "overlay",
        {"kustomization.yaml": "resources: [../base]\ncommonLabels: {team: a}\n"},
    )
    with pytest.raises(kustomize.KustomizeError, match="commonLabels"):
        kustomize.build(overlay)


def test_a_patch_for_a_missing_resource_is_an_error(tmp_path: Path) -> None:
    _base(tmp_path)
    overlay = _write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": "resources: [../base]\npatches: [{path: p.yaml}]\n",
            "p.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: absent}\n",
        },
    )
    with pytest.raises(kustomize.KustomizeError, match="matches 0"):
        kustomize.build(overlay)


def test_a_strategic_merge_patch_merges_containers_and_env_by_name_and_replaces_args(
    tmp_path: Path,
) -> None:
    _base(tmp_path)
    patch = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: main\n          args: [worker]\n          env: [{name: B, value: '2'}]\n"
    )
    overlay = _write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": "resources: [../base]\npatches: [{path: p.yaml}]\n"
            "replicas: [{name: app, count: 3}]\nnamespace: two\n",
            "p.yaml": patch,
        },
    )
    (deployment, *_rest) = kustomize.build(overlay)
    sidecar, main = deployment["spec"]["template"]["spec"]["containers"]
    assert sidecar == {"name": "sidecar", "image": "proxy"}
    assert main["args"] == ["worker"]
    assert [e["name"] for e in main["env"]] == ["A", "B"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["namespace"] == "two"


def test_a_delete_patch_removes_the_resource_and_subjects_follow_the_namespace(
    tmp_path: Path,
) -> None:
    _base(tmp_path)
    overlay = _write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": "resources: [../base]\nnamespace: two\npatches:\n"
            "  - patch: |-\n      $patch: delete\n      apiVersion: rbac.authorization.k8s.io/v1\n"
            "      kind: Role\n      metadata: {name: app}\n",
        },
    )
    rendered = kustomize.build(overlay)
    assert [r["kind"] for r in rendered] == ["Deployment", "RoleBinding", "ServiceAccount"]
    assert rendered[1]["subjects"] == [
        {"kind": "ServiceAccount", "name": "app", "namespace": "two"}
    ]


def test_a_kind_of_unknown_scope_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    directory = _write(
        tmp_path / "k",
        {
            "kustomization.yaml": "resources: [w.yaml]\nnamespace: x\n",
            "w.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        },
    )
    with pytest.raises(kustomize.KustomizeError, match="Widget"):
        kustomize.build(directory)


def test_an_image_is_pinned_by_digest_in_place_of_its_tag_and_other_images_are_left_alone(
    tmp_path: Path,
) -> None:
    _base(tmp_path)
    digest = "sha256:" + "ab" * 32
    overlay = _write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": "resources: [../base]\nimages:\n"
            f"  - {{name: app, newName: registry.example.com/app, digest: '{digest}'}}\n"
        },
    )
    (deployment, *_rest) = kustomize.build(overlay)
    sidecar, main = deployment["spec"]["template"]["spec"]["containers"]
    assert main["image"] == f"registry.example.com/app@{digest}"
    assert sidecar["image"] == "proxy"


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        pytest.param("app", "app", id="bare"),
        pytest.param("app:1.2", "app", id="tag"),
        pytest.param("reg:5000/team/app:1.2", "reg:5000/team/app", id="registry-port-and-tag"),
        pytest.param("reg:5000/app@sha256:" + "0" * 64, "reg:5000/app", id="digest"),
    ],
)
def test_an_image_is_matched_by_its_name_without_tag_or_digest(reference: str, name: str) -> None:
    assert kustomize.image_name(reference) == name


def test_a_namespace_object_is_renamed_to_the_kustomization_namespace(tmp_path: Path) -> None:
    directory = _write(
        tmp_path / "k",
        {
            "kustomization.yaml": "resources: [ns.yaml]\nnamespace: two\n",
            "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n",
        },
    )
    (namespace,) = kustomize.build(directory)
    assert namespace["metadata"] == {"name": "two"}
