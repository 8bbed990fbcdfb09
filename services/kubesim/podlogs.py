"""GET pods/{name}/log: which container, whether it has logs yet, and how much to send."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from services.kubesim import statuses, validation
from services.kubesim.logs import LogStore
from services.kubesim.pods import Cluster
from services.kubesim.statuses import Cause

TEXT = "text/plain"
_WAITING_TEXT = {
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}


async def serve(
    request: Request, cluster: Cluster, logs: LogStore, namespace: str, name: str
) -> Response:
    pod = cluster.require(namespace, name).obj()
    query = dict(request.query_params)
    container = _container(pod, name, query.get("container"))
    tail, limit = _options(name, query)
    if not pod["spec"].get("nodeName"):
        return Response(status_code=204)
    previous = _flag(query.get("previous"))
    timestamps = _flag(query.get("timestamps"))
    run = logs.get(pod["metadata"]["uid"], container, previous=previous)
    if previous and run is None:
        raise statuses.bad_request(
            f'previous terminated container "{container}" in pod "{name}" not found'
        )
    if run is None:
        _refuse_waiting(pod, container, name)
        return Response(b"", media_type=TEXT)
    if _flag(query.get("follow")):
        start = max(0, len(run.lines) - tail) if tail is not None else 0
        return StreamingResponse(
            logs.follow(run, timestamps=timestamps, start=start), media_type=TEXT
        )
    return Response(run.text(tail=tail, timestamps=timestamps, limit_bytes=limit), media_type=TEXT)


def _container(pod: dict[str, Any], name: str, wanted: str | None) -> str:
    spec = pod["spec"]
    names: list[str] = [
        str(c["name"])
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]
    if wanted is None:
        if len(names) == 1:
            return names[0]
        listed = " ".join(names)
        raise statuses.bad_request(
            f"a container name must be specified for pod {name}, choose one of: [{listed}]"
        )
    if wanted not in names:
        raise statuses.bad_request(f"container {wanted} is not valid for pod {name}")
    return wanted


def _options(name: str, query: dict[str, str]) -> tuple[int | None, int | None]:
    causes = []
    values: dict[str, int | None] = {}
    for field in ("tailLines", "limitBytes"):
        raw = query.get(field)
        try:
            values[field] = int(raw) if raw is not None else None
        except ValueError:
            values[field] = None
            causes.append(validation.invalid_value(field, raw, "must be an integer"))
        value = values[field]
        if value is not None and value < 0:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {value}: must be greater than or equal to 0",
                    field,
                )
            )
    if "sinceSeconds" in query and "sinceTime" in query:
        causes.append(
            Cause(
                "FieldValueForbidden",
                "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
                "sinceSeconds",
            )
        )
    if causes:
        raise statuses.invalid("PodLogOptions", name, causes)
    return values["tailLines"], values["limitBytes"]


def _refuse_waiting(pod: dict[str, Any], container: str, name: str) -> None:
    statuses_list = (pod.get("status") or {}).get("containerStatuses") or []
    state = next((s.get("state") or {} for s in statuses_list if s.get("name") == container), {})
    waiting = state.get("waiting") if state else {"reason": "ContainerCreating"}
    if waiting is None and statuses_list:
        return
    reason = (waiting or {}).get("reason", "ContainerCreating")
    text = _WAITING_TEXT.get(reason, reason)
    raise statuses.bad_request(
        f'container "{container}" in pod "{name}" is waiting to start: {text}'
    )


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() not in ("0", "false")
