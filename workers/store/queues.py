"""What the broker holds: queue depths, unacknowledged messages, live workers."""

from __future__ import annotations

import redis

from workers.celery_app import QUEUES, app


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each stage's queue, plus those delivered but not yet acknowledged."""
    depths = {name: int(client.llen(name)) for name in QUEUES}
    depths["unacked"] = int(client.hlen("unacked"))
    return depths


def workers_by_queue(timeout: float = 1.0) -> dict[str, list[str]]:
    """Live workers per queue (asks the workers over the broker; empty when none answer)."""
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    by_queue: dict[str, list[str]] = {name: [] for name in QUEUES}
    for worker, queues in replies.items():
        for queue in queues:
            by_queue.setdefault(queue["name"], []).append(worker)
    return by_queue
