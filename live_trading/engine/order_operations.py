"""Broker-neutral order operations over any :class:`~.ports.Broker`.

Adapters implement the small core of the port (submit, cancel, modify, ...);
the named operations traders use are built here once, identically for the
paper broker, Interactive Brokers and OANDA. Prices in quote currency,
quantities in units of the base asset (positive).
"""

from __future__ import annotations

from dataclasses import dataclass

from live_trading.domain.orders import OrderAck, OrderRequest
from live_trading.domain.values import OrderType, Side

from .ports import Broker


@dataclass(frozen=True, slots=True)
class BracketAcks:
    entry: OrderAck
    stop_loss: OrderAck
    take_profit: OrderAck


class OrderOperations:
    """``place_market_order`` & co. for one broker account."""

    def __init__(self, broker: Broker, account: str) -> None:
        self.broker = broker
        self.account = account

    def _request(
        self,
        cid: str,
        asset: str,
        side: Side,
        quantity: float,
        order_type: OrderType = OrderType.MARKET,
        **extra,
    ) -> OrderRequest:
        return OrderRequest(cid, self.account, asset, side, quantity, order_type, **extra)

    async def place_market_order(
        self, cid: str, asset: str, side: Side, quantity: float
    ) -> OrderAck:
        return await self.broker.submit_order(self._request(cid, asset, side, quantity))

    async def place_limit_order(
        self, cid: str, asset: str, side: Side, quantity: float, limit_price: float
    ) -> OrderAck:
        return await self.broker.submit_order(
            self._request(cid, asset, side, quantity, OrderType.LIMIT, limit_price=limit_price)
        )

    async def place_stop_order(
        self, cid: str, asset: str, side: Side, quantity: float, stop_price: float
    ) -> OrderAck:
        return await self.broker.submit_order(
            self._request(cid, asset, side, quantity, OrderType.STOP, stop_price=stop_price)
        )

    async def place_bracket_order(
        self,
        cid: str,
        asset: str,
        side: Side,
        quantity: float,
        stop_loss: float,
        take_profit: float,
        entry_type: OrderType = OrderType.MARKET,
        entry_price: float | None = None,
    ) -> BracketAcks:
        """An entry with a stop-loss and a take-profit attached (one cancels
        the other); the children work once the entry has filled. Child ids
        are ``<cid>-SL`` and ``<cid>-TP``."""
        entry = await self.broker.submit_order(
            self._request(
                cid,
                asset,
                side,
                quantity,
                entry_type,
                limit_price=entry_price if entry_type is OrderType.LIMIT else None,
                stop_price=entry_price if entry_type is OrderType.STOP else None,
            )
        )
        oco, exit_side = f"OCO-{cid}", side.opposite
        sl = await self.broker.submit_order(
            self._request(
                f"{cid}-SL",
                asset,
                exit_side,
                quantity,
                OrderType.STOP,
                stop_price=stop_loss,
                parent_client_order_id=cid,
                oco_group=oco,
            )
        )
        tp = await self.broker.submit_order(
            self._request(
                f"{cid}-TP",
                asset,
                exit_side,
                quantity,
                OrderType.LIMIT,
                limit_price=take_profit,
                parent_client_order_id=cid,
                oco_group=oco,
            )
        )
        return BracketAcks(entry, sl, tp)

    async def close_position(self, cid: str, asset: str) -> OrderAck | None:
        """Close the account's net position in ``asset`` at market (None if flat)."""
        quantity = (await self.broker.positions(self.account)).get(asset, 0.0)
        if quantity == 0:
            return None
        side = Side.SELL if quantity > 0 else Side.BUY
        return await self.place_market_order(cid, asset, side, abs(quantity))

    async def get_positions(self) -> dict[str, float]:
        return await self.broker.positions(self.account)
