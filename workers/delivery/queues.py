"""What the broker holds: queue depths, unacknowledged messages, live workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from workers.delivery.app import QUEUES, app
from workers.redis_keys import UNACKED


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each stage's queue, plus those delivered but not yet acknowledged."""
    pipe = client.pipeline()
    for name in QUEUES:
        pipe.llen(name)
    pipe.hlen(UNACKED)
    *depths, unacked = pipe.execute()
    report: dict[str, int] = {name: int(n) for name, n in zip(QUEUES, depths, strict=True)}
    report["unacked"] = int(unacked)
    return report


def queued(queue: str) -> int:
    """Messages waiting in ``queue``, asked over Celery's own broker connection."""
    with app.connection_for_read() as connection:
        return int(connection.default_channel.client.llen(queue))


def workers_by_queue(timeout: float = 1.0) -> dict[str, list[str]]:
    """Live workers per queue (asks the workers over the broker; empty when none answer)."""
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return _by_queue(replies)


def _by_queue(replies: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    by_queue: dict[str, list[str]] = {name: [] for name in QUEUES}
    for worker, queues in sorted(replies.items()):
        for queue in queues:
            by_queue.setdefault(queue["name"], []).append(worker)
    return by_queue


def worker_report(timeout: float = 1.0) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    """Live workers per queue, and per worker its queues, pool, concurrency and tasks run.

    Both questions go out at once, so this takes ``timeout`` seconds, not twice that.
    """
    inspect = app.control.inspect(timeout=timeout)
    with ThreadPoolExecutor(max_workers=2) as pool:
        queues_f = pool.submit(inspect.active_queues)
        stats_f = pool.submit(app.control.inspect(timeout=timeout).stats)
        queues = queues_f.result() or {}
        stats = stats_f.result() or {}
    details: dict[str, dict[str, Any]] = {}
    for worker in sorted(set(queues) | set(stats)):
        info = stats.get(worker) or {}
        pool_info = info.get("pool") or {}
        details[worker] = {
            "queues": [q["name"] for q in queues.get(worker, [])],
            "pid": info.get("pid"),
            "pool": (pool_info.get("implementation") or "").split(":")[0].rsplit(".", 1)[-1] or None,
            "concurrency": pool_info.get("max-concurrency"),
            "tasks": info.get("total") or {},
            "uptime_s": info.get("uptime"),
        }
    return _by_queue(queues), details
