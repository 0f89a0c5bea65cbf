"""Switchable misbehaviours of the fake v20 server, as real venues show them.

A :class:`Faults` holds one-shot faults (each for the next ``count``
requests that match a method, a path fragment and, for ``POST /orders``,
the order type) and an optional seeded chaos mode. The fake's middleware
asks it, request by request, what to do:

* ``"429"``: refused, rate limited, with ``Retry-After`` when given (OANDA
  refuses before processing: nothing happened);
* ``"5xx"``: refused with ``status`` (default 503) before processing;
* ``"hang"``: no answer for ``seconds`` before processing (a stalled feed);
* ``"drip"``: processed, answered one byte every ``interval_s``;
* ``"lose"``: processed, then the connection drops after the first byte of
  the answer (the answer is lost; the venue's state has changed);
* ``"lose_hang"``: processed, then no answer for ``seconds``.

Chaos (``start_chaos(seed, rate)``): each REST request, with probability
``rate``, gets a random delay, a 429 with a short ``Retry-After``, a 503,
or (writes only) a lost answer; price streams drop after a random number
of lines. Same seed, same sequence of draws.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str
    count: int = 1
    method: str | None = None
    path: str | None = None
    order_type: str | None = None
    retry_after: float | None = None
    status: int = 503
    interval_s: float = 1.0
    seconds: float = 3600.0
    delay_s: float = 0.0

    def matches(self, method: str, path: str, order_type: str | None) -> bool:
        return (
            self.count > 0
            and (self.method is None or self.method == method)
            and (self.path is None or self.path in path)
            and (self.order_type is None or self.order_type == order_type)
        )


class Faults:
    """The fake's misbehaviour switchboard (thread-safe: tests set it from
    their own thread while the server's loop reads it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Fault] = []
        self._chaos: random.Random | None = None
        self.chaos_rate = 0.0
        self.injected: list[tuple[str, str, str]] = []  # (kind, method, path)

    def add(self, kind: str, count: int = 1, **options) -> Fault:
        fault = Fault(kind, count, **options)
        with self._lock:
            self._items.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chaos = None

    def start_chaos(self, seed: int, rate: float = 0.1) -> None:
        with self._lock:
            self._chaos = random.Random(seed)
            self.chaos_rate = rate

    def take(self, method: str, path: str, order_type: str | None) -> Fault | None:
        """The fault for this request, if any (one-shot faults first)."""
        with self._lock:
            for fault in self._items:
                if fault.matches(method, path, order_type):
                    fault.count -= 1
                    self.injected.append((fault.kind, method, path))
                    return fault
            fault = self._chaos_fault(method, path)
            if fault is not None:
                self.injected.append((fault.kind, method, path))
            return fault

    def stream_lines_before_drop(self) -> int | None:
        """Chaos: how many lines a new price stream sends before it drops."""
        with self._lock:
            if self._chaos is None:
                return None
            return self._chaos.randint(3, 60)

    def _chaos_fault(self, method: str, path: str) -> Fault | None:
        rng = self._chaos
        if rng is None or rng.random() >= self.chaos_rate or path.endswith("/stream"):
            return None
        kinds = ["delay", "429", "5xx"] + (["lose"] if method != "GET" else [])
        kind = rng.choice(kinds)
        if kind == "delay":
            return Fault("delay", delay_s=rng.uniform(0.0, 0.3))
        if kind == "429":
            return Fault("429", retry_after=round(rng.uniform(0.01, 0.1), 3))
        if kind == "5xx":
            return Fault("5xx", status=rng.choice([500, 502, 503, 504]))
        return Fault("lose")
