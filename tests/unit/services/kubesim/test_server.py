"""kubesim's kubeconfig: the server address in it is one its clients can reach.

Bound to 0.0.0.0 in a container (docker compose), kubesim must write the name the other containers
know it by, not the bind address; `--advertise-address` says which.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services import cli
from services.kubesim import server

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - as kubesim listens in a container


def test_the_kubeconfig_names_the_bind_host_when_nothing_is_advertised() -> None:
    settings = server.SimulatorSettings(host="127.0.0.1", port=7001)
    assert server.client_url(settings) == "http://127.0.0.1:7001"


def test_an_advertised_address_replaces_the_bind_host_in_the_kubeconfig() -> None:
    settings = server.SimulatorSettings(
        host=EVERY_INTERFACE, port=6443, advertise_address="kubesim"
    )
    assert server.client_url(settings) == "http://kubesim:6443"


def test_an_ipv6_address_is_bracketed_in_the_url() -> None:
    settings = server.SimulatorSettings(host="::", port=6443, advertise_address="fd00::5")
    assert server.client_url(settings) == "http://[fd00::5]:6443"


def test_the_cli_writes_the_advertised_address_into_the_kubeconfig(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def write_instead_of_serving(settings: server.SimulatorSettings, out: Path | None) -> None:
        assert out is not None
        server.write_kubeconfig(out, server.client_url(settings), settings.token)

    monkeypatch.setattr(server, "serve", write_instead_of_serving)
    out = tmp_path / "kube" / "config"
    argv = ["kubesim", "--host", EVERY_INTERFACE, "--port", "6443", "--kubeconfig-out", str(out)]
    assert cli.main([*argv, "--advertise-address", "kubesim"]) == 0
    config = yaml.safe_load(out.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "http://kubesim:6443"
