"""Operations: Prometheus metrics, the health report, logging set-up.

* :class:`PrometheusMetrics` (``metrics``): the ``/metrics`` series on a
  registry of the service's own; hooks feed journal, broker and worker timings.
* :func:`health_report` (``health``): what ``/health`` serves.
* :func:`configure_logging` (``logs``): JSON or text logs, uvicorn included.
"""

from .health import health_report
from .logs import configure_logging
from .metrics import PrometheusMetrics

__all__ = ["PrometheusMetrics", "configure_logging", "health_report"]
