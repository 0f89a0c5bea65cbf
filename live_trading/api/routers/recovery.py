"""The last start-up recovery report."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from live_trading.api.auth import Viewer
from live_trading.api.deps import ServicesDep
from live_trading.api.schemas import RecoveryReportOut
from live_trading.engine.errors import OperationNotFoundError
from live_trading.engine.recovery import REPORTS

router = APIRouter(prefix="/api/recovery", tags=["recovery"])


@router.get("/last", response_model_exclude_unset=True)
async def last_recovery_report(services: ServicesDep, user: Viewer) -> RecoveryReportOut:
    """The latest recovery report: per operation, what was found and done."""
    report = await services.store.db[REPORTS].find_one(
        {"dry_run": False}, sort=[("started_at", -1)], projection={"_id": 0}
    )
    if report is None:
        raise OperationNotFoundError("no recovery has run yet")
    return RecoveryReportOut.model_validate(jsonable_encoder(report))
