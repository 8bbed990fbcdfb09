"""The Dockerfile read as data: its build arguments and its stages, each with what it inherits.

There is no Docker engine where the tests run, so the Dockerfile is checked by reading it. This
parser knows the subset the file uses: comments, `\\` continuation lines, global `ARG`s before
the first `FROM` (with `${NAME}` substituted in `FROM`), and `FROM <image or stage> AS <name>`.
A stage built `FROM` an earlier stage inherits that stage's instructions, so `chain()` gives the
instructions an image really carries, oldest first.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass(frozen=True)
class Stage:
    """One `FROM` and what follows it; `base` is an image, or the name of an earlier stage."""

    name: str | None
    base: str
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]


@dataclass(frozen=True)
class Dockerfile:
    arguments: dict[str, str]
    stages: tuple[Stage, ...]

    def stage(self, name: str) -> Stage:
        (found,) = [stage for stage in self.stages if stage.name == name]
        return found

    def chain(self, name: str) -> list[Stage]:
        """The stage `name` and every stage it is built from, the first ancestor first."""
        stages = [self.stage(name)]
        names = {stage.name for stage in self.stages}
        while stages[0].base in names:
            stages.insert(0, self.stage(stages[0].base))
        return stages

    def carried(self, name: str, keyword: str) -> list[str]:
        """Every `keyword` instruction the image of stage `name` carries, inherited ones first."""
        return [arguments for stage in self.chain(name) for arguments in stage.all(keyword)]


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return lines


def _substitute(text: str, arguments: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: arguments[m.group(1) or m.group(2)], text)


@functools.cache
def parse(path: Path = DOCKERFILE) -> Dockerfile:
    arguments: dict[str, str] = {}
    stages: list[tuple[str | None, str, list[Instruction]]] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = _substitute(rest, arguments).split()
            named = len(words) == 3 and words[1].upper() == "AS"
            assert len(words) == 1 or named, f"unsupported FROM {rest!r}"
            stages.append((words[2] if named else None, words[0], []))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = rest.partition("=")
            arguments[name] = default
        else:
            stages[-1][2].append(Instruction(keyword, rest))
    return Dockerfile(arguments, tuple(Stage(n, b, tuple(i)) for n, b, i in stages))
