"""The `podrunner` command: the contract's subcommands, exit codes and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import services
from services import cli
from services.demo import embedded

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


def test_the_demo_refuses_fewer_than_one_task_with_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["demo", "--tasks", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--tasks must be 1 or more" in err


def test_the_demo_without_urls_or_embedded_servers_says_what_to_install_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PODRUNNER_REDIS_URL", raising=False)
    monkeypatch.delenv("PODRUNNER_DATABASE_URL", raising=False)
    monkeypatch.setattr(embedded, "PACKAGES", ("no_such_package_podrunner",))
    assert cli.main(["demo", "--tasks", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "podrunner[embedded]" in err


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


def test_bench_outside_a_source_checkout_says_so_in_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = tmp_path / "site-packages" / "services"
    installed.mkdir(parents=True)
    monkeypatch.setattr(services, "__file__", str(installed / "__init__.py"))
    assert cli.main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "podrunner bench needs a source checkout" in err
