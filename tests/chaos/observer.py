"""An independent record of every pod ever created: a watch of the run's own, not podrunner's.

Duplicates are counted from what this observer saw, so podrunner's own bookkeeping cannot hide
them. It lists, then watches from the list's resourceVersion; any error (an injected 500, a 410
after compaction, a dropped connection) makes it list again, which still finds every pod that
exists, so a pod is missed only if it was created and gone within one such gap: a few
milliseconds, against the seconds a task's pod lives. Gaps are counted and reported.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from shared.k8s import naming

Key = tuple[str, str, str, int]


@dataclass
class Sighting:
    """One pod uid, as first seen, and whether its containers were ever seen started."""

    name: str
    key: Key
    try_number: int
    started: bool = False


@dataclass
class PodObserver:
    url: str
    namespace: str
    pods: dict[str, Sighting] = field(default_factory=dict)
    relists: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pod-observer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)

    def uids_by_try(self) -> dict[tuple[Key, int], list[Sighting]]:
        """Every pod seen, per (task key, try)."""
        grouped: dict[tuple[Key, int], list[Sighting]] = defaultdict(list)
        with self._lock:
            for sighting in self.pods.values():
                grouped[(sighting.key, sighting.try_number)].append(sighting)
        return grouped

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=httpx.Timeout(10, read=30)) as client:
            while not self._stop.is_set():
                try:
                    version = self._list(client)
                    self._watch(client, version)
                except (httpx.HTTPError, ValueError, KeyError):
                    self._stop.wait(0.05)
                self.relists += 1

    def _list(self, client: httpx.Client) -> str:
        response = client.get(f"/api/v1/namespaces/{self.namespace}/pods")
        response.raise_for_status()
        body = response.json()
        for pod in body["items"]:
            self._see(pod)
        return str(body["metadata"]["resourceVersion"])

    def _watch(self, client: httpx.Client, version: str) -> None:
        parameters = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true"}
        path = f"/api/v1/namespaces/{self.namespace}/pods"
        with client.stream("GET", path, params=parameters) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if not line:
                    continue
                event = orjson.loads(line)
                if event["type"] == "ERROR":
                    return
                if event["type"] != "BOOKMARK":
                    self._see(event["object"])

    def _see(self, pod: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        try:
            key, try_number = naming.key_from_annotations(metadata.get("annotations") or {})
        except naming.AnnotationError:
            return
        uid = metadata["uid"]
        with self._lock:
            sighting = self.pods.get(uid)
            if sighting is None:
                task: Key = (key.dag_id, key.task_id, key.run_id, key.map_index)
                sighting = Sighting(metadata["name"], task, try_number)
                self.pods[uid] = sighting
            sighting.started = sighting.started or _started(pod)


def _started(pod: dict[str, Any]) -> bool:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        state = status.get("state") or {}
        if "running" in state or (state.get("terminated") or {}).get("startedAt"):
            return True
    return False
