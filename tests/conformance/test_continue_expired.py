"""A continue token older than the history is 410 Expired carrying a token that continues anyway.

The new token resumes from the same key at the latest state: an inconsistent list, which the
client may accept instead of starting over.
"""

from __future__ import annotations

import pytest

from tests.conformance.conftest import Target, pod_body

CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)


@pytest.mark.kubesim_only
def test_an_expired_continue_token_is_410_with_a_token_for_the_rest(
    target: Target, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    for name in ("a", "b", "c"):
        assert target.http.post(path, json=pod_body(name)).status_code == 201
    first = target.http.get(path, params={"limit": "1"}).json()
    assert target.http.post(path, json=pod_body("d")).status_code == 201
    target.admin("POST", "compact")
    expired = target.http.get(
        path, params={"limit": "1", "continue": first["metadata"]["continue"]}
    )
    assert expired.status_code == 410
    status = expired.json()
    assert (status["reason"], status["message"]) == ("Expired", CONTINUE_TOO_OLD)
    inconsistent = status["metadata"]["continue"]
    rest = target.http.get(path, params={"continue": inconsistent})
    assert rest.status_code == 200, rest.text
    assert [item["metadata"]["name"] for item in rest.json()["items"]] == ["b", "c", "d"]
    assert int(rest.json()["metadata"]["resourceVersion"]) > int(
        first["metadata"]["resourceVersion"]
    )
