"""Strategies with the JSON schema of their parameters (for forms).

``params_schema`` is pydantic's JSON schema of the strategy's parameter
model; the keys the dashboard reads are typed here, any other JSON-schema
keyword is passed through as it is. Keywords a schema does not use are left
out of the answer (the route sets ``response_model_exclude_unset``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from .base import OutModel

Number = int | float


class ParamSchemaOut(OutModel):
    """The JSON schema of one parameter."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=False)

    type: str | None = None
    title: str | None = None
    description: str | None = None
    default: Any = None
    minimum: Number | None = None
    maximum: Number | None = None
    exclusiveMinimum: Number | None = None
    exclusiveMaximum: Number | None = None
    enum: list[Any] | None = None
    anyOf: list[ParamSchemaOut] | None = None


class ParamsSchemaOut(OutModel):
    """The JSON schema of a strategy's parameters: one entry per parameter."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=False)

    type: str | None = None
    title: str | None = None
    description: str | None = None
    properties: dict[str, ParamSchemaOut]
    required: list[str] | None = None


class StrategyOut(OutModel):
    """A registered strategy: its first docstring paragraph, parameter
    schema and defaults, and the bar sizes above the primary one it needs."""

    name: str
    description: str
    params_schema: ParamsSchemaOut
    defaults: dict[str, Any]
    higher_bar_sizes: list[str]
