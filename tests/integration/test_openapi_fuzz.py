"""Schemathesis over the whole OpenAPI spec of a running server, every check.

The real ``live-trading run`` serves its own spec. Schemathesis loads it from
the URL and runs its examples, coverage (boundary and invalid values) and
fuzzing phases against every operation in it, over HTTP, with an admin bearer
token so that every route is reached past authentication, and applies all of
its checks (``--checks all``): no 5xx, every status code and header answered
is documented, answers match their schemas, invalid data is rejected, valid
data accepted, the ``Allow`` header of a 405 names the path's methods,
authentication is enforced where declared.

One allowance: the operations in :data:`SEMANTIC_422` validate what a JSON
Schema cannot say (an asset must have market data, a stop's range depends on
its type, a strategy's parameters on the strategy, a LIVE account needs
``confirm_live``, a MongoDB key cannot hold a NUL byte), so a schema-valid
request may get a 422 naming the field there. The spec documents that 422.

It is driven through the ``st`` command line: the pytest plugin of
schemathesis 4.32 does not run under pytest 9 (it sets ``Function._nodeid``).
Real identifiers (an operation, one of its positions, a broker configuration,
a user) are given as parameter values so that the generated requests reach
past the 404s. Examples are capped and the replay file is small, so the run
takes about a minute.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from bson import ObjectId

from tests.conftest import BIN, SAMPLE_DATA, LiveServer, unique_db

REPLAY_ROWS = 300
# Longer hunts: LT_FUZZ_EXAMPLES=500 LT_FUZZ_SEED=7 pytest tests/integration/test_openapi_fuzz.py
MAX_EXAMPLES = int(os.environ.get("LT_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("LT_FUZZ_SEED", "20251111"))
RUN_TIMEOUT_S = 85 * max(1, MAX_EXAMPLES // 25)


@pytest.fixture(scope="module")
def fuzzed_server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("replay")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[:REPLAY_ROWS]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    server = LiveServer(
        {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": unique_db(), "REPLAY_DATA_DIR": str(data)},
        tmp_path_factory.mktemp("logs") / "server.log",
    ).start()
    yield server
    server.stop()


def _known_ids(server: LiveServer) -> dict[str, str]:
    """Create an operation (run to its end), a broker configuration and a
    user (not the admin making the calls); their ids, and a position's,
    become the values of the path parameters."""
    with server.client() as http:
        operation = http.post(
            "/api/operations",
            json={"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"},
        )
        assert operation.status_code == 201, operation.text
        op_id = operation.json()["id"]
        server.wait_idle()
        positions = http.get(f"/api/operations/{op_id}/positions").json()
        assert positions, "the replay opened no position"
        broker = http.post("/api/brokers", json={"broker_name": "PAPER"})
        assert broker.status_code == 201, broker.text
        user = http.post("/api/users", json={"username": "fuzzed", "password": "long-enough-1"})
        assert user.status_code == 201, user.text
    return {
        "operation_id": op_id,
        "position_id": positions[0]["id"],
        "config_id": broker.json()["id"],
        "username": "fuzzed",
    }


# (method, path) of the operations whose validation goes beyond their schema.
SEMANTIC_422 = [
    ("GET", "/api/market-data/history"),
    ("GET", "/api/operations/{operation_id}/bars"),
    ("GET", "/api/v1/trade-log"),
    ("POST", "/api/brokers"),
    ("PUT", "/api/brokers/{config_id}"),
    ("POST", "/api/operations"),
    ("PUT", "/api/operations/{operation_id}"),
]
ACCEPTED = '["2xx", "401", "403", "404", "409", "422", "429"]'


def _semantic_422(method: str, path: str) -> str:
    return f"""
[[operations]]
include-path = "{path}"
include-method = "{method}"

[operations.checks.positive_data_acceptance]
expected-statuses = {ACCEPTED}
"""


def _config(server: LiveServer, ids: dict[str, str]) -> str:
    """schemathesis.toml: every check; no stateful phase; a created operation
    replays its file, so POST /api/operations gets few valid bodies."""
    parameters = "\n".join(f'"path.{name}" = {json.dumps(value)}' for name, value in ids.items())
    semantic = "".join(
        _semantic_422(method, path)
        for method, path in SEMANTIC_422
        if (method, path) != ("POST", "/api/operations")
    )
    return f"""
seed = {SEED}
request-timeout = 30
continue-on-failure = true
headers = {{ Authorization = "Bearer {server.token()}" }}

[generation]
max-examples = {MAX_EXAMPLES}

[checks]
enabled = true

[phases.stateful]
enabled = false

[parameters]
{parameters}

[[operations]]
include-path = "/api/operations"
include-method = "POST"

[operations.generation]
max-examples = 5

[operations.phases.coverage.generation]
mode = "negative"

[operations.checks.positive_data_acceptance]
expected-statuses = {ACCEPTED}
{semantic}"""


def test_no_generated_request_gets_a_server_error(
    fuzzed_server: LiveServer, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(fuzzed_server, _known_ids(fuzzed_server)))
    result = subprocess.run(
        [
            str(BIN / "st"),
            "--config-file",
            str(config),
            "run",
            f"{fuzzed_server.url}/openapi.json",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    report = result.stdout[-8000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    total = int(re.search(r"Selected: \d+/(\d+)", report)[1])
    assert total >= 30, report
    assert int(re.search(r"Tested: (\d+)", report)[1]) == total, report
    for phase in ("Examples", "Coverage", "Fuzzing"):
        assert re.search(rf"✅\s+{phase}", report), report


def test_what_the_fuzzer_found_is_answered_422(fuzzed_server: LiveServer) -> None:
    """These once gave 500s: integers beyond 64 bits (MongoDB's limit) in a
    broker's config or in paging parameters, and text that is not valid
    Unicode (a lone surrogate), which the 422 answer itself could not encode."""
    with fuzzed_server.client() as http:
        too_big = json.dumps({"broker_name": "PAPER", "config": {"n": 2**70}})
        for body, field in (
            (too_big, "config"),
            ('{"broker_name": "PAPER", "host": "\\udab3"}', "host"),
        ):
            response = http.post(
                "/api/brokers", content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["body", field]
        for path, body, field in (
            ("/api/users", '{"username": "\\udab3", "password": "long-enough-1"}', "username"),
            (
                "/api/operations",
                ('{"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "\\udab3"}'),
                "strategy_name",
            ),
        ):
            response = http.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["body", field]
        operation_id = str(ObjectId())  # validation comes first: any id will do
        for path, params in (("orders", {"offset": 2**64}), ("journal", {"after_sequence": 2**64})):
            response = http.get(f"/api/operations/{operation_id}/{path}", params=params)
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["query", *params]


def test_the_spec_declares_each_error_answer_an_operation_can_give(
    fuzzed_server: LiveServer,
) -> None:
    """401 wherever a token is needed, 403 above the viewer role, 413 and 429
    on every change, 404 with a path parameter, and each error's body."""
    spec = httpx.get(f"{fuzzed_server.url}/openapi.json", timeout=30).json()
    operations = [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]
    assert len(operations) >= 30
    for method, path, op in operations:
        codes = set(op["responses"])
        where = f"{method} {path}: {sorted(codes)}"
        if op.get("security"):
            assert "401" in codes, where
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"], where
        if method != "GET":
            assert {"413", "429"} <= codes, where
            assert "Retry-After" in op["responses"]["429"]["headers"], where
        if "{" in path:
            assert "404" in codes, where
    declared = {(m, p): set(op["responses"]) for m, p, op in operations}
    assert "403" in declared[("POST", "/api/operations")]
    assert "403" not in declared[("GET", "/api/operations")]  # any role may read
    assert {"401", "429"} <= declared[("POST", "/api/auth/token")]
    assert "409" in declared[("POST", "/api/operations/{operation_id}/pause")]
    error = spec["paths"]["/api/operations/{operation_id}"]["get"]["responses"]["404"]
    schema = error["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][schema]["required"] == ["detail"]
