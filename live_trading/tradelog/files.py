"""The trade log on disk: ``{root}/trades_{symbol}_{interval}/``.

Each directory holds ``index.jsonl`` (one JSON object a line, sorted by
:func:`~live_trading.tradelog.fold.line_key`), one ``entry_*.md`` snapshot
per entry and ``current.json`` (``{"trades": [...]}``, the open trades).
Lines that arrive in order are appended; a line that sorts before the last
one makes the file be rewritten, merged, so the file always equals what a
rebuild writes. Snapshots, ``current.json`` and rewritten indexes are written
atomically (a temporary file, then ``os.replace``). A torn append (a crash
mid-line) is repaired by the rebuild done at every start.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from .fold import TradeLogEvent, latest_lines, line_key
from .snapshot import render_snapshot

log = logging.getLogger("live_trading.tradelog")

INDEX, CURRENT, PREFIX = "index.jsonl", "current.json", "trades_"
Key = tuple[str, str, int, int]


def dump_line(line: dict[str, Any]) -> str:
    """The ``index.jsonl`` text of one line (with its newline)."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def dump_current(trades: list[dict[str, Any]]) -> str:
    """The ``current.json`` text of the open trades."""
    return json.dumps({"trades": trades}, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class TradeLogFiles:
    """Reads and writes the trade log directories under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._last_keys: dict[str, Key | None] = {}
        self._current: dict[str, str] = {}

    def read_lines(self, name: str) -> list[dict[str, Any]]:
        """The lines of ``name``'s index ([] when there is none); a torn line
        (an interrupted append) is skipped with a warning."""
        path = self.root / name / INDEX
        if not path.exists():
            return []
        lines = []
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not text.strip():
                continue
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                log.warning("%s line %d is not JSON (torn write?); skipped", path, number)
        return lines

    def write(self, events: list[TradeLogEvent]) -> None:
        """Write the snapshots of ``events``' entries and add their lines."""
        grouped: dict[str, list[TradeLogEvent]] = defaultdict(list)
        for event in events:
            grouped[event.directory].append(event)
        for name, group in grouped.items():
            directory = self.root / name
            directory.mkdir(parents=True, exist_ok=True)
            self._write_snapshots(directory, group)
            self._add_lines(name, [event.line for event in group])

    def write_current(self, name: str, trades: list[dict[str, Any]]) -> None:
        """Write ``current.json`` of ``name`` when it changed (only where the
        directory exists: one is made by its first entry)."""
        text = dump_current(trades)
        directory = self.root / name
        if self._current.get(name) == text or not directory.is_dir():
            return
        write_atomic(directory / CURRENT, text)
        self._current[name] = text

    def replace_all(
        self, events: list[TradeLogEvent], current: dict[str, list[dict[str, Any]]]
    ) -> dict[str, int]:
        """Delete every trade log directory and write ``events`` afresh, with
        ``current`` (directory -> open trades). Returns lines per directory."""
        self.clear()
        grouped: dict[str, list[TradeLogEvent]] = defaultdict(list)
        for event in events:
            grouped[event.directory].append(event)
        counts = {}
        for name, group in sorted(grouped.items()):
            directory = self.root / name
            directory.mkdir(parents=True, exist_ok=True)
            self._write_snapshots(directory, group)
            lines = sorted(latest_lines([event.line for event in group]), key=line_key)
            write_atomic(directory / INDEX, "".join(dump_line(line) for line in lines))
            self._last_keys[name] = line_key(lines[-1])
            self.write_current(name, current.get(name, []))
            counts[name] = len(lines)
        return counts

    def clear(self) -> None:
        """Delete every ``trades_*`` directory under the root (nothing else)."""
        if self.root.is_dir():
            for path in sorted(self.root.glob(f"{PREFIX}*")):
                if path.is_dir():
                    shutil.rmtree(path)
        self._last_keys.clear()
        self._current.clear()

    def _write_snapshots(self, directory: Path, events: list[TradeLogEvent]) -> None:
        for event in events:
            if event.snapshot is not None:
                write_atomic(
                    directory / event.line["snapshotFile"],
                    render_snapshot(event.line, event.snapshot),
                )

    def _add_lines(self, name: str, lines: list[dict[str, Any]]) -> None:
        lines = sorted(latest_lines(lines), key=line_key)
        if name not in self._last_keys:
            existing = self.read_lines(name)
            self._last_keys[name] = max(map(line_key, existing)) if existing else None
        last = self._last_keys[name]
        path = self.root / name / INDEX
        if last is None or line_key(lines[0]) > last:
            with path.open("a", encoding="utf-8") as handle:
                handle.write("".join(dump_line(line) for line in lines))
        else:
            merged = {line_key(line): line for line in [*self.read_lines(name), *lines]}
            write_atomic(path, "".join(dump_line(merged[key]) for key in sorted(merged)))
        self._last_keys[name] = max(k for k in (last, line_key(lines[-1])) if k is not None)
