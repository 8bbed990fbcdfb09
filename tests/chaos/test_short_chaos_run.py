"""The short chaos run: a few hundred tasks under every fault, and not one lost, doubled or leaked.

The same run as `make chaos`, smaller: its figures line is printed (see the test's output) and
any loss, wrong state, task run twice, leak or crash fails it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.chaos import run


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_short_chaos_run_loses_nothing_runs_nothing_twice_and_leaks_nothing(
    postgres_admin_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = postgres_admin_url.render_as_string(hide_password=False)
    arguments = ["--tasks", "300", "--seconds", "30", "--seed", "20261203"]
    arguments += ["--database-url", admin, "--workdir", str(tmp_path), "--drain", "150"]
    code = run.main(arguments)
    output = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + "\n".join(line for line in output.splitlines() if "chaos:" in line))
    assert code == 0, output[-4000:]
