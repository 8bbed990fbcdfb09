"""Hostile jobs, submitted through the API and straight onto the queue, are refused by pod
security: each row fails with the control and path it broke, each message is dead-lettered, no pod
is created for any of them, and an ordinary job among them still succeeds."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy

from shared.messages import Job
from shared.messaging.keys import RedisKeys
from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess, free_port
from tests.support.services import API_HEADERS

pytestmark = pytest.mark.timeout(150)


def base(**fields: Any) -> dict[str, Any]:
    """An override of the `base` container."""
    return {"pod_override": {"spec": {"containers": [{"name": "base", **fields}]}}}


def base_context(**context: Any) -> dict[str, Any]:
    return base(securityContext=context)


def spec(**fields: Any) -> dict[str, Any]:
    return {"pod_override": {"spec": fields}}


BASE = "spec.containers[0]"
SECRET_ENV = {
    "name": "STOLEN",
    "valueFrom": {"secretKeyRef": {"name": "podrunner-secrets", "key": "database-url"}},
}
#: case → (job fields, the refusal after `pod security "restricted": `)
ATTACKS: dict[str, tuple[dict[str, Any], str]] = {
    "control-plane-account": (
        spec(serviceAccountName="podrunner-reconciler", automountServiceAccountToken=True),
        'serviceAccount: spec.serviceAccountName "podrunner-reconciler" is not in '
        "PODRUNNER_JOB_SERVICE_ACCOUNTS (and 1 more)",
    ),
    "secret-volume": (
        spec(volumes=[{"name": "s", "secret": {"secretName": "podrunner-secrets"}}]),
        "volumeType: spec.volumes[1].secret secret is not in PODRUNNER_JOB_VOLUME_TYPES "
        "(and 1 more)",
    ),
    "secret-env": (
        base(env=[SECRET_ENV]),
        f'secret: {BASE}.env[0].valueFrom.secretKeyRef.name "podrunner-secrets" is not in '
        "PODRUNNER_JOB_SECRETS",
    ),
    "root-user": (
        base_context(runAsUser=0),
        f"runAsUser: {BASE}.securityContext.runAsUser must not be 0",
    ),
    "privilege-escalation": (
        base_context(allowPrivilegeEscalation=True),
        f"allowPrivilegeEscalation: {BASE}.securityContext.allowPrivilegeEscalation must be false",
    ),
    "privileged": (
        base_context(privileged=True),
        f"privileged: {BASE}.securityContext.privileged must be false",
    ),
    "unmasked-proc": (
        base_context(procMount="Unmasked"),
        f"procMount: {BASE}.securityContext.procMount must be Default",
    ),
    "seccomp-unconfined": (
        spec(securityContext={"seccompProfile": {"type": "Unconfined"}}),
        "seccompProfile: spec.securityContext.seccompProfile.type must be RuntimeDefault or "
        'Localhost, not "Unconfined" (and 1 more)',
    ),
    "sysctls": (
        spec(securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}),
        'sysctls: spec.securityContext.sysctls[0].name "kernel.msgmax" is not a safe sysctl',
    ),
    "selinux": (
        base_context(seLinuxOptions={"type": "spc_t"}),
        f"seLinuxOptions: {BASE}.securityContext.seLinuxOptions.type must be container_t, "
        "container_init_t or container_kvm_t",
    ),
    "host-port": (
        base(ports=[{"containerPort": 8080, "hostPort": 80}]),
        f"hostPorts: {BASE}.ports[0].hostPort must be unset or 0",
    ),
    "apparmor-unconfined": (
        {
            "pod_override": {
                "metadata": {
                    "annotations": {
                        "container.apparmor.security.beta.kubernetes.io/base": "unconfined"
                    }
                }
            }
        },
        'appArmorProfile: metadata.annotations["container.apparmor.security.beta.kubernetes.io/'
        'base"] must be runtime/default or localhost/*',
    ),
    "nfs-volume": (
        spec(volumes=[{"name": "n", "nfs": {"server": "10.0.0.1", "path": "/"}}]),
        "restrictedVolumes: spec.volumes[1].nfs is not an allowed volume type (and 1 more)",
    ),
    "node-name": (
        spec(nodeName="control-plane-1"),
        "placement: spec.nodeName is not in PODRUNNER_JOB_PLACEMENT",
    ),
    "tolerations": (
        spec(tolerations=[{"operator": "Exists"}]),
        "placement: spec.tolerations is not in PODRUNNER_JOB_PLACEMENT",
    ),
    "foreign-image": (
        {"image": "evil.example/miner:latest"},
        f'image: {BASE}.image "evil.example/miner:latest" matches no PODRUNNER_JOB_IMAGES pattern',
    ),
    "hardening-stripped": (
        spec(securityContext=None),
        f"runAsNonRoot: {BASE}.securityContext.runAsNonRoot must be true "
        "(or spec.securityContext.runAsNonRoot) (and 1 more)",
    ),
    "reconciler-label": (
        {"labels": {"app.kubernetes.io/component": "reconciler"}},
        'reservedKey: labels["app.kubernetes.io/component"] is podrunner\'s to set',
    ),
}


def post(port: int, job: Job) -> None:
    url = f"http://127.0.0.1:{port}/api/v1/jobs"
    response = httpx.post(url, content=job.encode(), timeout=10, headers=API_HEADERS)
    assert response.status_code == 201, response.text


def dead_letter_errors(redis_url: str, instance: str, count: int) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    keys = RedisKeys(instance)
    deadline = time.monotonic() + 20
    while client.xlen(keys.dead_letters) < count:
        assert time.monotonic() < deadline, "the refused jobs were not all dead-lettered"
        time.sleep(0.1)
    records: Any = client.xrange(keys.dead_letters)
    client.close()
    return [fields[b"error"].decode() for _, fields in records]


def test_hostile_jobs_are_refused_with_their_reason_and_no_pod_while_a_good_job_succeeds(
    services: Stack,
    db: sqlalchemy.Engine,
    redis_url: str,
    kubesim: KubesimProcess,
    stack_env: dict[str, str],
) -> None:
    # Given the services, keeping finished pods so that every pod ever created can be counted
    port = free_port()
    keep = {"PODRUNNER_DELETE_WORKER_PODS": "false"}
    services.start("reconciler", PODRUNNER_HEALTH_PORT=str(port), **keep)
    services.start("watcher", **keep)
    services.start("launcher", **keep)
    # When every attack is submitted through the API and straight onto the queue, among good jobs
    post(port, tasks.job("api-good"))
    for case, (fields, _reason) in ATTACKS.items():
        post(port, tasks.job(f"api-{case}", **fields))
        tasks.publish_raw(redis_url, tasks.job(f"queue-{case}", **fields).encode())
    tasks.publish_raw(redis_url, tasks.job("queue-good").encode())

    # Expect each attack's row failed with its reason, and the good jobs succeeded
    rows = tasks.wait_terminal(db, 2 * len(ATTACKS) + 2, timeout_s=90)
    assert (rows["api-good"].state, rows["queue-good"].state) == ("success", "success")
    expected = {
        f"{channel}-{case}": f'rejected: pod security "restricted": {reason}'
        for case, (_fields, reason) in ATTACKS.items()
        for channel in ("api", "queue")
    }
    refused = {task: row for task, row in rows.items() if not task.endswith("-good")}
    assert {task: row.state for task, row in refused.items()} == dict.fromkeys(expected, "failed")
    assert {task: row.failure_reason for task, row in refused.items()} == expected
    # and every refused job dead-lettered with that reason, and no pod but the good jobs'
    errors = dead_letter_errors(redis_url, stack_env["PODRUNNER_INSTANCE"], len(expected))
    assert sorted(f"rejected: {e}" for e in errors) == sorted(expected.values())
    pod_tasks = {
        p["metadata"]["annotations"]["podrunner.io/task-id"] for p in tasks.pods(kubesim.url)
    }
    assert pod_tasks == {"api-good", "queue-good"}
