"""kubesim's label and field selectors match and refuse as the API server does."""

from __future__ import annotations

from typing import Any

import pytest

from services.kubesim import selectors
from services.kubesim.selectors import SelectorError

LABELS = {"app": "web", "tier": "batch", "rank": "7", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("", True, id="empty-selects-everything"),
        pytest.param("app=web", True, id="equals"),
        pytest.param("app==web", True, id="double-equals"),
        pytest.param("app=db", False, id="equals-other-value"),
        pytest.param("app!=db", True, id="not-equals"),
        pytest.param("missing!=x", True, id="not-equals-matches-absent-label"),
        pytest.param("app in (web, db)", True, id="in"),
        pytest.param("app in (db)", False, id="in-other"),
        pytest.param("missing in (x)", False, id="in-needs-the-label"),
        pytest.param("app notin (db)", True, id="notin"),
        pytest.param("missing notin (x)", True, id="notin-matches-absent-label"),
        pytest.param("empty", True, id="exists-with-empty-value"),
        pytest.param("!missing", True, id="does-not-exist"),
        pytest.param("!app", False, id="does-not-exist-but-does"),
        pytest.param("rank>5", True, id="greater-than"),
        pytest.param("rank<5", False, id="less-than"),
        pytest.param("app>5", False, id="unparsable-value-does-not-match"),
        pytest.param("app=web, tier in (batch), !missing", True, id="anded-with-spaces"),
        pytest.param("app=web,tier=online", False, id="one-requirement-fails"),
        pytest.param("empty=", True, id="equals-empty-value"),
    ],
)
def test_label_selectors_match_like_the_api_server(selector: str, expected: bool) -> None:
    assert selectors.parse_labels(selector).matches(LABELS) is expected


@pytest.mark.parametrize(
    "selector",
    [
        pytest.param("app in (a", id="unclosed-set"),
        pytest.param("app in a)", id="set-without-parenthesis"),
        pytest.param("=web", id="no-key"),
        pytest.param("app=web,,tier=b", id="empty-requirement"),
        pytest.param("app=bad value!", id="invalid-value"),
        pytest.param("-app=web", id="invalid-key"),
        pytest.param("rank>five", id="non-integer-bound"),
        pytest.param("!app in (a)", id="negated-set"),
    ],
)
def test_malformed_label_selectors_are_refused(selector: str) -> None:
    with pytest.raises(SelectorError, match="unable to parse requirement"):
        selectors.parse_labels(selector)


POD: dict[str, Any] = {
    "metadata": {"name": "p1", "namespace": "jobs"},
    "spec": {"restartPolicy": "Never"},
    "status": {"phase": "Pending"},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("metadata.name=p1", True, id="name"),
        pytest.param("metadata.name==p2", False, id="other-name"),
        pytest.param("status.phase!=Running", True, id="phase-not"),
        pytest.param("spec.nodeName=", True, id="unscheduled"),
        pytest.param("spec.nodeName!=", False, id="scheduled"),
        pytest.param("spec.host=", True, id="legacy-host-alias"),
        pytest.param("spec.hostNetwork=false", True, id="host-network-as-text"),
        pytest.param("metadata.namespace=jobs,status.phase=Pending", True, id="anded"),
    ],
)
def test_field_selectors_match_pods(selector: str, expected: bool) -> None:
    assert selectors.parse_fields(selector).matches(selectors.pod_fields(POD)) is expected


def test_an_unsupported_field_is_refused_with_the_servers_message() -> None:
    with pytest.raises(SelectorError, match=r"^field label not supported: spec\.foo$"):
        selectors.parse_fields("spec.foo=bar")


def test_set_syntax_in_a_field_selector_is_refused() -> None:
    with pytest.raises(SelectorError, match=r"can't understand 'status\.phase in"):
        selectors.parse_fields("status.phase in (Running)")


def test_an_equality_term_tells_its_value() -> None:
    assert selectors.parse_fields("metadata.name=p1").value_of("metadata.name") == "p1"
    assert selectors.parse_fields("metadata.name!=p1").value_of("metadata.name") is None
