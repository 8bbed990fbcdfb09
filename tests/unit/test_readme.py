"""The README stays true: every setting is documented, and the set-up commands are shown."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_setting_appears_in_the_readme_table() -> None:
    missing = [
        f"PODRUNNER_{name.upper()}"
        for name in Settings.model_fields
        if f"| `PODRUNNER_{name.upper()}` |" not in README
    ]
    assert not missing


def test_the_two_set_up_commands_are_shown() -> None:
    assert "make demo" in README
    assert "make test" in README
