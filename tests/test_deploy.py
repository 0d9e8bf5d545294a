"""The systemd units in deploy/ as systemd itself reads them (systemd-analyze verify), pointed at
this checkout's newsarchive instead of /opt/newsarchive."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
INSTALLED = "/opt/newsarchive/.venv/bin/newsarchive"
UNITS = sorted(p.name for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer"))


def verify(directory: Path) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze (apt install systemd)")
    return subprocess.run([analyze, "verify", "--man=no", *(f"./{name}" for name in UNITS)],
                          cwd=directory, capture_output=True, text=True, timeout=60)


def copied(tmp_path: Path) -> Path:
    here = str(Path(sys.executable).with_name("newsarchive"))
    for name in UNITS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALLED, here))
    return tmp_path


def test_the_units_parse_without_a_complaint(tmp_path: Path) -> None:
    assert UNITS == ["newsarchive-crawl@.service", "newsarchive-crawl@.timer", "newsarchive-worker@.service"]
    assert all(INSTALLED in (DEPLOY / n).read_text() for n in UNITS if n.endswith(".service"))
    done = verify(copied(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr


def test_a_mistyped_directive_is_caught(tmp_path: Path) -> None:
    units = copied(tmp_path)
    worker = units / "newsarchive-worker@.service"
    worker.write_text(worker.read_text().replace("RestartSec=5", "RestartSec=five"))
    assert "Failed to parse sec value" in verify(units).stderr


@pytest.mark.parametrize("command", [["crawl", "--help"], ["worker", "--help"]])
def test_the_units_commands_exist(command: list[str]) -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("newsarchive")), *command],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
