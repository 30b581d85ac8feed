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


@pytest.mark.usefixtures("env")
def test_the_list_stays_readable_at_80_columns(
    sites: list[PingSite], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    sites[1].set_fault("error")
    runner = CliRunner()
    runner.invoke(app, ["providers", "check", "--all"])
    listed = runner.invoke(app, ["providers", "list"], terminal_width=80)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert all(len(line) <= 80 for line in lines), listed.output
    table = [line for line in lines if line.count("│") > 3]
    assert "…" not in "".join(table), listed.output  # no cell cut short
    rows = {line.split("│")[1].strip(): line for line in table}
    assert "active" in rows["site0"]
    assert "100%" in rows["site0"]
    # The error follows the table, in words, where it can wrap.
    below = " ".join(lines[lines.index(next(line for line in lines if "└" in line)) + 1 :])
    assert "site1: The site has a problem of its own (HTTP 500)" in below
    assert "http_status at health: " in below  # and the raw error, with its stage, under it
