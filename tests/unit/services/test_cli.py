"""The `podrunner` command: the contract's subcommands, exit codes and one-line errors."""

from __future__ import annotations

import pytest

from services import cli

CONTRACT = [
    "launcher",
    "watcher",
    "reconciler",
    "kubesim",
    "db",
    "submit",
    "status",
    "render-pod",
    "cleanup-pods",
    "demo",
]


def test_help_lists_every_subcommand_of_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in CONTRACT)


def test_an_unknown_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_a_subcommand_not_built_yet_says_so_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["demo", "--tasks", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not available in this version yet" in err


def test_watcher_namespaces_and_all_namespaces_exclude_each_other() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["watcher", "--namespace", "a", "--all-namespaces"])
    assert exited.value.code == 2


def test_invalid_settings_exit_2_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PODRUNNER_LAUNCH_QPS", "-5")
    assert cli.main(["db", "upgrade"]) == 2
    assert "PODRUNNER_LAUNCH_QPS" in capsys.readouterr().err


def test_db_upgrade_without_a_database_url_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PODRUNNER_DATABASE_URL", raising=False)
    assert cli.main(["db", "upgrade"]) == 2
    assert "PODRUNNER_DATABASE_URL is not set" in capsys.readouterr().err
