"""An invalid ``KUROBARA_*`` setting stops every command with a line that names it, before the
command does anything, instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kurobara.cli import app


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("KUROBARA_DATABASE_POOL_TIMEOUT", "0", "greater than 0"),
        ("KUROBARA_PORT", "http", "valid integer"),
        ("KUROBARA_WORKERS", "65", "less than or equal to 64"),
    ],
)
def test_an_invalid_setting_is_named_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KUROBARA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["migrate"], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"{name}: " in result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "data").exists()  # the database was never created
