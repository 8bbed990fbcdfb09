"""List and watch requests: options, resourceVersion semantics, pages and where a watch starts.

The rules are the API server's: `resourceVersion` unset is the latest
state, `"0"` any state (and a `limit` is ignored), `N` not older than N, or exactly N when paging
or with `resourceVersionMatch=Exact`. Pages come from one consistent snapshot, named in the
continue token; with selectors a page may be short or empty while more remain, as on a real
server, because a page scans `limit` objects and returns those that match. Tokens and revisions
older than the store's history answer 410 Expired; for a continue token the Status carries a new
token (revision -1) that continues from the same key at the latest state, an inconsistent list.
List options are checked as the API server's validation does, every violation in one 422.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from services.kubesim import selectors, statuses
from services.kubesim.selectors import FieldSelector, LabelSelector, SelectorError
from services.kubesim.statuses import ApiError, Cause
from services.kubesim.store import Store, Stored, TooOld
from services.kubesim.watching import Watch, WatchOptions, event_line

CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)
_MATCHES = ("Exact", "NotOlderThan", "")
#: The revision in a continue token that means "the latest state" (the API server's -1).
_LATEST = -1


@dataclass(frozen=True)
class ListRequest:
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    limit: int
    continue_token: str
    resource_version: str
    match: str | None

    @classmethod
    def parse(cls, namespace: str | None, query: dict[str, str]) -> ListRequest:
        try:
            labels = selectors.parse_labels(query.get("labelSelector"))
            fields = selectors.parse_fields(query.get("fieldSelector"))
        except SelectorError as error:
            raise statuses.bad_request(str(error)) from error
        return cls(
            namespace=namespace,
            labels=labels,
            fields=fields,
            limit=_non_negative(query.get("limit", "0"), "limit"),
            continue_token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
            match=query.get("resourceVersionMatch"),
        )

    def selects(self, stored: Stored) -> bool:
        if self.namespace is not None and stored.namespace != self.namespace:
            return False
        return self.labels.matches(stored.labels) and self.fields.matches(stored.fields)

    @property
    def has_selectors(self) -> bool:
        return bool(self.labels.requirements or self.fields.terms)


def list_pods(store: Store, request: ListRequest, query: dict[str, str]) -> bytes:
    """The PodList JSON for `request` (`query`: the request's parameters, for validation)."""
    _check_list_options(request, query)
    snapshot_rv, start = _snapshot(store, request)
    limit = request.limit if request.resource_version != "0" or request.continue_token else 0
    items, next_key, remaining = _page(store, request, snapshot_rv, start, limit)
    metadata: dict[str, Any] = {"resourceVersion": str(snapshot_rv)}
    if next_key is not None:
        metadata["continue"] = _token(snapshot_rv, next_key)
        if not request.has_selectors:
            metadata["remainingItemCount"] = remaining
    head = b'{"kind":"PodList","apiVersion":"v1","metadata":' + orjson.dumps(metadata)
    return head + b',"items":[' + b",".join(item.data for item in items) + b"]}"


def _check_list_options(request: ListRequest, query: dict[str, str]) -> None:
    rv = request.resource_version
    causes = _match_causes(request)
    if "sendInitialEvents" in query:
        message = "Forbidden: sendInitialEvents is forbidden for list"
        causes.append(Cause("FieldValueForbidden", message, "sendInitialEvents"))
    if causes:
        raise statuses.invalid_options("ListOptions", causes)
    if request.continue_token and rv not in ("", "0"):
        raise statuses.bad_request("specifying resource version is not allowed when using continue")
    if rv:
        _rv_number(rv)


def _match_causes(request: ListRequest) -> list[Cause]:
    """What a list's `resourceVersionMatch` breaks, in the server's order."""
    rv, match = request.resource_version, request.match
    if not match:
        return []
    causes = []
    if not rv:
        causes.append(
            _forbidden("resourceVersionMatch is forbidden unless resourceVersion is provided")
        )
    if request.continue_token:
        causes.append(_forbidden("resourceVersionMatch is forbidden when continue is provided"))
    if match not in _MATCHES:
        causes.append(_unsupported(match, '"Exact", "NotOlderThan", ""'))
    if match == "Exact" and rv == "0":
        causes.append(
            _forbidden('resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
        )
    return causes


def _forbidden(message: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {message}", "resourceVersionMatch")


def _unsupported(value: str, supported: str) -> Cause:
    message = f'Unsupported value: "{value}": supported values: {supported}'
    return Cause("FieldValueNotSupported", message, "resourceVersionMatch")


def _snapshot(store: Store, request: ListRequest) -> tuple[int, tuple[str, str] | None]:
    """The revision the list is read at, and the key it starts from."""
    if request.continue_token:
        rv, start = _parse_token(request.continue_token)
        if rv == _LATEST:
            return store.rv, start
        if rv < store.history_start:
            error = statuses.expired(CONTINUE_TOO_OLD)
            error.list_meta = {"continue": _token(_LATEST, start)}
            raise error
        return rv, start
    rv_text = request.resource_version
    exact = request.match == "Exact" or (
        request.limit and rv_text not in ("", "0") and not request.match
    )
    if exact:
        wanted = _rv_number(rv_text)
        if wanted < store.history_start:
            raise statuses.expired(f"too old resource version: {wanted} ({store.history_start})")
        if wanted > store.rv:
            raise _too_large(wanted, store.rv)
        return wanted, None
    if rv_text not in ("", "0") and _rv_number(rv_text) > store.rv:
        raise _too_large(_rv_number(rv_text), store.rv)
    return store.rv, None


def _page(
    store: Store, request: ListRequest, rv: int, start: tuple[str, str] | None, limit: int
) -> tuple[list[Stored], tuple[str, str] | None, int]:
    begin = start or ((request.namespace, "") if request.namespace is not None else None)
    items: list[Stored] = []
    scanned = 0
    remaining = 0
    next_key: tuple[str, str] | None = None
    try:
        candidates = store.keys_from(begin, at_rv=rv if rv < store.rv else None)
        for stored in candidates:
            if request.namespace is not None and stored.namespace != request.namespace:
                break
            if limit and scanned >= limit:
                next_key = next_key or stored.key
                remaining += 1
                continue
            scanned += 1
            if request.selects(stored):
                items.append(stored)
    except TooOld as error:
        raise statuses.expired(str(error)) from error
    return items, next_key, remaining


def _token(rv: int, start: tuple[str, str]) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{start[0]}/{start[1]}\u0000"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_token(token: str) -> tuple[int, tuple[str, str]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        namespace, _, name = str(data["start"]).rstrip("\u0000").partition("/")
        return int(data["rv"]), (namespace, name)
    except (ValueError, KeyError, TypeError) as error:
        raise statuses.bad_request(
            "invalid continue token: continue key is not valid: could not decode the token"
        ) from error


def _rv_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise statuses.bad_request(f"invalid resource version: {text}") from error
    if value < 0:
        raise statuses.bad_request(f"invalid resource version: {text}")
    return value


def _too_large(wanted: int, current: int) -> ApiError:
    error = statuses.timeout(f"Too large resource version: {wanted}, current: {current}")
    error.details = {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1,
    }
    return error


def _non_negative(text: str, name: str) -> int:
    try:
        value = int(text or "0")
    except ValueError as error:
        raise statuses.bad_request(f"invalid {name}: {text}") from error
    return max(0, value)


def open_watch(
    store: Store, request: ListRequest, options: WatchOptions, query: dict[str, str]
) -> tuple[Watch, list[bytes]]:
    """Validate a watch request and subscribe it; return the watch and its first lines."""
    _check_watch_options(query)
    rv_text = request.resource_version
    watch = Watch(store=store, options=options, sent_rv=store.rv)
    send_initial = _flag(query.get("sendInitialEvents"))
    if send_initial is False:
        store.subscribe(watch)
        return watch, []
    if send_initial or rv_text in ("", "0"):
        first = [
            event_line("ADDED", watch.shown(stored.full()))
            for stored in store.keys_from(_begin(request))
            if watch.matches(stored)
        ]
        if options.bookmarks and send_initial:
            first.append(watch.bookmark(store.rv, initial_events_end=True))
        store.subscribe(watch)
        return watch, first
    start = _rv_number(rv_text)
    watch.start_rv = start
    store.subscribe(watch)
    try:
        replay = store.events_after(start)
    except TooOld as error:
        watch.end(statuses.expired(str(error)))
        return watch, []
    first = [line for event in replay if (line := watch.line_for(event))]
    watch.sent_rv = max(start, replay[-1].rv if replay else start)
    return watch, first


def _flag(value: str | None) -> bool | None:
    """A boolean query parameter: None when absent."""
    if value is None:
        return None
    return value.lower() not in ("0", "false")


def _begin(request: ListRequest) -> tuple[str, str] | None:
    return (request.namespace, "") if request.namespace is not None else None


def _check_watch_options(query: dict[str, str]) -> None:
    send = query.get("sendInitialEvents")
    match = query.get("resourceVersionMatch")
    causes: list[Cause] = []
    if send is not None and match != "NotOlderThan":
        causes.append(
            _forbidden("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
        )
    if match:
        if send is None:
            causes.append(
                _forbidden(
                    "resourceVersionMatch is forbidden for watch "
                    "unless sendInitialEvents is provided"
                )
            )
        if match != "NotOlderThan":
            causes.append(_unsupported(match, '"NotOlderThan"'))
        if query.get("continue"):
            causes.append(_forbidden("resourceVersionMatch is forbidden when continue is provided"))
    if causes:
        raise statuses.invalid_options("ListOptions", causes)
