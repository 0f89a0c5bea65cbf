"""The dashboard end to end, in a real headless Chromium.

``live-trading run --demo`` serves the built dashboard (``frontend/dist``) and
trades the demo on the real USD-CAD data, replayed slowly enough (25 bars/s)
that trades keep appearing while the browser watches. The browser side is
``frontend/e2e/dashboard.e2e.mjs`` (playwright-core driving Debian's
``/usr/bin/chromium``): it logs in, creates an operation from the form (a bad
quantity first), watches trades appear on the chart and in the table without
a reload, pauses, closes a position by hand and finds the journal entry marked
"Manual (console)", resumes, and visits every page, writing a screenshot of
each into a folder this test prints (``LT_E2E_SCREENSHOTS`` chooses it).

``scripts/test.sh`` installs the npm packages and chromium and builds the
dashboard first; run alone, this test rebuilds ``frontend/dist`` when a
source file is newer than the build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.auth_helpers import PASSWORD
from tests.conftest import ADMIN, ROOT, LiveServer, unique_db

FRONTEND = ROOT / "frontend"
SCRIPT = FRONTEND / "e2e" / "dashboard.e2e.mjs"
CHROMIUM = Path("/usr/bin/chromium")
SOURCES = ("src", "public", "index.html", "package-lock.json", "vite.config.ts")
PAGES = ("login", "dashboard", "create", "operation-detail", "operations", "settings")
REPLAY_BARS_PER_SECOND = "25"

pytestmark = [
    pytest.mark.skipif(
        not (FRONTEND / "package.json").exists(),
        reason="frontend/package.json does not exist yet: no dashboard to test",
    ),
    pytest.mark.timeout(900),
]


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = FRONTEND / name
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def _ensure_build() -> None:
    assert shutil.which("node") and shutil.which("npm"), "Node.js and npm are needed"
    assert (FRONTEND / "node_modules" / "playwright-core").is_dir(), (
        "frontend/node_modules is missing: run scripts/test.sh (it runs npm ci)"
    )
    index = FRONTEND / "dist" / "index.html"
    if index.exists() and index.stat().st_mtime >= _newest_source_mtime():
        return
    result = subprocess.run(
        ["npm", "run", "build"],
        check=False,
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"npm run build failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("LT_E2E_SCREENSHOTS")
    if chosen:
        folder = Path(chosen).resolve()
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder
    return tmp_path_factory.mktemp("e2e-screenshots")


@pytest.fixture
def server(mongo_url: str, tmp_path: Path):
    _ensure_build()
    live = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": unique_db(),
            "REPLAY_SPEED": REPLAY_BARS_PER_SECOND,
        },
        tmp_path / "server.log",
    ).start("--demo")
    yield live
    live.stop()


def test_dashboard_end_to_end_in_chromium(
    server: LiveServer, screenshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install -y chromium"
    result = subprocess.run(
        [
            "node",
            str(SCRIPT),
            "--base-url",
            server.url,
            "--out",
            str(screenshots),
            "--username",
            ADMIN,
            "--password",
            PASSWORD,
            "--chromium",
            str(CHROMIUM),
        ],
        check=False,
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    listing = sorted(p.name for p in screenshots.iterdir())
    steps = ", ".join(
        f"{step['name']} {'ok' if step['ok'] else 'FAILED'} ({step['seconds']:.0f} s)"
        for step in summary.get("steps", [])
    )
    with capsys.disabled():
        print(f"\ndashboard e2e: {steps}\nscreenshots in {screenshots}: {', '.join(listing)}")
    assert result.returncode == 0 and summary.get("ok"), (
        f"the end-to-end script failed (exit {result.returncode}):\n{result.stdout[-8000:]}\n"
        f"{result.stderr[-4000:]}\nserver log tail:\n{server.log_path.read_text()[-3000:]}"
    )
    assert [step["name"] for step in summary["steps"] if not step["ok"]] == []
    missing = [page for page in PAGES if f"{page}.png" not in listing]
    assert missing == [], f"no screenshot of {missing}"
    assert summary["pageErrors"] == []
