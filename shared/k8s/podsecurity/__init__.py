"""Pod security: whether a job's rendered pod may be created.

Three judgements, all on the pod as it will be created (template, podrunner's fields and the
job's override merged), never on the override alone:

* a Kubernetes Pod Security Standard (`standards.violations`, by `Level`);
* the operator's allowlists for what a job may change beyond its template: service account,
  images, volume types, Secrets and node placement (`allowlists`);
* label and annotation keys podrunner reserves for itself (`reserved`).
"""

from shared.k8s.podsecurity._types import Level, Violation
from shared.k8s.podsecurity.allowlists import Allowlists, Placement
from shared.k8s.podsecurity.judging import PodSecurity, judge, refusal
from shared.k8s.podsecurity.standards import violations

__all__ = [
    "Allowlists",
    "Level",
    "Placement",
    "PodSecurity",
    "Violation",
    "judge",
    "refusal",
    "violations",
]
