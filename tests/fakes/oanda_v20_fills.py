"""Matching and fills of the fake v20 account (tests/fakes/oanda_v20.py):
working orders triggered by the price, fills netted FIFO against open
trades, a closed trade's dependent orders cancelled, an opened trade's
``stopLossOnFill``/``takeProfitOnFill`` orders created, trades closed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fakes.oanda_v20_wire import OANDAError, dec, s5


class OANDAFills:
    """Mixin of FakeOANDA."""

    def _triggered(self, order: dict[str, Any], bid: Decimal, ask: Decimal) -> Decimal | None:
        price = dec(order["price"])
        kind = order["type"]
        if kind in ("STOP_LOSS", "TAKE_PROFIT"):
            trade = self.trades[order["tradeID"]]
            buying = int(trade["currentUnits"]) < 0  # closing a short buys
        else:
            buying = int(order["units"]) > 0
        market = ask if buying else bid
        if kind in ("LIMIT", "TAKE_PROFIT"):
            hit = market <= price if buying else market >= price
            return price if hit else None
        hit = market >= price if buying else market <= price  # STOP, STOP_LOSS
        return market if hit else None

    def _work_orders(self, instrument: str) -> None:
        if instrument not in self.prices:
            return
        bid, ask, _ = self.prices[instrument]
        for order in list(self.orders.values()):
            if (
                order["state"] != "PENDING"
                or order.get("instrument") != instrument
                or order["type"] == "MARKET"
            ):
                continue
            fill_price = self._triggered(order, bid, ask)
            if fill_price is not None:
                reason = {
                    "LIMIT": "LIMIT_ORDER",
                    "STOP": "STOP_ORDER",
                    "STOP_LOSS": "STOP_LOSS_ORDER",
                    "TAKE_PROFIT": "TAKE_PROFIT_ORDER",
                }[order["type"]]
                self._fill(order, fill_price, reason)

    def _fill(self, order: dict[str, Any], price: Decimal, reason: str) -> dict[str, Any]:
        instrument = order["instrument"]
        if order["type"] in ("STOP_LOSS", "TAKE_PROFIT"):
            trade = self.trades[order["tradeID"]]
            units = -int(trade["currentUnits"])
            to_close = [trade]
        else:
            units = int(order["units"])
            to_close = [
                t
                for t in self.trades.values()
                if t["state"] == "OPEN"
                and t["instrument"] == instrument
                and (int(t["currentUnits"]) > 0) != (units > 0)
            ]
        tx: dict[str, Any] = {
            "type": "ORDER_FILL",
            "orderID": order["id"],
            "clientOrderID": order.get("clientExtensions", {}).get("id"),
            "instrument": instrument,
            "units": str(units),
            "price": s5(price),
            "fullVWAP": s5(price),
            "reason": reason,
            "pl": "0.0000",
            "financing": "0.0000",
            "commission": str(
                (abs(units) * self.commission_per_million / 1_000_000).quantize(Decimal("0.0001"))
            ),
        }
        remaining = units
        closed, reduced = [], None
        for trade in to_close:
            if remaining == 0:
                break
            current = int(trade["currentUnits"])
            take = -current if abs(remaining) >= abs(current) else remaining
            pl = (price - dec(trade["price"])) * (-take)
            if take == -current:
                closed.append(
                    {
                        "tradeID": trade["id"],
                        "units": str(take),
                        "price": s5(price),
                        "realizedPL": str(pl),
                    }
                )
            else:
                reduced = {
                    "tradeID": trade["id"],
                    "units": str(take),
                    "price": s5(price),
                    "realizedPL": str(pl),
                }
            trade["currentUnits"] = str(current + take)
            remaining -= take
        if closed:
            tx["tradesClosed"] = closed
        if reduced:
            tx["tradeReduced"] = reduced
        if remaining:
            tx["tradeOpened"] = {"units": str(remaining), "price": s5(price)}
        fill = self._add_tx(tx)
        order["state"] = "FILLED"
        order["fillingTransactionID"] = fill["id"]
        body: dict[str, Any] = {"orderFillTransaction": fill}
        for item in closed:
            trade = self.trades[item["tradeID"]]
            trade["state"] = "CLOSED"
            for key in ("stopLossOrderID", "takeProfitOrderID"):
                dependent = self.orders.get(trade.get(key, ""))
                if dependent is not None and dependent["state"] == "PENDING":
                    self._cancel(dependent, "LINKED_TRADE_CLOSED")
        if remaining:
            trade_id = fill["id"]
            fill["tradeOpened"]["tradeID"] = trade_id
            order["tradeOpenedID"] = trade_id
            self.trades[trade_id] = {
                "id": trade_id,
                "instrument": instrument,
                "price": s5(price),
                "openTime": fill["time"],
                "initialUnits": str(remaining),
                "currentUnits": str(remaining),
                "state": "OPEN",
                "realizedPL": "0.0000",
                "unrealizedPL": "0.0000",
                "clientExtensions": order.get("clientExtensions", {}),
            }
            for on_fill, kind in (
                ("stopLossOnFill", "STOP_LOSS"),
                ("takeProfitOnFill", "TAKE_PROFIT"),
            ):
                details = order.get(on_fill)
                if details:
                    self._create_dependent(
                        {"type": kind, "tradeID": trade_id, **details}, "ON_FILL"
                    )
        return body

    def close_trade(self, specifier: str) -> dict[str, Any]:
        trade = self.trades.get(specifier)
        if trade is None or trade["state"] != "OPEN":
            raise OANDAError(
                404,
                {
                    "errorCode": "TRADE_DOESNT_EXIST",
                    "errorMessage": "The Trade specified does not exist",
                },
            )
        units = -int(trade["currentUnits"])
        create = self._add_tx(
            {
                "type": "MARKET_ORDER",
                "instrument": trade["instrument"],
                "units": str(units),
                "reason": "TRADE_CLOSE",
                "tradeClose": {"tradeID": trade["id"], "units": "ALL"},
            }
        )
        order = {
            "type": "MARKET",
            "instrument": trade["instrument"],
            "units": str(units),
            "id": create["id"],
            "state": "PENDING",
        }
        self.orders[order["id"]] = order
        bid, ask, _ = self._price(trade["instrument"])
        body = self._fill(order, ask if units > 0 else bid, "MARKET_ORDER_TRADE_CLOSE")
        return {"orderCreateTransaction": create, **body, "lastTransactionID": self.last_id()}
