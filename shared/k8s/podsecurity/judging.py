"""The verdict on a job's pod: its level's controls, the operator's allowlists, reserved keys.

The launcher renders a job's pod, then asks `judge` whether it may be created. To tell what the
job changed from what the operator set, the same job is rendered a second time without its image,
labels, annotations and override: that pod holds only the template's and podrunner's parts.
A refusal is one line naming the level, the first control broken and its path, and how many more
breaches there were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from shared.k8s import rendering, template_files
from shared.k8s.podsecurity import allowlists, reserved, standards
from shared.k8s.podsecurity._types import Level, Violation
from shared.messages import Job


@dataclass(frozen=True)
class PodSecurity:
    """The level every pod must meet, and what a job may change beyond the template."""

    level: Level
    allow: allowlists.Allowlists


def judge(
    job: Job,
    pod: Mapping[str, Any],
    *,
    security: PodSecurity,
    render: rendering.RenderSettings,
    templates: template_files.Templates,
) -> list[Violation]:
    """Every reason `pod`, rendered from `job`, may not be created (none: it may)."""
    # A job with neither image nor override changes nothing of its pod but the labels and
    # annotations it adds, which `reserved` checks on the job itself: its own pod stands in for
    # the operator's, and the usual job costs one render, not two.
    plain = job.image is None and job.pod_override is None
    operator_pod = pod if plain else operator_pod_of(job, render=render, templates=templates)
    return [
        *standards.violations(pod, security.level),
        *(
            ()
            if operator_pod is pod
            else allowlists.job_violations(pod, operator_pod=operator_pod, allow=security.allow)
        ),
        *reserved.job_violations(
            labels=job.labels,
            annotations=job.annotations,
            override=job.pod_override,
            pod=pod,
            operator_pod=operator_pod,
        ),
    ]


def operator_pod_of(
    job: Job, *, render: rendering.RenderSettings, templates: template_files.Templates
) -> dict[str, Any]:
    """The pod `job` renders to without anything but its key, command and template."""
    bare = msgspec.structs.replace(
        job, image=None, labels=None, annotations=None, pod_override=None
    )
    return rendering.render_pod(bare, settings=render, templates=templates)


def refusal(level: Level, violations: list[Violation]) -> str:
    """One line: the level, the first breach, and how many others there are."""
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return f'pod security "{level}": {violations[0]}{more}'
