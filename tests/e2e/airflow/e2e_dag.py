"""The DAG of the Airflow end-to-end test: each task proves one thing about podrunner running it.

- `succeeds`: a task runs in its pod and its success reaches Airflow.
- `fails_once`: its first try fails, and its second (a new pod) succeeds.
- `squares`: a mapped task of three, each map index its own pod.
- `overridden`: its `pod_override` puts a variable into its container's environment; the task
  fails without it, and returns it (as its XCom) with it.

The test copies this file into the dags folder of its Airflow home, and never imports it.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, get_current_context, task
from kubernetes.client import models as k8s

DAG_ID = "podrunner_e2e"
#: The variable the pod override sets, and its value.
MARK = "PODRUNNER_E2E_MARK"
MARK_VALUE = "set by pod_override"

OVERRIDE = k8s.V1Pod(
    spec=k8s.V1PodSpec(
        containers=[k8s.V1Container(name="base", env=[k8s.V1EnvVar(name=MARK, value=MARK_VALUE)])]
    )
)

with DAG(dag_id=DAG_ID, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):

    @task
    def succeeds() -> str:
        return "ok"

    @task(retries=1, retry_delay=timedelta(seconds=1))
    def fails_once() -> int:
        try_number: int = get_current_context()["ti"].try_number
        if try_number == 1:
            raise RuntimeError("the first try fails on purpose")
        return try_number

    @task
    def squares(number: int) -> int:
        return number * number

    @task(executor_config={"pod_override": OVERRIDE})
    def overridden() -> str:
        return os.environ[MARK]

    succeeds()
    fails_once()
    squares.expand(number=[1, 2, 3])
    overridden()
