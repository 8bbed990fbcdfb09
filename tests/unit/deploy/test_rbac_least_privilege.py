"""Each service's Kubernetes permissions are exactly what its code uses: no more, no less.

"What the code uses" is derived, not restated. Every Kubernetes call goes through
`shared.k8s.pods.PodApi`; each of its methods is run against a client that records the HTTP
requests instead of sending them, and each request is turned into the RBAC (group, resource,
verb) the API server checks, by the API server's own rules (GET on a collection is `list`, or
`watch` with `watch=true`; GET on a name is `get`; a sub-path is a subresource such as
`pods/log`; POST `create`, PATCH `patch`, DELETE `delete`, ...). Then the source of each service
package is scanned for the `PodApi` methods it calls. The union is what the service needs, and
the Roles (or, in the all-namespaces overlay, ClusterRoles) bound to its ServiceAccount must
grant exactly that.

So a new call in a service, a new `PodApi` method, or a method that starts sending a different
request fails here until the Roles change with it. Guards keep the derivation honest: a new
`PodApi` method needs a sample call below; nothing outside `pods.py` may use another Kubernetes
API class or send raw requests; and a `PodApi` is only ever held under the name `pods`/`_pods`,
which is what the scan looks for.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes import client

from shared.k8s.pods import PodApi
from tests.support import kustomize

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "k8s"
RENDERED = {
    "base": kustomize.build(K8S / "base"),
    "second-namespace": kustomize.build(K8S / "overlays" / "second-namespace"),
    "all-namespaces": kustomize.build(K8S / "overlays" / "all-namespaces"),
}
SERVICES = ("launcher", "watcher", "reconciler")
#: The names a PodApi is held under in the services (the scan looks for calls on these).
POD_API_NAMES = frozenset({"pods", "_pods"})
#: Non-resource URLs every authenticated identity may read (the default
#: system:public-info-viewer / system:discovery bindings), so no Role needs to grant them.
PUBLIC_PATHS = frozenset({"/version", "/version/"})

Resource = dict[str, Any]

#: One call of each public PodApi method, to record the requests it sends.
SAMPLE_CALLS: dict[str, Callable[[PodApi], object]] = {
    "create": lambda api: api.create("ns", {"metadata": {"name": "p"}}),
    "get": lambda api: api.get("ns", "p"),
    "log_tail": lambda api: api.log_tail("ns", "p", lines=10),
    "remove_finalizer": lambda api: api.remove_finalizer("ns", "p", "podrunner.io/result"),
    "delete": lambda api: api.delete("ns", "p"),
    "list_page": lambda api: api.list_page("ns", label_selector="a=b", limit=10),
    "watch": lambda api: list(
        api.watch("ns", label_selector="a=b", resource_version="1", timeout_s=1, read_timeout_s=1.0)
    ),
    "ping": lambda api: api.ping(),
}

_VERSION_BODY = (
    b'{"major":"1","minor":"28","gitVersion":"v1.28.0","gitCommit":"0","gitTreeState":"clean",'
    b'"buildDate":"2023-08-15T00:00:00Z","goVersion":"go1.20","compiler":"gc",'
    b'"platform":"linux/amd64"}'
)
_BOOKMARK = b'{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"2"}}}\n'


@dataclass(frozen=True, order=True)
class Permission:
    """What RBAC checks for one request: API group, resource (or resource/subresource), verb."""

    group: str
    resource: str
    verb: str

    def __str__(self) -> str:
        return f"{self.verb} {self.resource}" + (f".{self.group}" if self.group else "")


@dataclass(frozen=True)
class Request:
    method: str
    url: str


class _RawStream:
    """The urllib3 response under a streamed watch: one bookmark, then the server closes it."""

    def stream(self, _amount: int, **_options: bool) -> Iterator[bytes]:
        yield _BOOKMARK

    def release_conn(self) -> None:
        pass

    def shutdown(self) -> None:
        pass


class _Answer:
    """A 200 answer as the client's REST layer returns it."""

    def __init__(self, data: bytes) -> None:
        self.status = 200
        self.reason = "OK"
        self.data = data
        self.headers: dict[str, str] = {"content-type": "application/json"}
        self.response = _RawStream()

    def read(self) -> bytes:
        return self.data

    def getheaders(self) -> dict[str, str]:
        return self.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


class _RecordingClient(client.ApiClient):
    """The real client, serializing requests as usual, but recording them instead of sending."""

    def __init__(self) -> None:
        super().__init__(client.Configuration(host="http://apiserver.invalid"))
        self.seen: list[Request] = []

    def call_api(self, method: str, url: str, *_args: Any, **_kwargs: Any) -> Any:
        self.seen.append(Request(method, url))
        return _Answer(_VERSION_BODY if urlsplit(url).path in PUBLIC_PATHS else b"{}")


def recorded_requests(method: str) -> list[Request]:
    """The requests `PodApi.<method>` sends, built by the real client, sent nowhere."""
    recorder = _RecordingClient()  # no connection is ever opened: nothing to close
    SAMPLE_CALLS[method](PodApi(recorder))
    return recorder.seen


def permission_of(request: Request) -> Permission | None:
    """The RBAC permission the API server checks for `request` (None: public, no Role needed)."""
    parts = urlsplit(request.url)
    if parts.path in PUBLIC_PATHS:
        return None
    segments = parts.path.strip("/").split("/")
    if segments[0] == "api":
        group, rest = "", segments[2:]
    elif segments[0] == "apis":
        group, rest = segments[1], segments[3:]
    else:
        raise AssertionError(f"a request to a non-resource URL: {request}")
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    resource, name, subresource = [*rest, None, None][:3]
    assert resource is not None
    full = f"{resource}/{subresource}" if subresource else resource
    watching = parse_qs(parts.query).get("watch", [""])[0] in {"true", "1"}
    verbs = {
        "GET": ("get" if name else ("watch" if watching else "list")),
        "HEAD": ("get" if name else "list"),
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": ("delete" if name else "deletecollection"),
    }
    return Permission(group, full, verbs[request.method])


def public_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(PodApi, inspect.isfunction)
        if not name.startswith("_")
    }


def permissions_of_method(method: str) -> set[Permission]:
    requests = recorded_requests(method)
    assert requests, f"PodApi.{method} sent no request: its sample call does not exercise it"
    return {p for p in map(permission_of, requests) if p is not None}


def _terminal_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _modules(package: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(package.rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(), filename=str(path))


def pod_api_calls(package: Path) -> dict[str, list[str]]:
    """For each PodApi method used in `package`, where (file:line)."""
    methods = public_methods()
    found: dict[str, list[str]] = {}
    for where, tree in _modules(package):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in methods
                and _terminal_name(node.value) in POD_API_NAMES
            ):
                found.setdefault(node.attr, []).append(f"{where}:{node.lineno}")
    return found


def needed(service: str) -> dict[Permission, list[str]]:
    """The permissions the service's code needs, each with the calls that need it."""
    why: dict[Permission, list[str]] = {}
    for method, places in pod_api_calls(ROOT / "services" / service).items():
        for permission in permissions_of_method(method):
            why.setdefault(permission, []).extend(f"PodApi.{method} at {p}" for p in places)
    return why


def _deployment(resources: list[Resource], service: str) -> Resource:
    (found,) = [
        r
        for r in resources
        if r["kind"] == "Deployment"
        and r["spec"]["template"]["spec"]["containers"][0]["args"][0] == service
    ]
    return found


def _bindings_of(resources: list[Resource], account: str, namespace: str) -> list[Resource]:
    return [
        r
        for r in resources
        if r["kind"] in {"RoleBinding", "ClusterRoleBinding"}
        and any(
            s["kind"] == "ServiceAccount"
            and s["name"] == account
            and s.get("namespace", r["metadata"].get("namespace")) == namespace
            for s in r.get("subjects", [])
        )
    ]


def _role_of(resources: list[Resource], binding: Resource) -> Resource:
    ref = binding["roleRef"]
    namespace = binding["metadata"].get("namespace") if ref["kind"] == "Role" else None
    (role,) = [
        r
        for r in resources
        if r["kind"] == ref["kind"]
        and r["metadata"]["name"] == ref["name"]
        and r["metadata"].get("namespace") == namespace
    ]
    return role


def granted(resources: list[Resource], service: str) -> set[Permission]:
    deployment = _deployment(resources, service)
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    namespace = deployment["metadata"]["namespace"]
    permissions: set[Permission] = set()
    for binding in _bindings_of(resources, account, namespace):
        for rule in _role_of(resources, binding).get("rules", []):
            assert not {"resourceNames", "nonResourceURLs"} & set(rule), rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        assert "*" not in (group, resource, verb), f"a wildcard in {rule}"
                        permissions.add(Permission(group, resource, verb))
    return permissions


def test_every_pod_api_method_has_a_sample_call_so_its_permissions_are_derived() -> None:
    assert set(SAMPLE_CALLS) == public_methods()


@pytest.mark.parametrize("method", sorted(SAMPLE_CALLS))
def test_each_pod_api_method_sends_only_requests_rbac_can_name(method: str) -> None:
    for request in recorded_requests(method):
        permission = permission_of(request)
        assert permission is None or permission.resource.startswith("pods"), request


def test_a_watch_needs_watch_and_a_log_tail_needs_the_log_subresource() -> None:
    assert permissions_of_method("watch") == {Permission("", "pods", "watch")}
    assert permissions_of_method("log_tail") == {Permission("", "pods/log", "get")}
    assert permissions_of_method("ping") == set()


@pytest.mark.parametrize("overlay", sorted(RENDERED))
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_granted_exactly_the_permissions_its_code_needs(
    overlay: str, service: str
) -> None:
    why = needed(service)
    have = granted(RENDERED[overlay], service)
    missing = {str(p): why[p] for p in set(why) - have}
    extra = sorted(str(p) for p in have - set(why))
    assert missing == {}, f"{service} in {overlay} lacks permissions its code needs"
    assert extra == [], f"{service} in {overlay} is granted what its code never uses"


def test_the_verbs_derived_from_the_code_are_the_ones_the_issue_expects() -> None:
    def verbs(service: str) -> set[str]:
        return {str(p) for p in needed(service)}

    assert verbs("launcher") == {"create pods", "get pods"}
    assert verbs("watcher") == {"list pods", "watch pods"}
    assert verbs("reconciler") == {
        "get pods",
        "list pods",
        "patch pods",
        "delete pods",
        "get pods/log",
    }


@pytest.mark.parametrize("overlay", sorted(RENDERED))
def test_every_deployments_service_account_exists_and_is_bound(overlay: str) -> None:
    resources = RENDERED[overlay]
    for service in SERVICES:
        deployment = _deployment(resources, service)
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        namespace = deployment["metadata"]["namespace"]
        assert [
            r
            for r in resources
            if r["kind"] == "ServiceAccount"
            and r["metadata"]["name"] == account
            and r["metadata"]["namespace"] == namespace
        ], f"no ServiceAccount {account}"
        bindings = _bindings_of(resources, account, namespace)
        assert bindings, f"{account} has no binding"
        for binding in bindings:
            _role_of(resources, binding)


@pytest.mark.parametrize("overlay", ["base", "second-namespace"])
def test_a_namespaced_deployment_is_granted_nothing_cluster_wide(overlay: str) -> None:
    kinds = {r["kind"] for r in RENDERED[overlay]}
    assert not {"ClusterRole", "ClusterRoleBinding"} & kinds


def test_the_all_namespaces_overlay_leaves_no_namespaced_role_behind() -> None:
    resources = RENDERED["all-namespaces"]
    assert not [r for r in resources if r["kind"] in {"Role", "RoleBinding"}]
    for service in SERVICES:
        deployment = _deployment(resources, service)
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        bindings = _bindings_of(resources, account, deployment["metadata"]["namespace"])
        assert {b["kind"] for b in bindings} == {"ClusterRoleBinding"}


def test_the_all_namespaces_watcher_runs_with_the_flag_and_a_cluster_wide_binding() -> None:
    resources = RENDERED["all-namespaces"]
    watcher = _deployment(resources, "watcher")
    assert "--all-namespaces" in watcher["spec"]["template"]["spec"]["containers"][0]["args"]
    for overlay in ("base", "second-namespace"):
        args = _deployment(RENDERED[overlay], "watcher")["spec"]["template"]["spec"]
        assert "--all-namespaces" not in args["containers"][0]["args"]


def test_no_module_besides_pods_py_uses_another_kubernetes_api_or_sends_raw_requests() -> None:
    """The services may not import `kubernetes` (import-linter); within `shared`, only PodApi may
    call the API, so the methods sampled above are every call there is."""
    used = {
        (where, name)
        for package in (ROOT / "shared", ROOT / "services")
        for where, tree in _modules(package)
        for node in ast.walk(tree)
        for name in _kubernetes_api_uses(node)
    }
    assert used == {("shared/k8s/pods.py", name) for name in ("VersionApi", "call_api")}, (
        "add the call to PodApi, so its permissions are derived here"
    )


def _kubernetes_api_uses(node: ast.AST) -> Iterator[str]:
    """Generated API classes (`CoreV1Api`, ...), `kubernetes.watch`, and raw `call_api`."""
    api_class = re.compile(r"[A-Z]\w*Api")
    if isinstance(node, ast.Attribute) and (
        api_class.fullmatch(node.attr) or node.attr == "call_api"
    ):
        yield node.attr
    elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kubernetes"):
        if (node.module or "").startswith("kubernetes.watch"):
            yield "kubernetes.watch"
        yield from (alias.name for alias in node.names if api_class.fullmatch(alias.name))
    elif isinstance(node, ast.Import):
        yield from (a.name for a in node.names if a.name.startswith("kubernetes.watch"))


def test_a_pod_api_is_only_held_under_the_names_the_scan_looks_for() -> None:
    """Aliasing a PodApi (`api = self._pods`) would hide its calls from the scan."""
    annotated = re.compile(r"\b(PodApi|Pods)\b")
    wrong: list[str] = []
    for package in (ROOT / "services", ROOT / "shared"):
        for where, tree in _modules(package):
            for node in ast.walk(tree):
                wrong.extend(f"{where}:{line} {name}" for line, name in _bindings(node, annotated))
    assert wrong == []


def _bindings(node: ast.AST, annotated: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    """Names that hold a PodApi in `node` but are not among POD_API_NAMES."""
    if isinstance(node, ast.arg):
        yield from _annotated_argument(node, annotated)
    elif isinstance(node, ast.AnnAssign):
        yield from _annotated_assignment(node, annotated)
    elif isinstance(node, ast.Assign) and _holds_pod_api(node.value):
        targets = [ast.unparse(t) for t in node.targets if _terminal_name(t) not in POD_API_NAMES]
        yield from ((node.lineno, target) for target in targets)
    elif isinstance(node, ast.Call):
        keywords = [k.arg for k in node.keywords if _holds_pod_api(k.value)]
        yield from ((node.lineno, f"{k}=") for k in keywords if k not in POD_API_NAMES)


def _annotated_argument(node: ast.arg, annotated: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    if node.annotation is None or not annotated.search(ast.unparse(node.annotation)):
        return
    if node.arg not in POD_API_NAMES:
        yield node.lineno, node.arg


def _annotated_assignment(
    node: ast.AnnAssign, annotated: re.Pattern[str]
) -> Iterator[tuple[int, str]]:
    if not annotated.search(ast.unparse(node.annotation)):
        return
    name = _terminal_name(node.target)
    if name not in POD_API_NAMES:
        yield node.lineno, str(name)


def _holds_pod_api(value: ast.expr) -> bool:
    if isinstance(value, ast.Call):
        return _terminal_name(value.func) == "PodApi"
    return _terminal_name(value) in POD_API_NAMES
