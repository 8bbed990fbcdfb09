"""The manifests under `k8s/` are what a cluster will accept and what the services expect.

There is no cluster and no kustomize binary here, so the base and each overlay are rendered by
`tests.support.kustomize` and every object is checked against the Kubernetes OpenAPI schemas
(`kubernetes-validate`, strict: an unknown or misspelt field fails). Beyond the schemas, the
checks tie the manifests to the code: the arguments parse with podrunner's own command line,
every `PODRUNNER_*` variable is a real setting with a valid value, the probes reach each
service's health port, the pod template renders into a valid pod, and an overlay's namespace
reaches every namespaced object.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services import cli
from shared.k8s.rendering import BASE_CONTAINER
from shared.k8s.template_files import Templates
from shared.settings import DEFAULT_HEALTH_PORTS, Settings
from tests.support import kustomize

K8S = Path(__file__).resolve().parents[3] / "k8s"
KUSTOMIZATIONS = {
    "base": K8S / "base",
    "second-namespace": K8S / "overlays" / "second-namespace",
    "all-namespaces": K8S / "overlays" / "all-namespaces",
}
#: Schemas of the oldest Kubernetes these manifests are meant for (shipped with the package).
KUBERNETES_VERSION = "1.28.0"
SECRET_EXAMPLE = K8S / "base" / "control-plane" / "secret-example.yaml"
COMMON_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/component",
)

Resource = dict[str, Any]
RENDERED = {name: kustomize.build(path) for name, path in KUSTOMIZATIONS.items()}


def _objects() -> Iterator[Any]:
    for name, resources in RENDERED.items():
        for resource in resources:
            rid = kustomize.resource_id(resource)
            yield pytest.param(resource, id=f"{name}:{rid.kind}/{rid.name}")


def _deployments() -> Iterator[Any]:
    for name, resources in RENDERED.items():
        for resource in resources:
            if resource["kind"] == "Deployment":
                yield pytest.param(name, resource, id=f"{name}:{resource['metadata']['name']}")


def _kustomization(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return loaded


def _namespaces(resources: list[Resource]) -> dict[str, str]:
    """The rendered Namespaces by their component: {"control-plane": ..., "workers": ...}."""
    return {
        r["metadata"]["labels"]["app.kubernetes.io/component"]: r["metadata"]["name"]
        for r in resources
        if r["kind"] == "Namespace"
    }


def _find(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _container(deployment: Resource) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _service_of(deployment: Resource) -> str:
    service: str = _container(deployment)["args"][0]
    return service


def _settings_env(resources: list[Resource], container: dict[str, Any]) -> dict[str, str]:
    """The PODRUNNER_* environment the container starts with (secrets as placeholders)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(_find(resources, "ConfigMap", source["configMapRef"]["name"])["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        elif "secretKeyRef" in variable["valueFrom"]:
            env[variable["name"]] = _placeholder_secret(variable["name"])
    return env


def _placeholder_secret(name: str) -> str:
    if name.endswith("_URL"):
        return "postgresql://user:pw@db:5432/db" if "DATABASE" in name else "redis://r:6379/0"
    return "placeholder-token-of-32-characters"


@pytest.mark.parametrize("resource", list(_objects()))
def test_every_rendered_object_matches_the_kubernetes_schema(resource: Resource) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_secret_example_matches_the_schema_and_holds_only_placeholders() -> None:
    (secret,) = [doc for doc in yaml.safe_load_all(SECRET_EXAMPLE.read_text()) if doc]
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    assert secret["metadata"]["name"] == "podrunner-secrets"
    assert all("REPLACE-ME" in value for value in secret["stringData"].values())
    assert "EXAMPLE ONLY" in SECRET_EXAMPLE.read_text()


def test_the_secret_example_is_never_applied_with_the_base() -> None:
    assert SECRET_EXAMPLE.name not in _kustomization(SECRET_EXAMPLE.parent)["resources"]
    assert not [r for r in RENDERED["base"] if r["kind"] == "Secret"]


def test_every_manifest_file_is_used_by_a_kustomization() -> None:
    used = {SECRET_EXAMPLE}
    for path in K8S.rglob("kustomization.yaml"):
        directory = path.parent
        used.add(path)
        kustomization = _kustomization(directory)
        used.update(directory / entry for entry in kustomization.get("resources", []))
        used.update(directory / p["path"] for p in kustomization.get("patches", []) if "path" in p)
    files = {path for path in K8S.rglob("*.y*ml")}
    assert files - {path.resolve() for path in used} == set()


@pytest.mark.parametrize(("_overlay", "deployment"), list(_deployments()))
def test_each_deployment_runs_a_podrunner_command_the_cli_accepts(
    _overlay: str, deployment: Resource
) -> None:
    container = _container(deployment)
    assert container["image"].startswith("podrunner@sha256:")
    assert "command" not in container, "the image's entrypoint is podrunner"
    args = cli.build_parser().parse_args(container["args"])
    assert args.command in DEFAULT_HEALTH_PORTS
    assert deployment["metadata"]["name"] == f"podrunner-{args.command}"


def test_the_migration_job_runs_db_upgrade_without_a_kubernetes_token() -> None:
    job = _find(RENDERED["base"], "Job", "podrunner-db-migrate")
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    args = cli.build_parser().parse_args(container["args"])
    assert (args.command, args.db_command, args.revision) == ("db", "upgrade", "head")
    assert spec["automountServiceAccountToken"] is False
    assert "PODRUNNER_DATABASE_URL" in _settings_env(RENDERED["base"], container)


@pytest.mark.parametrize(("overlay", "deployment"), list(_deployments()))
def test_each_service_gets_valid_settings_from_its_configmap_secret_and_namespace(
    overlay: str, deployment: Resource, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _settings_env(RENDERED[overlay], _container(deployment))
    unknown = {
        key for key in env if key.removeprefix("PODRUNNER_").lower() not in Settings.model_fields
    }
    assert unknown == set(), "not a podrunner setting"
    for key in [k for k in os.environ if k.startswith("PODRUNNER_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.namespace == _namespaces(RENDERED[overlay])["workers"]
    assert settings.redis_url is not None
    if _service_of(deployment) == "reconciler":
        assert settings.database_url is not None
        assert settings.api_token is not None


@pytest.mark.parametrize(("overlay", "deployment"), list(_deployments()))
def test_the_probes_and_the_service_reach_the_health_port_of_each_service(
    overlay: str, deployment: Resource
) -> None:
    service = _service_of(deployment)
    container = _container(deployment)
    env = _settings_env(RENDERED[overlay], container)
    port = int(env.get("PODRUNNER_HEALTH_PORT", DEFAULT_HEALTH_PORTS[service]))
    named = {p["name"]: p["containerPort"] for p in container["ports"]}

    def resolve(target: int | str) -> int:
        return named[target] if isinstance(target, str) else target

    assert resolve(container["livenessProbe"]["httpGet"]["port"]) == port
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert resolve(container["readinessProbe"]["httpGet"]["port"]) == port
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    front = _find(RENDERED[overlay], "Service", deployment["metadata"]["name"])
    assert [resolve(p["targetPort"]) for p in front["spec"]["ports"]] == [port]
    assert [p["port"] for p in front["spec"]["ports"]] == [port]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert front["spec"]["selector"].items() <= pod_labels.items()


@pytest.mark.parametrize(("overlay", "deployment"), list(_deployments()))
def test_each_deployment_keeps_one_pod_through_a_disruption_and_can_still_drain(
    overlay: str, deployment: Resource
) -> None:
    budget = _find(RENDERED[overlay], "PodDisruptionBudget", deployment["metadata"]["name"])
    assert budget["spec"]["minAvailable"] == 1
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert deployment["spec"]["replicas"] >= 2, "with one replica the budget blocks every drain"


@pytest.mark.parametrize(("_overlay", "deployment"), list(_deployments()))
def test_each_deployment_runs_locked_down_with_a_memory_limit(
    _overlay: str, deployment: Resource
) -> None:
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["limits"]["memory"]
    assert container["resources"]["requests"]["memory"]
    assert pod["terminationGracePeriodSeconds"] >= 30
    mounted = {m["name"] for m in container.get("volumeMounts", [])}
    assert mounted == {v["name"] for v in pod.get("volumes", [])}


def test_replicas_are_two_each_in_the_base_and_scaled_independently_in_the_second_namespace() -> (
    None
):
    def replicas(overlay: str) -> dict[str, int]:
        return {
            _service_of(r): r["spec"]["replicas"]
            for r in RENDERED[overlay]
            if r["kind"] == "Deployment"
        }

    assert replicas("base") == {"launcher": 2, "watcher": 2, "reconciler": 2}
    assert len(set(replicas("second-namespace").values())) > 1


@pytest.mark.parametrize("resource", list(_objects()))
def test_every_object_carries_the_recommended_labels(resource: Resource) -> None:
    labels = resource["metadata"].get("labels", {})
    assert [label for label in COMMON_LABELS if not labels.get(label)] == []


@pytest.mark.parametrize("overlay", ["second-namespace", "all-namespaces"])
def test_an_overlays_namespaces_reach_every_namespaced_object_of_their_half_and_the_subjects(
    overlay: str,
) -> None:
    moved = {
        _namespaces(RENDERED["base"])[half]: name
        for half, name in _namespaces(RENDERED[overlay]).items()
    }
    control_plane = _namespaces(RENDERED[overlay])["control-plane"]
    expected = {
        (rid.kind, moved[rid.namespace], rid.name)
        for rid in map(kustomize.resource_id, RENDERED["base"])
        if rid.namespace is not None
    }
    for resource in RENDERED[overlay]:
        rid = kustomize.resource_id(resource)
        if resource["kind"] in kustomize.CLUSTER_KINDS:
            assert rid.namespace is None, rid
        else:
            assert (rid.kind, rid.namespace, rid.name) in expected, f"{rid} left its half"
        for subject in resource.get("subjects", []):
            assert subject["namespace"] == control_plane, rid


def test_the_second_namespace_runs_as_its_own_instance_in_namespaces_of_its_own() -> None:
    def instance(overlay: str) -> str:
        value: str = _find(RENDERED[overlay], "ConfigMap", "podrunner-settings")["data"][
            "PODRUNNER_INSTANCE"
        ]
        return value

    base, second = _namespaces(RENDERED["base"]), _namespaces(RENDERED["second-namespace"])
    assert set(base.values()).isdisjoint(second.values())
    assert instance("second-namespace") != instance("base")


def _pod_template_file(resources: list[Resource]) -> tuple[str, str]:
    """The launcher's PODRUNNER_POD_TEMPLATE_FILE and the template text mounted there."""
    launcher = _find(resources, "Deployment", "podrunner-launcher")
    container = _container(launcher)
    path = _settings_env(resources, container)["PODRUNNER_POD_TEMPLATE_FILE"]
    volumes = {v["name"]: v for v in launcher["spec"]["template"]["spec"]["volumes"]}
    for mount in container["volumeMounts"]:
        config_map = volumes[mount["name"]].get("configMap")
        if config_map and path.startswith(mount["mountPath"].rstrip("/") + "/"):
            key = path[len(mount["mountPath"].rstrip("/")) + 1 :]
            data = _find(resources, "ConfigMap", config_map["name"])["data"]
            assert key in data, f"{path} is not a key of ConfigMap {config_map['name']}"
            return path, data[key]
    raise AssertionError(f"{path} is not inside a mounted ConfigMap")


@pytest.mark.parametrize("overlay", list(KUSTOMIZATIONS))
def test_the_pod_template_configmap_holds_a_valid_pod_with_a_base_container(
    overlay: str, tmp_path: Path
) -> None:
    _path, text = _pod_template_file(RENDERED[overlay])
    template = tmp_path / "pod-template.yaml"
    template.write_text(text)
    pod = Templates().load(template)
    kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
    assert [c["name"] for c in pod["spec"]["containers"]] == [BASE_CONTAINER]


def test_a_job_renders_over_the_pod_template_into_a_valid_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _path, text = _pod_template_file(RENDERED["base"])
    template = tmp_path / "pod-template.yaml"
    template.write_text(text)
    monkeypatch.setenv("PODRUNNER_POD_TEMPLATE_FILE", str(template))
    job = ["--dag-id", "etl", "--task-id", "load", "--run-id", "manual__1"]
    assert cli.main(["render-pod", *job, "--", "python", "-c", "print(1)"]) == 0
    pod = yaml.safe_load(capsys.readouterr().out)
    kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
    (base,) = pod["spec"]["containers"]
    assert base["securityContext"]["allowPrivilegeEscalation"] is False
    assert base["command"] == ["python", "-c", "print(1)"]
