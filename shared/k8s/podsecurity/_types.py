"""The vocabulary of pod security: levels, one breach of a control, and a control's check."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


class Level(enum.StrEnum):
    """A Kubernetes Pod Security Standard; each level includes every control of the one before."""

    PRIVILEGED = "privileged"
    BASELINE = "baseline"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class Violation:
    """One breach: the control (or operator rule) broken, where in the pod, and what it must be."""

    control: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.control}: {self.path} {self.detail}"


#: A check yields every breach of its control in a whole pod manifest.
Check = Callable[[Mapping[str, Any]], Iterator[Violation]]
