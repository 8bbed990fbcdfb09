"""`podrunner COMMAND --help` explains every option: none is shown as a bare flag."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from services.cli import build_parser


def commands(
    parser: argparse.ArgumentParser, path: str = "podrunner"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{path} {name}")


def test_every_option_of_every_command_has_a_help_line() -> None:
    bare = [
        f"{path}: {action.option_strings[0] if action.option_strings else action.dest}"
        for path, parser in commands(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert bare == []


def test_the_help_of_submit_names_the_task_key_options() -> None:
    text = dict(commands(build_parser()))["podrunner submit"].format_help()
    assert "--dag-id D" in text
    assert "the task key: DAG" in text
