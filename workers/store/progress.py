"""Per-submission progress and per-stage counters, kept in Redis.

A page's terminal state (indexed or failed) is set once per page through a bitmap indexed by the
page's position in its batch, so a redelivered message does not count twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

_BATCH = "gleaner:batch:"
_STAGE_COUNTS = "gleaner:stats:processed"
_RATE = "gleaner:rate:"  # per-stage, per-minute counters
TTL_S = 7 * 86400
# Stages counted per batch here; "indexed" and "failed" are counted once per page by ``finish``.
_BATCH_FIELD = {"parse": "parsed", "enrich": "enriched"}


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    submitted: int
    parsed: int
    enriched: int
    indexed: int
    failed: int
    done_submitting: bool

    @property
    def finished(self) -> int:
        return self.indexed + self.failed

    @property
    def complete(self) -> bool:
        return self.done_submitting and self.finished >= self.submitted


class ProgressStore:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def add_submitted(self, batch_id: str, n: int) -> None:
        pipe = self.redis.pipeline()
        pipe.hincrby(_BATCH + batch_id, "submitted", n)
        pipe.expire(_BATCH + batch_id, TTL_S)
        pipe.execute()

    def close_submission(self, batch_id: str, collection: str | None) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(_BATCH + batch_id, mapping={"done_submitting": 1, "collection": collection or ""})
        pipe.expire(_BATCH + batch_id, TTL_S)
        pipe.execute()

    def stage_done(self, stage: str, batch_id: str | None, n: int = 1) -> None:
        minute = int(time.time() // 60)
        pipe = self.redis.pipeline()
        pipe.hincrby(_STAGE_COUNTS, stage, n)
        pipe.hincrby(f"{_RATE}{stage}", str(minute), n)
        pipe.expire(f"{_RATE}{stage}", 3600)
        if batch_id and stage in _BATCH_FIELD:
            pipe.hincrby(_BATCH + batch_id, _BATCH_FIELD[stage], n)
        pipe.execute()

    def finish(self, batch_id: str | None, seq: int | None, outcome: str) -> None:
        """Mark a page indexed or failed, once."""
        if not batch_id or seq is None:
            return
        key = f"{_BATCH}{batch_id}:done"
        was_set = self.redis.setbit(key, seq, 1)
        if not was_set:
            pipe = self.redis.pipeline()
            pipe.hincrby(_BATCH + batch_id, outcome, 1)
            pipe.expire(key, TTL_S)
            pipe.execute()

    def get(self, batch_id: str) -> BatchProgress | None:
        raw = self.redis.hgetall(_BATCH + batch_id)
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}

        def num(name: str) -> int:
            return int(data.get(name) or 0)

        return BatchProgress(
            batch_id=batch_id,
            submitted=num("submitted"),
            parsed=num("parsed"),
            enriched=num("enriched"),
            indexed=num("indexed"),
            failed=num("failed"),
            done_submitting=data.get("done_submitting") == "1",
        )

    def stage_totals(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(_STAGE_COUNTS).items()}

    def stage_rates(self, minutes: int = 5) -> dict[str, float]:
        """Pages per second of each stage over the last complete ``minutes``."""
        now = int(time.time() // 60)
        rates = {}
        for stage in ("parse", "enrich", "index"):
            fields = [str(m) for m in range(now - minutes, now)]
            values = self.redis.hmget(f"{_RATE}{stage}", fields)
            rates[stage] = sum(int(v) for v in values if v) / (minutes * 60)
        return rates
