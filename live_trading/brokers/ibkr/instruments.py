"""Instrument specifications of :class:`~.client.IBKRBroker`, from IB's
contract details (``reqContractDetails``): ``minTick`` is the tick,
``sizeIncrement`` the lot, ``minSize`` the minimum order size (each
falling back to the other when IB leaves it unset). Cached per asset."""

from __future__ import annotations

from ib_async import RequestError

from live_trading.domain.instruments import InstrumentSpec

from .deadlines import within
from .parsing import asset_to_contract
from .state import IBKRState


class InstrumentSpecs(IBKRState):
    """Mixin of IBKRBroker (uses its ``_ib``, ``config``, ``_specs``)."""

    async def instrument_spec(self, asset: str) -> InstrumentSpec:
        """Tick, lot and minimum size of ``asset`` at IB (quote currency /
        base units).

        Raises:
            LookupError: IB has no contract for ``asset``.
            ConnectionError: not connected. BrokerTimeout: no answer in time.
        """
        cached = self._specs.get(asset)
        if cached is not None:
            return cached
        self._require_connected()
        try:
            contract = asset_to_contract(asset, self.config.contracts)
            details = await within(
                "instrument_spec",
                self._ib.reqContractDetailsAsync(contract),
                self.config.request_timeout_s,
            )
        except (ValueError, RequestError) as error:
            raise LookupError(f"IB has no contract for {asset}: {error}") from error
        if not details or not details[0].minTick:
            raise LookupError(f"IB has no contract details for {asset}")
        first = details[0]
        lot = _positive(first.sizeIncrement) or _positive(first.minSize) or 1.0
        minimum = max(_positive(first.minSize) or lot, lot)
        spec = InstrumentSpec(asset, float(first.minTick), lot, minimum)
        self._specs[asset] = spec
        return spec


def _positive(value) -> float | None:
    """IB's size fields: unset is 0, None or the UNSET_DOUBLE sentinel."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 1e300 else None
