"""The systemd unit and the launchd plist of scripts/: parsed, not just read.

The wrapper script is run for real in tests/integration/test_observability.py.
"""

from __future__ import annotations

import configparser
import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "scripts" / "systemd" / "live-trading.service"
PLISTS = sorted((ROOT / "scripts" / "launchd").glob("*.plist"))
WRAPPER = ROOT / "scripts" / "service-start.sh"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_recovers_before_it_runs_and_restarts_on_failure() -> None:
    service = _unit()["Service"]
    assert service["Type"] == "simple"
    pre, start = service["ExecStartPre"].split(), service["ExecStart"].split()
    assert Path(pre[0]).name == "live-trading" and pre[1:] == ["recover"]
    assert Path(start[0]).name == "live-trading" and start[1:] == ["run"]
    assert service["Restart"] == "on-failure"
    assert float(service["RestartSec"]) > 0
    assert service["User"] not in ("", "root")
    assert service["EnvironmentFile"].startswith("/")
    assert Path(service["WorkingDirectory"]).is_absolute()
    assert Path(start[0]).parent.parent.parent == Path(service["WorkingDirectory"])


def test_the_unit_starts_at_boot_after_the_network() -> None:
    unit = _unit()
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"].split()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on a copy pointing at this checkout (it
    checks that the commands exist and that every setting parses)."""
    text = UNIT.read_text().replace("/opt/live_trading", str(ROOT))
    copy = tmp_path / "live-trading.service"
    copy.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert str(copy.name) not in result.stderr, result.stderr


def test_there_is_one_plist_named_after_its_label() -> None:
    assert len(PLISTS) == 1
    plist = plistlib.loads(PLISTS[0].read_bytes())
    assert PLISTS[0].name == f"{plist['Label']}.plist"


def test_the_plist_runs_the_wrapper_and_restarts_only_after_a_failure() -> None:
    plist = plistlib.loads(PLISTS[0].read_bytes())
    program = plist["ProgramArguments"]
    assert Path(program[0]).name == WRAPPER.name
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["RunAtLoad"] is True
    assert plist["ThrottleInterval"] > 0
    for key in ("StandardOutPath", "StandardErrorPath", "WorkingDirectory"):
        assert Path(plist[key]).is_absolute(), key
    home = plist["EnvironmentVariables"]["LIVE_TRADING_HOME"]
    assert Path(program[0]) == Path(home) / "scripts" / WRAPPER.name
    assert plist["EnvironmentVariables"]["PATH"].split(":")[0] == f"{home}/.venv/bin"


def test_the_wrapper_recovers_then_execs_the_server() -> None:
    commands = [
        line.strip()
        for line in WRAPPER.read_text().splitlines()
        if line.strip().startswith(("live-trading", "exec "))
    ]
    assert commands == ["live-trading recover", 'exec live-trading run "$@"']
    assert WRAPPER.stat().st_mode & 0o111, "the wrapper must be executable"
    assert subprocess.run(["sh", "-n", str(WRAPPER)], check=False).returncode == 0
