"""The strategy interface.

A strategy object holds only its parameters and is never mutated. Everything
that changes from bar to bar (indicator windows, the last wanted position)
lives in a separate *state* object created by :meth:`Strategy.new_state` and
held by the caller (the engine's adapter). After a restart the caller rebuilds
the state by creating a fresh one and replaying the last
:attr:`Strategy.warmup_bars` closed bars through :meth:`Strategy.on_bar`,
oldest first, so no strategy state needs to be persisted.

Several bar sizes: the operation's *primary* bar size drives
:meth:`Strategy.on_bar`. A strategy that also reads higher bar sizes names
them in :meth:`Strategy.higher_bar_sizes`; the caller passes each of their
bars to :meth:`Strategy.on_higher_bar` only once that bar has *closed*, and
before the first primary bar that closes at or after it, so a strategy can
never see a bar before its close (no look-ahead).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from live_trading.domain.values import Bar, OrderType, PositionSide

TIE_TOLERANCE = 1e-10
"""Relative difference below which two prices (or averages) count as equal:
float noise must not make a crossing where the real numbers tie."""


def compare(a: float, b: float) -> int:
    """-1, 0 or 1 as ``a`` is below, equal to (within TIE_TOLERANCE) or above ``b``."""
    diff = a - b
    if abs(diff) <= TIE_TOLERANCE * max(abs(a), abs(b)):
        return 0
    return 1 if diff > 0 else -1


def field_error(
    model: str, field: str, value: object, kind: str, message: str, context: dict | None = None
) -> ValidationError:
    """A pydantic ValidationError located on ``field`` (for cross-field rules,
    so the API's 422 names the parameter at fault)."""
    error = PydanticCustomError(kind, message, context or {})
    return ValidationError.from_exception_data(
        model, [InitErrorDetails(type=error, loc=(field,), input=value)]
    )


P = TypeVar("P", bound=BaseModel)
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Signal:
    """A change of the position a strategy wants.

    Attributes:
        target: the wanted position: ``LONG``, ``SHORT``, or ``None`` for flat.
        reason: human-readable cause, e.g. ``"SMA(10) crossed above SMA(30)"``.
        indicators: indicator values at the signal bar, by name (price units
            for price-like indicators).
        entry_type: how to enter ``target``: MARKET (at the next bar's open),
            LIMIT or STOP at ``entry_price`` (quote currency). Exits of the
            previous position are always at market.
        entry_price: the LIMIT or STOP price; None for MARKET.
    """

    target: PositionSide | None
    reason: str
    indicators: dict[str, float] = field(default_factory=dict)
    entry_type: OrderType = OrderType.MARKET
    entry_price: float | None = None

    def __post_init__(self) -> None:
        if (self.entry_type is OrderType.MARKET) != (self.entry_price is None):
            raise ValueError("entry_price is required for LIMIT/STOP entries, and only for them")


class Strategy(ABC, Generic[P, S]):
    """Base class of all strategies.

    Subclasses set the class attributes ``name`` (the registry key) and
    ``params_model`` (a pydantic v2 model of the parameters with
    ``extra="forbid"``) and implement :meth:`new_state` and :meth:`on_bar`.
    """

    name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]]

    def __init__(self, params: P) -> None:
        if not isinstance(params, self.params_model):
            raise TypeError(
                f"{type(self).__name__} expects {self.params_model.__name__}, "
                f"got {type(params).__name__}"
            )
        self._params = params

    @property
    def params(self) -> P:
        """The validated parameters (a pydantic model instance)."""
        return self._params

    @property
    def warmup_bars(self) -> int:
        """Closed bars that must be seen before a signal can be produced.

        The earliest signal can come on bar number ``warmup_bars + 1``; to
        rebuild a state, replay at least this many bars. Default 0.
        """
        return 0

    def higher_bar_sizes(self) -> tuple[str, ...]:
        """Bar sizes besides the primary one this strategy reads (IB names,
        e.g. ``("1 day",)``); the operation must include them. Default none."""
        return ()

    def on_higher_bar(self, state: S, bar_size: str, bar: Bar) -> None:
        """Take in one *closed* bar of a higher bar size (see module doc)."""

    def sync_position(self, state: S, position: PositionSide | None) -> None:
        """Align ``state`` with the position actually held, after a restart
        rebuilt it from stored bars (the bar that opened the position may be
        older than those). Default: set ``state.target`` when there is one."""
        if hasattr(state, "target"):
            state.target = position

    @classmethod
    def params_schema(cls) -> dict:
        """The JSON schema of the parameters (for forms and validation)."""
        return cls.params_model.model_json_schema()

    @abstractmethod
    def new_state(self) -> S:
        """A fresh, empty state for :meth:`on_bar`."""

    @abstractmethod
    def on_bar(self, state: S, bar: Bar) -> Signal | None:
        """Process one *closed* primary bar (oldest first), updating ``state``.

        Returns a :class:`Signal` only when the wanted position changes,
        otherwise ``None``.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._params!r})"
