"""Fault injection points, for the crash tests (``tests/faults/``).

``fault_point("name")`` does nothing unless the environment variable
``LT_FAULT`` is ``name:N``: then the N-th time the point is reached, the
process kills itself with SIGKILL, exactly as ``kill -9`` would. Points:

* ``after_intent``: an order intent is journaled, the broker not yet called;
* ``after_broker_cancel``: the broker took a cancel of a decision, the
  decision's orders not yet sent;
* ``after_broker_submit``: the broker accepted an order, the ack not journaled;
* ``before_fill_journal``: the broker reported a fill, not yet journaled;
* ``during_projection``: inside an append's transaction, before it commits;
* ``after_bar``: the broker worked a bar, the bar is not yet stored.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("LT_FAULT", "")
_NAME, _, _COUNT = _SPEC.partition(":")
_TARGET = int(_COUNT) if _COUNT.isdigit() else 1
_hits = 0


def fault_point(name: str) -> None:
    """Die with SIGKILL at the configured hit of ``name``; else do nothing."""
    global _hits
    if name != _NAME:
        return
    _hits += 1
    if _hits >= _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
