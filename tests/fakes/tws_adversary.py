"""Switchable misbehaviours of the fake TWS, each one real TWS / IB Gateway
shows (tests/fakes/tws_server.py reads them from ``FakeTWS.adversary``).

* ``silence(msg_id, times)``: the next ``times`` requests of that message id
  (all, with ``None``) are read and never answered (a hung request; at
  connect: a partial sync).
* ``status_first``: a new order's ``orderStatus`` comes before its
  ``openOrder`` (TWS does not promise an order between the two).
* ``commission``: ``"prompt"``, ``"late"`` (after ``commission_delay_s``) or
  ``"never"`` (TWS sends none, e.g. for some paper fills).
* ``duplicate_exec``: each live ``execDetails`` is sent twice.
* ``lose_place_answers``: the next n orders are taken by the venue but no
  answer reaches the client (the answer is lost).
* ``drop_after_place``: the next n orders are taken, then the socket is
  closed before any answer.
* ``history_refusals``: the next history requests are refused with these
  (code, message) pairs (pacing 162 / 420, permissions 354...).
* ``bar_error``: reqRealTimeBars answered with this (code, message).
* ``modify_warning``: a modification is answered with this warning (code,
  message) before its echo (399 "order message error", 404...); the
  modification is applied. ``lose_place_answers`` applies to modifications
  too (applied at the venue, the echo lost).
* ``unbound``: orderRefs that the client's own ``reqOpenOrders`` does not
  list (orders of an earlier session that TWS did not bind to this client,
  as after a gateway restart); ``reqAllOpenOrders`` lists them.
* ``rng`` (chaos, seeded): random delays before each request is handled
  (order kept), random orderStatus / openOrder order, commissions late or
  (rarely) never, duplicate execDetails.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Adversary:
    silent: dict[int, int | None] = field(default_factory=dict)
    status_first: bool = False
    commission: str = "prompt"
    commission_delay_s: float = 0.3
    duplicate_exec: bool = False
    lose_place_answers: int = 0
    drop_after_place: int = 0
    history_refusals: list[tuple[int, str]] = field(default_factory=list)
    bar_error: tuple[int, str] | None = None
    modify_warning: tuple[int, str] | None = None
    unbound: set[str] = field(default_factory=set)
    rng: random.Random | None = None
    max_delay_s: float = 0.02

    def silence(self, msg_id: int, times: int | None = None) -> None:
        self.silent[msg_id] = times

    def swallows(self, msg_id: int) -> bool:
        """Whether this request (message id) goes unanswered."""
        if msg_id not in self.silent:
            return False
        left = self.silent[msg_id]
        if left is None:
            return True
        if left <= 1:
            del self.silent[msg_id]
        else:
            self.silent[msg_id] = left - 1
        return True

    def request_delay(self) -> float:
        return self.rng.uniform(0, self.max_delay_s) if self.rng else 0.0

    def status_before_open_order(self) -> bool:
        return self.status_first or bool(self.rng and self.rng.random() < 0.5)

    def commission_mode(self) -> tuple[str, float]:
        """("prompt" | "late" | "never", delay in seconds)."""
        if self.rng is not None:
            roll = self.rng.random()
            if roll < 0.05:
                return "never", 0.0
            if roll < 0.5:
                return "late", self.rng.uniform(0.01, 0.3)
        return self.commission, self.commission_delay_s

    def duplicate(self) -> bool:
        return self.duplicate_exec or bool(self.rng and self.rng.random() < 0.2)

    def seeded(seed: int) -> Adversary:
        return Adversary(rng=random.Random(seed))

    seeded = staticmethod(seeded)
