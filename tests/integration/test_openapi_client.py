"""The dashboard's typed API client is generated from the backend's spec:
``frontend/openapi.json`` must be the spec the app serves now (regenerate
with ``npm run dump:api && npm run gen:api`` in frontend/)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_the_committed_spec_is_the_apps_spec():
    dumped = subprocess.run([sys.executable, str(ROOT / "scripts" / "dump_openapi.py")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    committed = json.loads((ROOT / "frontend" / "openapi.json").read_text())
    assert json.loads(dumped.stdout) == committed, \
        "frontend/openapi.json is stale: run `npm run dump:api && npm run gen:api` in frontend/"
    schema = (ROOT / "frontend" / "src" / "api" / "schema.d.ts").read_text()
    for path in committed["paths"]:
        assert f'"{path}"' in schema, f"{path} missing from schema.d.ts: run npm run gen:api"
