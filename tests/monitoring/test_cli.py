"""`kurobara providers list|check` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kurobara.cli import app
from tests.monitoring.sites import PingSite


@pytest.fixture
def env(tmp_path: Path, sites: list[PingSite], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump([s.definition(s.name) for s in sites]))
    for name, value in {
        "KUROBARA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_PROVIDERS_FILE": str(path),
        "KUROBARA_CHECK_TIMEOUT": "1",
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("env")
def test_check_all_then_list_shows_status(sites: list[PingSite]) -> None:
    sites[1].set_fault("error")
    runner = CliRunner()
    checked = runner.invoke(app, ["providers", "check", "--all"])
    assert checked.exit_code == 1, checked.output
    assert "1 of 2 checks failed" in checked.output
    listed = runner.invoke(app, ["providers", "list"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    lines = {line.split("│")[1].strip(): line for line in listed.output.splitlines()
             if line.count("│") > 3}  # fmt: skip
    assert "active" in lines["site0"]
    assert "100%" in lines["site0"]
    assert "unknown" in lines["site1"]  # one failure is below the threshold
    assert "http_status" in lines["site1"]


@pytest.mark.usefixtures("env")
def test_check_named_providers_and_refuse_unknown_ones() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["providers", "check", "site0"]).exit_code == 0
    unknown = runner.invoke(app, ["providers", "check", "nope"])
    assert unknown.exit_code == 2
    assert runner.invoke(app, ["providers", "check"]).exit_code == 2
