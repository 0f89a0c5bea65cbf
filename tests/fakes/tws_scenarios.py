"""Venue-side scenarios of the fake TWS (tests/fakes/tws_server.py):
dropped sockets, outages, gateway restarts, IB's link lost and restored,
orders cancelled by IB, late commission reports."""

from __future__ import annotations

from tests.fakes.tws_model import FakeExecution, _Conn


class TWSScenarios:
    """Mixin of FakeTWS."""

    async def drop_connections(self) -> None:
        """Close every client socket (clients may reconnect at once)."""
        await self._drop()

    async def outage(self) -> None:
        """Close every client socket and refuse new ones until :meth:`resume`."""
        self.accepting = False
        await self.stop()

    async def resume(self) -> None:
        await self.start(self.port)

    async def restart(self, *, roll_back_ids: bool = True) -> None:
        """A gateway restart: sockets closed; orders and the day's executions
        kept; ``nextValidId`` starts from 1 again."""
        await self.stop()
        if roll_back_ids:
            self.next_valid_id = 1
        await self.start(self.port)

    def _late_commission(self, conn: _Conn, ex: FakeExecution) -> None:
        if conn in self.conns:
            self._send_commission(conn, ex)

    def link_lost(self) -> None:
        """IB 1100: TWS lost its link to IB's servers; the socket stays up and
        nothing is pushed (fills made meanwhile come only via reqExecutions)."""
        self.link_down = True
        for conn in self.conns:
            self._send(
                conn,
                4,
                2,
                -1,
                1100,
                "Connectivity between IB and Trader Workstation has been lost.",
                "",
            )

    def link_restored(self, code: int = 1102) -> None:
        """IB 1101 (data lost) or 1102 (data maintained)."""
        self.link_down = False
        text = "data lost" if code == 1101 else "data maintained"
        for conn in self.conns:
            self._send(
                conn,
                4,
                2,
                -1,
                code,
                f"Connectivity between IB and Trader Workstation has been restored - {text}.",
                "",
            )

    def cancel_at_venue(self, order_ref: str, reason: str = "") -> None:
        """IB cancels the working order ``order_ref`` on its own (end of a
        DAY order, margin); reported to its client when connected."""
        order = next(o for o in self.orders if o.order_ref == order_ref and o.working)
        order.status = "Cancelled"
        if not self.link_down:
            for conn in self.conns:
                if conn.client_id == order.client_id:
                    self._send(
                        conn, 4, 2, order.order_id, 202, f"Order Canceled - reason:{reason}", ""
                    )
            self._broadcast(order)
