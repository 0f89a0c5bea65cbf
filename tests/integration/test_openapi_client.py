"""The dashboard's typed API client is generated from the backend's spec:
``frontend/openapi.json`` must be the spec the app serves now (regenerate
with ``npm run dump:api && npm run gen:api`` in frontend/), and
``frontend/src/api/models.ts`` only names the generated types. (That
``schema.d.ts`` is what openapi-typescript makes of ``openapi.json`` is
checked by Vitest: ``frontend/src/api/schema.test.ts``.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.conftest import ROOT

FRONTEND = ROOT / "frontend"
# types of the dashboard's own that the spec does not define (it types these
# fields as text): the operations filter's statuses, a position's side
DASHBOARD_ONLY: set[str] = set()  # OperationStatus and PositionType are in the spec now


def test_the_committed_spec_is_the_apps_spec():
    dumped = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "dump_openapi.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    committed = json.loads((FRONTEND / "openapi.json").read_text())
    assert json.loads(dumped.stdout) == committed, (
        "frontend/openapi.json is stale: run `npm run dump:api && npm run gen:api` in frontend/"
    )
    schema = (FRONTEND / "src" / "api" / "schema.d.ts").read_text()
    for path in committed["paths"]:
        assert f'"{path}"' in schema, f"{path} missing from schema.d.ts: run npm run gen:api"


def test_models_ts_holds_no_copy_of_a_type_the_spec_defines():
    spec = json.loads((FRONTEND / "openapi.json").read_text())
    defined = set(spec["components"]["schemas"])
    models = (FRONTEND / "src" / "api" / "models.ts").read_text()
    exported = re.findall(r"export (?:type|interface) (\w+)\s*=?\s*([^;]*);", models)
    assert len(exported) >= 30
    for name, definition in exported:
        if name in DASHBOARD_ONLY:
            assert name not in defined and f"{name}Out" not in defined, (
                f"the spec now defines {name}: alias it from schema.d.ts"
            )
            continue
        alias = re.fullmatch(r"Schemas\['(\w+)'\]", definition.strip())
        assert alias, f"models.ts: {name} = {definition.strip()!r} is not a generated type"
        assert alias.group(1) in defined, f"models.ts: {name}: the spec has no {alias.group(1)}"
