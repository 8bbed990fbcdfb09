"""The production image leaves kubesim and the demo out; their subcommands then say so in a line.

The Dockerfile's `prod` stage never copies `services/kubesim` or `services/demo`, so there those
imports fail. Here the same absence is made by blocking the two packages in `sys.modules` (an
import of a name mapped to None fails as a missing module would), and the command line must
answer with exit code 2 and one line naming what is missing, never a traceback.
"""

from __future__ import annotations

import sys

import pytest

from services import cli

pytestmark = pytest.mark.timeout(5)


@pytest.mark.parametrize(
    ("argv", "package", "named"),
    [
        pytest.param(["kubesim"], "services.kubesim", "kubesim", id="kubesim"),
        pytest.param(["demo", "--tasks", "1"], "services.demo", "the demo", id="demo"),
    ],
)
def test_a_subcommand_left_out_of_the_image_fails_with_one_line(
    argv: list[str],
    package: str,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err == f"podrunner: {named} is not in this image: it ships with the dev image only\n"
