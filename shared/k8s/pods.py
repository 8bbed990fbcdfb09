"""The pod operations the services perform, as plain JSON, with errors already translated.

Responses are read raw (`_preload_content=False`) and parsed with orjson: the client's model
classes cost far more than the API call itself at thousands of pods a second, and the services
only need a few fields. Every method raises only podrunner's `KubeError` tree.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import orjson
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from shared.k8s import errors

JSON = dict[str, Any]


@runtime_checkable
class Pods(Protocol):
    """The calls on single pods, as `PodApi` makes them and `shared.k8s.stub.StubPodApi` fakes
    them for unit tests (listing and watching stay with `PodApi`: they are tested on kubesim)."""

    def create(self, namespace: str, pod: JSON) -> JSON: ...

    def get(self, namespace: str, name: str) -> JSON: ...

    def log_tail(
        self, namespace: str, name: str, *, lines: int, container: str = "base"
    ) -> str: ...

    def remove_finalizer(
        self, namespace: str, name: str, finalizer: str, *, labels: Mapping[str, str] | None = None
    ) -> None: ...

    def delete(self, namespace: str, name: str) -> None: ...

    def ping(self) -> None: ...


class PodApi:
    """Pod calls on one API client (thread-safe: the client's connection pool is shared)."""

    def __init__(self, api_client: client.ApiClient, *, timeout_s: float = 30.0) -> None:
        self._client = api_client
        self._version = client.VersionApi(api_client)
        self._timeout = timeout_s

    def create(self, namespace: str, pod: JSON) -> JSON:
        """POST the pod. The request is built by the client's own serializer and sent on its
        connection pool, skipping only the per-call argument validation that the generated
        method wraps around it, which costs more than the request at launch rates."""
        request = self._client.param_serialize(
            method="POST",
            resource_path="/api/v1/namespaces/{namespace}/pods",
            path_params={"namespace": namespace},
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=pod,
            auth_settings=["BearerToken"],
        )
        with errors.translating():
            response = self._client.call_api(*request, _request_timeout=self._timeout)
            response.read()
            if not 200 <= response.status <= 299:
                raise ApiException.from_response(http_resp=response, body=None, data=None)
        parsed: JSON = orjson.loads(response.data or b"{}")
        return parsed

    def get(self, namespace: str, name: str) -> JSON:
        response = self._get(_pod_path(namespace, name), [], timeout=self._timeout)
        parsed: JSON = orjson.loads(response.data or b"{}")
        return parsed

    def log_tail(self, namespace: str, name: str, *, lines: int, container: str = "base") -> str:
        """The last `lines` lines of the container's log; empty when it has none (yet)."""
        query = [("container", container), ("tailLines", str(lines))]
        try:
            response = self._get(f"{_pod_path(namespace, name)}/log", query, timeout=self._timeout)
        except (errors.BadRequest, errors.NotFound):
            return ""
        return bytes(response.data or b"").decode(errors="replace")

    def remove_finalizer(
        self, namespace: str, name: str, finalizer: str, *, labels: Mapping[str, str] | None = None
    ) -> None:
        """Remove `finalizer` from the pod and set `labels` in the same patch (a pod already gone
        is fine)."""
        metadata: dict[str, Any] = {"$deleteFromPrimitiveList/finalizers": [finalizer]}
        if labels:
            metadata["labels"] = dict(labels)
        patch = {"metadata": metadata}
        try:
            self._send(
                "PATCH", _pod_path(namespace, name), patch, "application/strategic-merge-patch+json"
            )
        except errors.NotFound:
            return

    def delete(self, namespace: str, name: str) -> None:
        """Delete the pod with its default grace period (a pod already gone is fine)."""
        try:
            self._send("DELETE", _pod_path(namespace, name), None, "application/json")
        except errors.NotFound:
            return

    def _send(self, method: str, path: str, body: Any, content_type: str) -> None:
        request = self._client.param_serialize(
            method=method,
            resource_path=path,
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
        )
        with errors.translating():
            response = self._client.call_api(*request, _request_timeout=self._timeout)
            response.read()
            if not 200 <= response.status <= 299:
                raise ApiException.from_response(http_resp=response, body=None, data=None)

    def list_page(
        self,
        namespace: str | None,
        *,
        label_selector: str,
        limit: int,
        continue_token: str = "",
    ) -> bytes:
        """One page of a pod list, as the raw PodList JSON."""
        query: list[tuple[str, str]] = [("labelSelector", label_selector), ("limit", str(limit))]
        if continue_token:
            query.append(("continue", continue_token))
        response = self._get(_collection(namespace), query, timeout=self._timeout)
        return bytes(response.data or b"")

    def watch(
        self,
        namespace: str | None,
        *,
        label_selector: str,
        resource_version: str,
        timeout_s: int,
        read_timeout_s: float,
        on_open: Callable[[Callable[[], None]], None] = lambda _cancel: None,
    ) -> Iterator[list[bytes]]:
        """Watch from `resource_version` with bookmarks; yield the complete lines of each chunk.

        The stream ends normally when the server closes it after `timeout_s`. A silent connection
        fails after `read_timeout_s` (Unavailable). An ERROR event raises the matching KubeError:
        `Gone` for 410 Expired, so the caller re-lists. `on_open` is given a function that ends
        the stream from another thread (a blocked read returns at once), for a prompt shutdown.
        """
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("labelSelector", label_selector),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(timeout_s)),
        ]
        with errors.translating():
            response = self._get(
                _collection(namespace), query, timeout=(10.0, read_timeout_s), stream=True
            )
            streaming = [True]

            def cancel() -> None:
                if streaming[0]:  # never touch the connection once it went back to the pool
                    with contextlib.suppress(OSError):  # the socket may be closing already
                        response.response.shutdown()

            on_open(cancel)
            buffered = b""
            try:
                for chunk in response.response.stream(64 * 1024, decode_content=False):
                    buffered += chunk
                    *lines, buffered = buffered.split(b"\n")
                    complete = [line for line in lines if line]
                    for line in complete:
                        if line.startswith(_ERROR_EVENT):
                            raise _error_event(line)
                    if complete:
                        yield complete
            finally:
                streaming[0] = False
                response.response.release_conn()

    def _get(
        self,
        path: str,
        query: list[tuple[str, str]],
        *,
        timeout: float | tuple[float, float],
        stream: bool = False,
    ) -> Any:
        request = self._client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        with errors.translating():
            response = self._client.call_api(*request, _request_timeout=timeout)
            if not 200 <= response.status <= 299:
                response.read()
                raise ApiException.from_response(http_resp=response, body=None, data=None)
            if not stream:
                response.read()
        return response

    def ping(self) -> None:
        """Raise a `KubeError` unless the API server answers."""
        with errors.translating():
            self._version.get_code(_request_timeout=min(self._timeout, 5.0))


_ERROR_EVENT = b'{"type":"ERROR"'


def _pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}"


def _collection(namespace: str | None) -> str:
    return f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"


def _error_event(line: bytes) -> errors.KubeError:
    """The KubeError an ERROR watch event stands for (its object is a Status)."""
    status = orjson.loads(line).get("object") or {}
    return errors.from_response(int(status.get("code") or 500), orjson.dumps(status))
