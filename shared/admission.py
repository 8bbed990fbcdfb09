"""Whether a job can be stored and served: the checks every way in shares.

A job that decodes may still not fit its `task_instance` row: Postgres `integer` columns hold 32
bits, and text (and jsonb) can hold no NUL character. Left unchecked, such a job fails at the
insert, deep in a transaction it shares with innocent jobs. So the API, `podrunner submit`, the
launcher and the reconciler all ask the same questions here, before anything is written, and
refuse with the field at fault. Intake also refuses a namespace no podrunner serves, since no
launcher would ever take its job.

A job may name a pod template file only as a relative name inside the operator's template
directory (`PODRUNNER_POD_TEMPLATE_DIR`), and only when one is set: `check_template_name` is
the syntax half of that rule, judged on the name alone so that its answer reveals nothing about
the launcher's files; `shared.k8s.template_files` enforces the rest where the file is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import msgspec

from shared.messages import Job, TaskKey

#: Largest and smallest values of a Postgres `integer` column.
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
#: Job fields stored in `integer` columns.
INTEGER_FIELDS = ("map_index", "try_number", "priority")
_KEY_TEXT = ("dag_id", "task_id", "run_id")
#: Longest template name a job may give.
TEMPLATE_NAME_MAX = 255
#: A template name: `/`-separated segments of letters, digits, `.`, `_`, `-`, none starting with
#: `.` (so no `..`, no hidden files, no Kubernetes `..data` link of a mounted ConfigMap).
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
#: The field a template name is given in.
TEMPLATE_FIELD = "pod_template_file"


class Refused(ValueError):
    """A job refused before anything was written; `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid job: {field}: {reason}")
        self.field = field
        self.reason = reason


class Unfit(Refused):
    """The job is valid but its row cannot hold it (32-bit integers, no NUL in text)."""


class Unserved(Refused):
    """The job's namespace is not one this podrunner serves."""


def check_fits(job: Job) -> None:
    """Refuse a job its row cannot store, naming the field.

    Raises:
        Unfit: an integer outside 32 bits, a NUL character in text, a number that is not finite.
    """
    for name in INTEGER_FIELDS:
        check_integer(name, getattr(job, name))
    if _fits(msgspec.structs.asdict(job)):  # the usual answer, found without building the paths
        return
    for field, value in _leaves(job.to_dict()):
        check_text(field, value)
        if isinstance(value, float) and not math.isfinite(value):
            raise Unfit(field, "numbers must be finite")


def check_key_fits(key: TaskKey, try_number: int) -> None:
    """Refuse a task key (and try) its row cannot store: what even a rejection needs to be
    recorded.

    Raises:
        Unfit: naming the key field at fault.
    """
    for name in _KEY_TEXT:
        check_text(name, getattr(key, name))
    check_integer("map_index", key.map_index)
    check_integer("try_number", try_number)


def check_text(field: str, value: Any) -> None:
    """Raises `Unfit` when `value` is text holding a NUL character."""
    if isinstance(value, str) and "\x00" in value:
        raise Unfit(field, "text cannot contain NUL characters")


def check_integer(field: str, value: int) -> None:
    """Raises `Unfit` when `value` does not fit a Postgres `integer`."""
    if not INT_MIN <= value <= INT_MAX:
        raise Unfit(field, f"must be between {INT_MIN} and {INT_MAX}")


def check_template_name(name: str | None, *, template_dir: Path | None) -> None:
    """Refuse a job's `pod_template_file` that is not a plain relative name in the template
    directory, or any name while there is no such directory.

    Raises:
        Refused: naming `pod_template_file` and the rule broken (never anything on disk).
    """
    if name is None:
        return
    if template_dir is None:
        raise Refused(
            TEMPLATE_FIELD,
            "jobs may not name a pod template here (PODRUNNER_POD_TEMPLATE_DIR is not set)",
        )
    if name.startswith("/"):
        raise Refused(
            TEMPLATE_FIELD, "must be a name inside the template directory, not an absolute path"
        )
    if ".." in name.split("/"):
        raise Refused(TEMPLATE_FIELD, "must not contain '..'")
    if len(name) > TEMPLATE_NAME_MAX or _TEMPLATE_NAME.fullmatch(name) is None:
        raise Refused(
            TEMPLATE_FIELD,
            f"must be at most {TEMPLATE_NAME_MAX} characters of "
            "'/'-separated letters, digits, '.', '_' and '-', no part starting with '.'",
        )


def served_namespace(job: Job, *, default: str, served: Collection[str]) -> str:
    """The namespace `job` runs in (its own, else `default`), if it is one of `served`.

    Raises:
        Unserved: naming the namespace and the ones served.
    """
    namespace = job.namespace or default
    if namespace not in served:
        names = ", ".join(sorted(served))
        raise Unserved("namespace", f"{namespace!r} is not served here (served: {names})")
    return namespace


def _fits(value: Any) -> bool:
    """Whether nothing in `value` is text with a NUL or a number that is not finite."""
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_fits(key) and _fits(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_fits(item) for item in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every key and leaf value in `value`, each with its dotted path."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, key
            yield from _leaves(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}.{index}")
    else:
        yield path, value
