"""The load side of ``bench/api_load.py``, run as a separate process.

``python bench/_load_client.py http CONFIG_JSON``: for each endpoint and
each concurrency level, ``level`` workers send requests back to back for
``seconds`` and at least ``min_requests`` requests (httpx, one async
client, bearer token), rising until
requests/s has stopped growing (``past_knee`` levels without a 10 % gain);
prints per level the requests, errors, requests/s and latency percentiles
(ms) as JSON.

``python bench/_load_client.py ws CONFIG_JSON``: connects ``clients``
WebSockets to ``/ws/overall``, prints ``ready`` once every client has its
``hello``, then reads from stdin one JSON line ``{"expected": {op: last
sequence}, "committed": {"op:seq": unix time}}``, waits until every client
has every expected entry (or ``timeout`` seconds), and prints, per client,
the entries missed and duplicated, and the delivery lags (ms) as JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from typing import Any

import httpx
from websockets.asyncio.client import connect


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": rank(0.5), "p99": rank(0.99), "max": ordered[-1] * 1000}


def _path(endpoint: str, config: dict[str, Any], rng: random.Random) -> str:
    if endpoint == "trades":
        op = rng.choice(config["operation_ids"])
        offset = rng.randrange(0, max(1, config["trades_per_operation"] - config["page"]))
        return f"/api/operations/{op}/trades?limit={config['page']}&offset={offset}"
    return {"operations": "/api/operations", "stats": "/api/stats/overall"}[endpoint]


async def _level(
    client: httpx.AsyncClient, endpoint: str, level: int, config: dict[str, Any]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + config["seconds"]

    async def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        while time.perf_counter() < deadline or len(latencies) < config["min_requests"]:
            started = time.perf_counter()
            response = await client.get(_path(endpoint, config, rng))
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(level)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": level,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        **_percentiles(latencies),
    }


async def http_load(config: dict[str, Any]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=max(config["levels"]) + 4)
    headers = {"Authorization": f"Bearer {config['token']}"}
    results: dict[str, list[dict[str, Any]]] = {}
    async with httpx.AsyncClient(
        base_url=config["url"], headers=headers, limits=limits, timeout=120
    ) as client:
        for endpoint in config["endpoints"]:
            await client.get(_path(endpoint, config, random.Random(0)))  # warm up
            results[endpoint] = levels = []
            for level in config["levels"]:
                levels.append(await _level(client, endpoint, level, config))
                if _stopped_growing(levels, config.get("past_knee", 1)):
                    break
    return results


def _stopped_growing(levels: list[dict[str, Any]], past: int) -> bool:
    """True once ``past`` levels in a row have not raised requests/s by 10 %
    over the best so far (more load would only queue)."""
    if len(levels) <= past:
        return False
    best = max(level["rps"] for level in levels[:-past])
    return all(level["rps"] < 1.10 * best for level in levels[-past:])


class FeedClient:
    """One ``/ws/overall`` client: every journal entry it receives, timed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.received: Counter = Counter()
        self.arrival: dict[str, float] = {}
        self.hello = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        async with connect(self.url, max_size=2**24, open_timeout=120) as socket:
            async for raw in socket:
                message = json.loads(raw)
                if message.get("type") == "hello":
                    self.hello.set()
                elif message.get("type") == "journal_entry":
                    key = f"{message['operation_id']}:{message['sequence_number']}"
                    self.received[key] += 1
                    self.arrival.setdefault(key, time.time())

    def has(self, expected: set[str]) -> bool:
        return expected.issubset(self.received)


async def feed_clients(config: dict[str, Any]) -> dict[str, Any]:
    url = config["url"].replace("http", "ws", 1) + f"/ws/overall?token={config['token']}"
    clients = [FeedClient(url) for _ in range(config["clients"])]
    for client in clients:
        client.task = asyncio.create_task(client.run())
    await asyncio.wait_for(asyncio.gather(*(c.hello.wait() for c in clients)), 120)
    print("ready", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    plan = json.loads(line)
    expected = {
        f"{op}:{seq}" for op, last in plan["expected"].items() for seq in range(1, last + 1)
    }
    deadline = time.monotonic() + config["timeout"]
    while time.monotonic() < deadline and not all(c.has(expected) for c in clients):
        await asyncio.sleep(0.1)
    await asyncio.sleep(config.get("settle", 1.0))  # late duplicates would show up now
    for client in clients:
        assert client.task is not None
        client.task.cancel()
    committed = plan["committed"]
    return {
        "clients": [_client_result(c, expected, committed) for c in clients],
        "expected_entries": len(expected),
    }


def _client_result(
    client: FeedClient, expected: set[str], committed: dict[str, float]
) -> dict[str, Any]:
    ours = {k: n for k, n in client.received.items() if k in expected}
    lags = [client.arrival[k] - committed[k] for k in ours if k in committed]
    return {
        "received": sum(ours.values()),
        "missed": len(expected - set(ours)),
        "duplicated": sum(n - 1 for n in ours.values() if n > 1),
        "lag": _percentiles(lags),
    }


def main() -> None:
    mode, config = sys.argv[1], json.loads(sys.argv[2])
    runner = http_load if mode == "http" else feed_clients
    print(json.dumps(asyncio.run(runner(config))), flush=True)


if __name__ == "__main__":
    main()
