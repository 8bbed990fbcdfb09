"""A label selector with a bad key or value is a 400 in the server's words, word for word."""

from __future__ import annotations

import pytest

from tests.conformance.conftest import Target

NAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param("-bad=x", f'key: Invalid value: "-bad": name part {NAME_RULE}', id="key"),
        pytest.param("app=-v", f'values[0][app]: Invalid value: "-v": {VALUE_RULE}', id="value"),
        pytest.param(
            "rank>high",
            "values[0]: Invalid value: \"high\": for 'Gt', 'Lt' operators, the value must be an "
            "integer",
            id="not-an-integer",
        ),
        pytest.param(
            "app in (ok, -b, -a)",
            f'[values[0][app]: Invalid value: "-a": {VALUE_RULE}, '
            f'values[1][app]: Invalid value: "-b": {VALUE_RULE}]',
            id="several-in-sorted-order",
        ),
    ],
)
def test_a_bad_label_requirement_is_400_with_the_servers_message(
    target: Target, namespace: str, selector: str, message: str
) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": selector}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["reason"] == "BadRequest"
    assert body["message"] == f"unable to parse requirement: {message}"
