"""Shared fixtures: a real MongoDB wire-protocol server (SecantusDB) for the
whole session, a fresh database per test module, and helpers to run the real
``live-trading`` server as a subprocess."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from live_trading.bootstrap import Services, open_services
from live_trading.config import Settings
from live_trading.store.embedded import free_port, interrupt_on_termination
from tests.auth_helpers import PASSWORD, TEST_SECRET, bearer, login, seed_user

# SIGTERM/SIGHUP end the run as Ctrl-C does: fixtures are torn down and every
# server the suite started (stores, `live-trading run`) is stopped.
interrupt_on_termination()

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE_DATA = ROOT / "live_trading" / "sample_data"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A wire-protocol server for the test session: ``LT_TEST_SERVER`` picks
    it, ``secantus`` (default, no fsync per commit: speed), ``nx`` (nx-27017)
    or a ``mongodb://`` URL; see ``tests/servers.py``, ``docs/store-servers.md``."""
    from tests.servers import start_test_server

    kind = os.environ.get("LT_TEST_SERVER", "secantus")
    url, stop = start_test_server(kind, tmp_path_factory.mktemp("store-server"))
    yield url
    stop()


ADMIN = "admin"
# Every test server: a real secret (so production checks pass), a rate limit
# no test reaches by accident, and no scheduled worker cycles (tests that
# are about the worker turn it on), so journals are deterministic.
SERVER_DEFAULTS = {
    "SECRET_KEY": TEST_SECRET,
    "RATE_LIMIT_MUTATIONS": "100000/minute",
    "RATE_LIMIT_LOGIN": "100000/minute",
    "RATE_LIMIT_LOGIN_USER": "100000/minute",
    "TRADING_WORKER_ENABLED": "false",
    "LOG_FORMAT": "text",
}


def unique_db() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


def make_settings(mongo_url: str, **overrides) -> Settings:
    values = {
        "mongodb_url": mongo_url,
        "mongodb_db_name": unique_db(),
        "replay_speed": 0.0,
        "secret_key": TEST_SECRET,
        "trading_worker_enabled": False,
        "rate_limit_mutations": "100000/minute",
        "rate_limit_login": "100000/minute",
        "rate_limit_login_user": "100000/minute",
        # the trade log of each test goes to its own temporary directory
        "trade_log_dir": Path(tempfile.mkdtemp(prefix="lt-trade-log-")),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def services(mongo_url: str) -> AsyncIterator[Services]:
    svc = await open_services(make_settings(mongo_url))
    yield svc
    await svc.engine.stop()
    await svc.store.client.close()


class LiveServer:
    """``live-trading run`` in a subprocess, reached over real HTTP."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            **SERVER_DEFAULTS,
            "TRADE_LOG_DIR": str(log_path.parent / "trade-log"),
            **env,
        }
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self._token: str | None = None

    def add_user(self, username: str, role: str, password: str = PASSWORD) -> None:
        """Create a user in the server's database (before or after start)."""
        if self.env.get("MONGODB_URL"):
            seed_user(
                self.env["MONGODB_URL"],
                self.env.get("MONGODB_DB_NAME", "trading_bot"),
                username,
                role,
                password,
            )
            return
        assert self.proc is None or self.proc.poll() is not None, (
            "with the embedded store, add users before start"
        )
        result = subprocess.run(
            [
                str(BIN / "live-trading"),
                "users",
                "create",
                "--username",
                username,
                "--role",
                role,
                "--password",
                password,
            ],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0 or "exists already" in result.stderr, result.stderr

    def token(self, username: str = ADMIN, password: str = PASSWORD) -> str:
        if username != ADMIN:
            return login(self.url, username, password)
        if self._token is None:
            self._token = login(self.url, ADMIN, password)
        return self._token

    def start(self, *args: str, timeout_s: float = 60) -> LiveServer:
        self.add_user(ADMIN, "admin")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "live-trading"), "run", "--port", str(self.port), *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        atexit.register(self.stop)  # a test interrupted before it stops it
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(self.log_path.read_text()[-3000:])

    def client(self, username: str = ADMIN) -> httpx.Client:
        """An HTTP client carrying a bearer token of ``username`` (admin by default)."""
        return httpx.Client(base_url=self.url, timeout=30, headers=bearer(self.token(username)))

    def wait_idle(self, timeout_s: float = 300) -> dict:
        """Wait until no runner is running (every replay has ended)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            health = httpx.get(f"{self.url}/health", timeout=5).json()
            if health["engine"]["running"] == 0:
                return health
            time.sleep(0.5)
        raise TimeoutError("replay did not finish")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def replay_dir(tmp_path: Path) -> Path:
    """A replay directory holding copies of the real sample files."""
    target = tmp_path / "replay"
    target.mkdir()
    for path in SAMPLE_DATA.glob("*.csv"):
        shutil.copy(path, target / path.name)
    return target
