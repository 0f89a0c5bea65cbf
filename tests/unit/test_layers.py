"""The layering contracts of pyproject.toml ([tool.importlinter], run by
``lint-imports`` in scripts/test.sh) hold, and catch the leaks they are for:
a copy of the package with one leak put back breaks its contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[2]
CHECK = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def lint(project: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on ``project`` (its pyproject.toml and live_trading)."""
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=project,
        text=True,
        capture_output=True,
        timeout=300,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
    )


def copy_with(tmp_path: Path, module: str, line: str) -> Path:
    """The project copied to ``tmp_path`` with ``line`` appended to ``module``."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "live_trading",
        tmp_path / "live_trading",
        ignore=shutil.ignore_patterns("__pycache__", "*.csv"),
    )
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return tmp_path


def test_the_contracts_hold() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "live_trading/feed/messages.py",
            "from live_trading.api import serialize",
            "feed, journal and store never import api",
        ),
        (
            "live_trading/engine/trading_engine.py",
            "from beanie.operators import In",
            "engine depends on ports",
        ),
        (
            "live_trading/engine/recovery.py",
            "from live_trading.journal.mongo_journal import X",
            "engine depends on ports",
        ),
        (
            "live_trading/store/mongo.py",
            "from live_trading.journal.documents import X",
            "no cycles between the top-level packages",
        ),
        (
            "live_trading/domain/values.py",
            "from live_trading.config import Settings",
            "domain imports nothing from the project",
        ),
    ],
)
def test_a_leak_breaks_its_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    result = lint(copy_with(tmp_path, module, line))
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in broken
