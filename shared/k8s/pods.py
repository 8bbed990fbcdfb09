"""The pod operations the services perform, as plain JSON, with errors already translated.

Responses are read raw (`_preload_content=False`) and parsed with orjson: the client's model
classes cost far more than the API call itself at thousands of pods a second, and the services
only need a few fields. Every method raises only podrunner's `KubeError` tree.
"""

from __future__ import annotations

from typing import Any

import orjson
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from shared.k8s import errors

JSON = dict[str, Any]


class PodApi:
    """Pod calls on one API client (thread-safe: the client's connection pool is shared)."""

    def __init__(self, api_client: client.ApiClient, *, timeout_s: float = 30.0) -> None:
        self._client = api_client
        self._api = client.CoreV1Api(api_client)
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
        with errors.translating():
            response = self._api.read_namespaced_pod(
                name, namespace, _preload_content=False, _request_timeout=self._timeout
            )
        return _json(response)

    def ping(self) -> None:
        """Raise a `KubeError` unless the API server answers."""
        with errors.translating():
            self._version.get_code(_request_timeout=min(self._timeout, 5.0))


def _json(response: Any) -> JSON:
    parsed: JSON = orjson.loads(response.data)
    return parsed
