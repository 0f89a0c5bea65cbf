"""The hand-run MongoDB queries of ``scripts/mongo/``, loaded for Python.

Each query is a JSON file ``scripts/mongo/pipelines/<name>.json``::

    {"description": "...", "collection": "trades",
     "parameters": {"day": {"type": "date", "description": "..."}},
     "pipeline": [ ... MongoDB Extended JSON with "{{day}}" placeholders ... ]}

A placeholder ``{{name}}`` may stand anywhere inside a JSON string; types
come from Extended JSON around it (``{"$oid": "{{operation_id}}"}``,
``{"$numberLong": "{{limit}}"}``, ``{"$date": "{{day}}T00:00:00Z"}``). Filling
is textual on the strings of the parsed JSON, then Extended JSON is decoded:
exactly what ``scripts/mongo/lib.js`` does in mongosh, so the tests that run
these pipelines through this loader prove the mongosh scripts' pipelines.

Parameter types: ``objectid`` (24 hex digits), ``int`` (decimal integer),
``date`` (a UTC day ``YYYY-MM-DD``); every value is given as a string (or a
value whose ``str()`` is one), and a parameter may have a string ``default``.

The files live in the repository (``scripts/``), not in the package: the
default :data:`PIPELINES_DIR` works from a checkout (editable install); pass
``directory`` otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bson import json_util

PIPELINES_DIR = Path(__file__).resolve().parents[2] / "scripts" / "mongo" / "pipelines"
PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
PATTERNS = {
    "objectid": re.compile(r"[0-9a-fA-F]{24}"),
    "int": re.compile(r"-?[0-9]+"),
    "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}


class QueryParameterError(ValueError):
    """A parameter is missing, unknown or malformed; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class MongoQuery:
    """One query file: the collection it runs on and its pipeline template."""

    name: str
    description: str
    collection: str
    parameters: dict[str, dict[str, str]]
    template: list[Any]

    def values(self, given: dict[str, Any]) -> dict[str, str]:
        """The parameter values as strings, defaults filled in.

        Raises:
            QueryParameterError: an unknown, missing or malformed parameter.
        """
        for name in given:
            if name not in self.parameters:
                raise QueryParameterError(name, f"unknown parameter of {self.name}")
        values = {}
        for name, spec in self.parameters.items():
            value = given.get(name, spec.get("default"))
            if value is None:
                raise QueryParameterError(name, f"required ({spec.get('description', '')})")
            values[name] = check_value(name, spec["type"], str(value))
        return values

    def pipeline(self, **given: Any) -> list[dict[str, Any]]:
        """The pipeline with its placeholders filled, Extended JSON decoded
        (ObjectId, Int64, aware UTC datetime...), ready for ``aggregate``.

        Raises:
            QueryParameterError: see :meth:`values`.
        """
        filled = fill(self.template, self.values(given))
        return json_util.loads(
            json.dumps(filled), json_options=json_util.JSONOptions(tz_aware=True)
        )


def check_value(name: str, kind: str, value: str) -> str:
    """``value`` when it is a well-formed ``kind``.

    Raises:
        QueryParameterError: it is not (or ``kind`` is unknown).
    """
    pattern = PATTERNS.get(kind)
    if pattern is None:
        raise QueryParameterError(name, f"unknown parameter type {kind!r}")
    if not pattern.fullmatch(value):
        raise QueryParameterError(name, f"{value!r} is not a valid {kind}")
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise QueryParameterError(name, f"{value!r} is not a calendar day") from None
    return value


def fill(node: Any, values: dict[str, str]) -> Any:
    """``node`` (parsed JSON) with every ``{{name}}`` in its strings replaced.

    Raises:
        QueryParameterError: a placeholder has no value.
    """
    if isinstance(node, dict):
        return {fill(k, values): fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    if isinstance(node, str):

        def value(match: re.Match) -> str:
            if match.group(1) not in values:
                raise QueryParameterError(match.group(1), "placeholder without a value")
            return values[match.group(1)]

        return PLACEHOLDER.sub(value, node)
    return node


def load_query(name: str, directory: Path = PIPELINES_DIR) -> MongoQuery:
    """The query in ``directory/<name>.json``.

    Raises:
        FileNotFoundError: no such query; ValueError: the file is malformed.
    """
    raw = json.loads((Path(directory) / f"{name}.json").read_text(encoding="utf-8"))
    try:
        return MongoQuery(
            name=name,
            description=raw["description"],
            collection=raw["collection"],
            parameters=raw["parameters"],
            template=raw["pipeline"],
        )
    except KeyError as missing:
        raise ValueError(f"{name}.json has no {missing}") from None


def query_names(directory: Path = PIPELINES_DIR) -> list[str]:
    """The names of every query file in ``directory``, sorted."""
    return sorted(p.stem for p in Path(directory).glob("*.json"))
