"""What every response model shares.

Response models are output only: a field with a default is still always
present in the answer, so the OpenAPI schema marks it required
(``json_schema_serialization_defaults_required``) and the dashboard's
generated types do not make it optional. A field that an answer may leave
out (rather than send as ``null``) is documented as such on its model, and
its route sets ``response_model_exclude_unset``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

IsoTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""A time as ISO-8601 text with its UTC offset (``2025-01-15T04:00:00+00:00``),
sent exactly as the source wrote it."""


class OutModel(BaseModel):
    """The base of every ``*Out`` model (answers, never requests)."""

    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True, from_attributes=True
    )
