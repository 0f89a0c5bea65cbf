"""Multi-timeframe data through the real runner: no look-ahead, and the same
signals whether bars come straight from the file or from ticks through the
aggregator (parity)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from live_trading.bootstrap import open_services
from live_trading.domain.values import Bar, BarSize
from live_trading.engine.specs import OperationCreate
from live_trading.strategies import STRATEGIES, Strategy
from tests.conftest import make_settings
from tests.integration.recovery_helpers import truncated_replay_dir

SEEN: list[tuple[str, Bar, Bar | None]] = []  # (event, bar, primary bar being processed)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class _State:
    last_primary: Bar | None = None
    higher: list = field(default_factory=list)


class RecordingStrategy(Strategy[_Params, _State]):
    """Records what it is shown and when (test only)."""

    name: ClassVar[str] = "RecordingStrategy"
    params_model: ClassVar[type[BaseModel]] = _Params

    def higher_bar_sizes(self) -> tuple[str, ...]:
        return ("1 day",)

    def new_state(self) -> _State:
        return _State()

    def on_higher_bar(self, state: _State, bar_size: str, bar: Bar) -> None:
        SEEN.append(("higher", bar, state.last_primary))

    def on_bar(self, state: _State, bar: Bar):
        SEEN.append(("primary", bar, bar))
        state.last_primary = bar
        return None


@pytest.fixture
def recording_strategy():
    STRATEGIES[RecordingStrategy.name] = RecordingStrategy
    SEEN.clear()
    yield
    del STRATEGIES[RecordingStrategy.name]


async def _run(mongo_url, tmp_path, mode: str, **body) -> tuple:
    settings = make_settings(mongo_url, replay_data_dir=tmp_path, replay_mode=mode)
    services = await open_services(settings)
    await services.start()
    try:
        op = await services.engine.create_operation(
            OperationCreate(
                **{
                    "asset": "USD-CAD",
                    "bar_sizes": ["1 hour"],
                    "strategy_name": "MomentumStrategy",
                    **body,
                }
            ),
            source="test",
        )
        await services.engine.wait_idle()
        return services, op, await services.journal_store.read(op)
    finally:
        await services.engine.stop()


@pytest.mark.parametrize("mode", ["bars", "ticks"])
async def test_a_daily_bar_is_never_seen_before_its_close(
    mongo_url, tmp_path, mode, recording_strategy
) -> None:
    replay = truncated_replay_dir(tmp_path / "data", bars=400)
    if mode == "bars":  # the daily file for the higher bar size
        from tests.conftest import SAMPLE_DATA

        (replay / "USDCAD_1d.csv").write_bytes((SAMPLE_DATA / "USDCAD_1d.csv").read_bytes())
    services, _, _ = await _run(
        mongo_url, replay, mode, bar_sizes=["1 hour", "1 day"], strategy_name="RecordingStrategy"
    )
    hour, day = BarSize.HOUR_1.duration, BarSize.DAY_1.duration
    primaries = [bar for kind, bar, _ in SEEN if kind == "primary"]
    higher = [i for i, (kind, _, _) in enumerate(SEEN) if kind == "higher"]
    assert len(primaries) == 400 and len(higher) > 10
    for i in higher:
        _, daily, previous = SEEN[i]
        daily_close = daily.time + day
        following = next((b for k, b, _ in SEEN[i + 1 :] if k == "primary"), None)
        if following is not None:  # no look-ahead: shown only once the clock passed its close
            assert following.time + hour >= daily_close, (daily, following)
        if previous is not None:  # and not withheld: the previous hour closed before it
            assert previous.time + hour <= daily_close, (daily, previous)
    await services.store.client.close()


async def test_bars_and_ticks_give_the_same_signals_and_trades(mongo_url, tmp_path) -> None:
    replay = truncated_replay_dir(tmp_path / "data", bars=1500)
    results = {}
    for mode in ("bars", "ticks"):
        services, op, records = await _run(mongo_url, replay, mode)
        signals = [
            (r.action_data["bar"]["time"], r.action_data["target"])
            for r in records
            if r.action_type == "SIGNAL_GENERATED"
        ]
        trades = (
            await services.store.db["trades"]
            .find(
                {"operation_id": __import__("bson").ObjectId(op)},
                {"_id": 0, "entry_price": 1, "exit_price": 1, "pnl": 1, "exit_time": 1},
            )
            .sort("exit_time", 1)
            .to_list(None)
        )
        results[mode] = (signals, trades)
        await services.store.client.close()
    assert len(results["bars"][0]) > 20
    assert results["bars"][0] == results["ticks"][0]
    assert results["bars"][1] == results["ticks"][1]
