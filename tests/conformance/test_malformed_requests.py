"""Whatever a client sends, the answer is the server's error, never a 500 or a dropped stream."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conformance.conftest import Target, pod_body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
pod_like = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["Pod", "Deployment", 7]),
        "metadata": st.dictionaries(
            st.sampled_from(["name", "labels", "namespace", "finalizers", "resourceVersion"]),
            json_values,
            max_size=3,
        ),
        "spec": st.dictionaries(
            st.sampled_from(["containers", "restartPolicy", "nodeName"]), json_values, max_size=3
        ),
    },
)
PATCH_TYPES = [
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
]


def acceptable(status: int) -> bool:
    return status < 500


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=pod_like | json_values)
def test_create_never_answers_500_for_a_malformed_body(
    target: Target, namespace: str, body: Any
) -> None:
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    rv_on_create = isinstance(body, dict) and (body.get("metadata") or {}).get("resourceVersion")
    assert acceptable(response.status_code) or rv_on_create, response.text
    assert response.headers["content-type"].startswith("application/json")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patch=json_values, content_type=st.sampled_from(PATCH_TYPES))
def test_patch_never_answers_500_for_a_malformed_patch(
    target: Target, namespace: str, patch: Any, content_type: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods/p1"
    if target.http.get(path).status_code == 404:
        target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("p1"))
    response = target.http.patch(path, json=patch, headers={"Content-Type": content_type})
    assert acceptable(response.status_code), response.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "labelSelector",
                "fieldSelector",
                "resourceVersion",
                "limit",
                "continue",
                "resourceVersionMatch",
                "timeoutSeconds",
            ]
        ),
        st.text(max_size=30),
        max_size=4,
    )
)
def test_list_never_answers_500_for_odd_parameters(
    target: Target, namespace: str, params: dict[str, str]
) -> None:
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods", params=params)
    assert acceptable(response.status_code) or response.status_code == 504, response.text


def test_a_value_of_the_wrong_type_is_400_naming_the_field(target: Target, namespace: str) -> None:
    body = pod_body("p1")
    body["spec"]["containers"] = True
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith(
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal'
    )
    assert "spec.containers" in message


def test_a_null_container_is_an_empty_one_and_422_says_what_it_lacks(
    target: Target, namespace: str
) -> None:
    body = pod_body("p1")
    body["spec"]["containers"].append(None)
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 422, response.text
    fields = {cause["field"] for cause in response.json()["details"]["causes"]}
    assert fields == {"spec.containers[1].name", "spec.containers[1].image"}


def test_an_unknown_field_is_accepted_with_a_warning(target: Target, namespace: str) -> None:
    body = pod_body("p1")
    body["spec"]["frobnicate"] = 1
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 201
    assert 'unknown field \\"spec.frobnicate\\"' in response.headers["warning"]


def test_an_unknown_field_under_strict_validation_is_400(target: Target, namespace: str) -> None:
    body = pod_body("p1")
    body["spec"]["frobnicate"] = 1
    response = target.http.post(
        f"/api/v1/namespaces/{namespace}/pods", params={"fieldValidation": "Strict"}, json=body
    )
    assert response.status_code == 400
    assert response.json()["message"] == 'strict decoding error: unknown field "spec.frobnicate"'
