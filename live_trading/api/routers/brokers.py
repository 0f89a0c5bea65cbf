"""Broker configurations: secrets are write-only, LIVE needs confirmation."""

from __future__ import annotations

from typing import Any

import bson
from bson import ObjectId
from bson.errors import InvalidDocument, InvalidId
from fastapi import APIRouter, status

from live_trading.api.auth import Admin, CurrentUser, Viewer
from live_trading.api.schemas import BrokerConfigOut
from live_trading.brokers.configs import BrokerConfig, BrokerConfigCreate, BrokerConfigUpdate
from live_trading.domain.values import utc_now
from live_trading.engine.bounds import free_form_problem
from live_trading.engine.errors import OperationNotFoundError
from live_trading.engine.specs import InvalidSpecError
from live_trading.security import Role, role_allows

router = APIRouter(prefix="/api/brokers", tags=["brokers"])
MASK = "***"


async def _load(config_id: str) -> BrokerConfig:
    try:
        config = await BrokerConfig.get(ObjectId(config_id))
    except (InvalidId, TypeError):
        config = None
    if config is None:
        raise OperationNotFoundError(f"no broker configuration {config_id}")
    return config


def _storable(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` if MongoDB can store every value. Raises InvalidSpecError
    (422) naming the first one it cannot: ``config`` too deep, too large or
    holding a non-finite number (:func:`free_form_problem`), an integer
    beyond 64 bits, text that is not valid Unicode (a lone surrogate), a key
    with a NUL byte."""
    if "config" in fields and (problem := free_form_problem(fields["config"])):
        raise InvalidSpecError("config", problem)
    for name, value in fields.items():
        try:
            bson.encode({name: value})
        except (InvalidDocument, OverflowError, UnicodeEncodeError) as error:
            raise InvalidSpecError(name, f"cannot be stored: {error}") from None
    return fields


def _shown(config: BrokerConfig, user: CurrentUser) -> dict[str, Any]:
    """What ``user`` may see of a configuration: all but the secret for an
    admin; for other roles also the host, the account id (all but its last
    3 characters) and the free-form ``config`` are masked."""
    public = config.public()
    if role_allows(user.role, Role.ADMIN):
        return public
    return {
        **public,
        "host": _masked(public.get("host"), keep=0),
        "account_id": _masked(public.get("account_id"), keep=3),
        "config": {},
    }


def _masked(value: str | None, keep: int) -> str | None:
    """``***`` and the last ``keep`` characters of ``value`` (when it has
    more than twice as many); None stays None."""
    if not value:
        return None
    return MASK + value[-keep:] if keep and len(value) > 2 * keep else MASK


@router.get("")
async def list_brokers(user: Viewer) -> list[BrokerConfigOut]:
    """Broker configurations (secrets never included; host, account id and
    ``config`` masked for non-admins)."""
    return [
        BrokerConfigOut.model_validate(_shown(c, user))
        for c in await BrokerConfig.find({}).sort("+created_at").to_list()
    ]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_broker(body: BrokerConfigCreate, user: Admin) -> BrokerConfigOut:
    """Add a broker configuration (admin)."""
    now = utc_now()
    fields = _storable(body.model_dump(exclude={"confirm_live"}, exclude_none=True))
    config = BrokerConfig(**fields, created_at=now, updated_at=now)
    await config.insert()
    return BrokerConfigOut.model_validate(config.public())


@router.get("/{config_id}")
async def get_broker(config_id: str, user: Viewer) -> BrokerConfigOut:
    """One broker configuration (secrets never included; host, account id
    and ``config`` masked for non-admins)."""
    return BrokerConfigOut.model_validate(_shown(await _load(config_id), user))


@router.put("/{config_id}")
async def update_broker(config_id: str, body: BrokerConfigUpdate, user: Admin) -> BrokerConfigOut:
    """Change a broker configuration; switching to LIVE needs confirm_live (admin)."""
    config = await _load(config_id)
    changes = _storable(body.model_dump(exclude={"confirm_live"}, exclude_none=True))
    if (
        changes.get("account_type") == "LIVE"
        and config.account_type != "LIVE"
        and not body.confirm_live
    ):
        raise InvalidSpecError(
            "confirm_live", "a LIVE account trades real money: set confirm_live to true"
        )
    for key, value in changes.items():
        setattr(config, key, value)
    config.updated_at = utc_now()
    await config.save()
    return BrokerConfigOut.model_validate(config.public())
