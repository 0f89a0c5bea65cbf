"""The live feed: every committed journal entry, pushed to WebSocket clients.

* :mod:`.sources`: what tells the hub the journal grew (a change stream on
  ``journal``, or polling ``trading_operations.last_sequence_number``).
* :mod:`.hub`: :class:`FeedHub` keeps per-operation cursors and projection
  states, and fans each record out to subscriptions with the read-model
  documents it changed.
* :mod:`.session`: one client's backfill-then-live stream, no gap, no
  duplicate.
* :mod:`.messages`: the JSON messages.

The WebSocket endpoints are in :mod:`live_trading.api.routers.ws`; the
protocol is described there and in ``docs/live-feed.md``.
"""

from __future__ import annotations

from .hub import FeedClosedError, FeedHub, FeedItem, SlowSubscriberError, Subscription
from .session import FeedRequestError, FeedSession

__all__ = [
    "FeedClosedError",
    "FeedHub",
    "FeedItem",
    "FeedRequestError",
    "FeedSession",
    "SlowSubscriberError",
    "Subscription",
    "start_feed",
]


async def start_feed(services) -> FeedHub:
    """A started hub on ``services``' journal, tailing it as ``FEED_SOURCE``
    and ``FEED_POLL_SECONDS`` say; in simulation mode it also sends strategy
    signals and simulated trade events (:mod:`.simulation`)."""
    settings = services.settings
    hub = FeedHub(
        services.journal_store,
        feed_source=settings.feed_source,
        poll_seconds=settings.feed_poll_seconds,
    )
    if settings.mode == "simulation":
        from .simulation import SimulationMessages

        hub.add_message_source(SimulationMessages(services.journal_store).messages)
    await hub.start()
    return hub
