"""A job put straight on the queue that names a template it may not is rejected by the launcher
with the same rule as at intake and dead-lettered; the reason quotes nothing of any file, and
jobs behind it still run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import publish, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster

#: A template that passes the restricted Pod Security Standard, as every template must.
POD = """kind: Pod
spec:
  nodeSelector: {pool: gpu}
  securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: base
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def test_templates_outside_the_directory_are_rejected_and_dead_lettered(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
    tmp_path: Path,
) -> None:
    # Given a template directory with one template and a link out of it
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "gpu.yaml").write_text(POD)
    (tmp_path / "secret.yaml").write_text("kind: Pod\nspec: {containers: [{name: top-secret}]}\n")
    (templates / "escape.yaml").symlink_to(tmp_path / "secret.yaml")
    run_launcher(pod_template_dir=str(templates))
    names = {
        "absolute": "/proc/self/status",
        "parent": "../secret.yaml",
        "escape": "escape.yaml",
        "missing": "missing.yaml",
        "zero": "/dev/zero",
        "good": "gpu.yaml",
    }
    # When jobs naming them are published straight to the queue
    for task_id, name in names.items():
        publish(jobs, namespace, builders.job(task_id=task_id, pod_template_file=name))

    # Expect each bad one rejected with its rule and dead-lettered, the good one created
    events = {e.key.task_id: e for e in wait_for_events(redis_client, keys, len(names))}
    assert events["good"].outcome is LaunchOutcome.CREATED
    (pod,) = cluster.pods(namespace)
    assert pod["spec"]["nodeSelector"] == {"pool": "gpu"}
    reasons = {task: e.reason for task, e in events.items() if task != "good"}
    assert all(events[task].outcome is LaunchOutcome.REJECTED for task in reasons)
    assert "must be a name inside the template directory" in reasons["absolute"]
    assert "must not contain '..'" in reasons["parent"]
    assert "must be a name inside the template directory" in reasons["zero"]
    no_such = "no such template in the template directory"
    assert reasons["escape"] == f"pod_template_file 'escape.yaml': {no_such}"
    assert reasons["missing"] == f"pod_template_file 'missing.yaml': {no_such}"
    assert not any("top-secret" in reason for reason in reasons.values())
    dead: Any = redis_client.xrange(keys.dead_letters)
    assert sorted(fields[b"error"].decode() for _, fields in dead) == sorted(reasons.values())
    assert jobs.depth(namespace) == 0
