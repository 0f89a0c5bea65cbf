"""MODE=simulation: orders never reach the configured broker.

The broker is a fake OANDA v20 server that records every request; in
simulation mode the engine trades the same real data through its simulator
and the fake sees no order request. In trading mode the same settings send
the orders to the fake (the control case).
"""

from __future__ import annotations

import pytest

from live_trading.bootstrap import open_services
from live_trading.engine.specs import OperationCreate
from tests.conftest import make_settings
from tests.fakes.oanda_v20 import FakeOANDA, FakeOANDAServer
from tests.integration.recovery_helpers import truncated_replay_dir

BODY = {"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"}


@pytest.fixture
def oanda():
    server = FakeOANDAServer(FakeOANDA()).start()
    server.fake.set_price("USD_CAD", 1.4350, 1.4351)
    yield server
    server.stop()


def _settings(mongo_url, tmp_path, server, mode: str, **extra):
    return make_settings(
        mongo_url,
        mode=mode,
        broker_type="OANDA",
        oanda_base_url=server.url,
        oanda_api_key=server.fake.token,
        oanda_account_id=server.fake.account_id,
        replay_data_dir=truncated_replay_dir(tmp_path / mode, bars=300),
        **extra,
    )


async def _trade(settings) -> tuple[object, dict]:
    services = await open_services(settings)
    try:
        await services.start()
        op = await services.engine.create_operation(OperationCreate(**BODY), source="test")
        await services.engine.wait_idle()
        return services.engine.deps.broker.name, dict((await services.journal.state(op)).orders)
    finally:
        await services.close()


def _order_requests(server) -> list[tuple[str, str]]:
    return [(m, p) for m, p in server.fake.requests if "/orders" in p or "/trades" in p]


async def test_simulation_mode_sends_nothing_to_the_broker(mongo_url, tmp_path, oanda):
    settings = _settings(mongo_url, tmp_path, oanda, "simulation", market_data_source="replay")
    broker, orders = await _trade(settings)
    assert broker == "simulation"
    filled = [o for o in orders.values() if o["status"] == "FILLED"]
    assert len(filled) >= 2, "the simulator filled the strategy's orders"
    assert oanda.fake.requests == []
    assert oanda.fake.orders == {} and oanda.fake.trades == {}


async def test_trading_mode_sends_the_same_orders_to_the_broker(mongo_url, tmp_path, oanda):
    settings = _settings(mongo_url, tmp_path, oanda, "trading", market_data_source="replay")
    broker, orders = await _trade(settings)
    assert broker == "oanda"
    assert _order_requests(oanda) and any(m == "POST" for m, _ in _order_requests(oanda))


async def test_simulation_on_broker_data_uses_the_broker_for_bars_only(mongo_url, tmp_path, oanda):
    settings = _settings(mongo_url, tmp_path, oanda, "simulation", market_data_source="broker")
    services = await open_services(settings)
    try:
        assert services.engine.deps.broker.name == "simulation"
        assert type(services.data_broker.inner).__name__ == "OANDABroker"
        assert services.engine.uses_replay is False
        await services.start()  # connects the simulator and the data broker
        assert oanda.fake.requests, "the data broker connected to the v20 API"
        assert _order_requests(oanda) == []
    finally:
        await services.close()
