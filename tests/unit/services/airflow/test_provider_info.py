"""What Airflow's provider discovery reads of podrunner passes Airflow's own schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.airflow import provider


def test_the_provider_info_is_valid_and_lists_the_executor() -> None:
    airflow = pytest.importorskip("airflow")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = provider.get_provider_info()
    jsonschema.validate(info, schema)
    assert info["executors"] == ["services.airflow.executor.PodrunnerExecutor"]
    assert info["package-name"] == "podrunner"
