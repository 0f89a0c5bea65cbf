"""The built dashboard works under the server's Content-Security-Policy.

The policy (``live_trading/api/headers.py``) allows scripts, styles, images
and connections from the server's own origin only, plus inline styles (MUI
and emotion inject ``<style>`` elements). ``tests/e2e/csp_check.mjs`` opens
the dashboard in a real headless Chromium against ``live-trading run``: it
logs in, waits for the live feed's WebSocket, draws an operation's chart and
visits the other pages, and fails on any ``securitypolicyviolation``. A
policy too strict for the dashboard (or a dashboard change that needs more,
e.g. an inline script or a font from a CDN) fails here.

``scripts/test.sh`` installs the npm packages and chromium and builds the
dashboard first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.auth_helpers import PASSWORD
from tests.conftest import ADMIN, ROOT, SAMPLE_DATA, LiveServer, unique_db

FRONTEND = ROOT / "frontend"
SCRIPT = Path(__file__).with_name("csp_check.mjs")
CHROMIUM = Path("/usr/bin/chromium")
BARS = 150

pytestmark = [
    pytest.mark.skipif(
        not (FRONTEND / "dist" / "index.html").exists(),
        reason="the dashboard is not built (scripts/test.sh builds it)",
    ),
    pytest.mark.timeout(600),
]


@pytest.fixture
def server(mongo_url: str, tmp_path: Path):
    data = tmp_path / "replay"
    data.mkdir()
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[: BARS + 1]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    live = LiveServer(
        {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": unique_db(), "REPLAY_DATA_DIR": str(data)},
        tmp_path / "server.log",
    ).start()
    yield live
    live.stop()


def test_the_dashboard_renders_without_a_policy_violation(server: LiveServer) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install -y chromium"
    assert shutil.which("node"), "Node.js is needed"
    policy = httpx.get(server.url, timeout=30).headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    with server.client() as http:
        created = http.post(
            "/api/operations",
            json={"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"},
        )
        assert created.status_code == 201, created.text
    server.wait_idle()
    result = subprocess.run(
        [
            "node",
            str(SCRIPT),
            "--base-url",
            server.url,
            "--operation",
            created.json()["id"],
            "--username",
            ADMIN,
            "--password",
            PASSWORD,
            "--chromium",
            str(CHROMIUM),
        ],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    assert result.returncode == 0 and summary.get("ok"), (
        f"exit {result.returncode}: {result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
    assert len(summary["visited"]) == 6, summary
