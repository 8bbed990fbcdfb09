"""An in-memory pod API for unit tests, in the manner of dramatiq's `StubBroker`.

`StubPodApi` satisfies `pods.Pods`, the interface the services call pods through, so code under
test is given the stub where production passes a `PodApi`. It keeps pods in a dictionary, answers
with the same `KubeError` subclasses the real client raises (AlreadyExists, NotFound), and can be
told to fail the next calls of a verb (`fail_next`) to exercise retries and rejections without a
server. It lives in the package, beside the adapter it stands in for, so every service's tests
share one fake whose conformance mypy checks with the adapter's.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict, deque
from collections.abc import Mapping

from shared.k8s import errors
from shared.k8s.pods import JSON


class StubPodApi:
    """Pods in memory, keyed by (namespace, name); thread-safe."""

    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], JSON] = {}
        #: Log text by (namespace, pod, container), for `log_tail`.
        self.logs: dict[tuple[str, str, str], str] = {}
        #: Every call made, as (verb, namespace, name), in order.
        self.calls: list[tuple[str, str, str]] = []
        self.down = False
        self._failures: dict[str, deque[errors.KubeError]] = defaultdict(deque)
        self._lock = threading.Lock()

    def fail_next(self, verb: str, *failures: errors.KubeError) -> None:
        """The next calls of `verb` ("create", "get", ...) raise `failures`, one each, in order."""
        with self._lock:
            self._failures[verb].extend(failures)

    def create(self, namespace: str, pod: JSON) -> JSON:
        name = str(pod["metadata"]["name"])
        with self._lock:
            self._called("create", namespace, name)
            if (namespace, name) in self.pods:
                message = f'pods "{name}" already exists'
                raise errors.AlreadyExists(message, status=409, reason="AlreadyExists")
            stored = copy.deepcopy(pod)
            stored["metadata"]["namespace"] = namespace
            self.pods[namespace, name] = stored
            return copy.deepcopy(stored)

    def get(self, namespace: str, name: str) -> JSON:
        with self._lock:
            self._called("get", namespace, name)
            return copy.deepcopy(self._existing(namespace, name))

    def log_tail(self, namespace: str, name: str, *, lines: int, container: str = "base") -> str:
        with self._lock:
            self._called("log_tail", namespace, name)
            text = self.logs.get((namespace, name, container), "")
        return "".join(text.splitlines(keepends=True)[-lines:]) if lines > 0 else ""

    def remove_finalizer(
        self, namespace: str, name: str, finalizer: str, *, labels: Mapping[str, str] | None = None
    ) -> None:
        with self._lock:
            self._called("remove_finalizer", namespace, name)
            pod = self.pods.get((namespace, name))
            if pod is None:
                return
            metadata = pod["metadata"]
            metadata["finalizers"] = [f for f in metadata.get("finalizers", []) if f != finalizer]
            metadata.setdefault("labels", {}).update(labels or {})

    def delete(self, namespace: str, name: str) -> None:
        with self._lock:
            self._called("delete", namespace, name)
            self.pods.pop((namespace, name), None)

    def ping(self) -> None:
        if self.down:
            raise errors.Unavailable("the stub API server is down")

    def _called(self, verb: str, namespace: str, name: str) -> None:
        self.calls.append((verb, namespace, name))
        if self._failures[verb]:
            raise self._failures[verb].popleft()

    def _existing(self, namespace: str, name: str) -> JSON:
        pod = self.pods.get((namespace, name))
        if pod is None:
            raise errors.NotFound(f'pods "{name}" not found', status=404, reason="NotFound")
        return pod
