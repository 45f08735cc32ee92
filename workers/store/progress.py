"""Per-submission progress and per-stage counters, kept in Redis.

A page's terminal state (indexed or failed) is set once per page through a bitmap indexed by the
page's position in its batch, so a redelivered message does not count twice. A second bitmap marks
the failed ones: a failed page that a retry (``gleaner failures retry``) gets indexed moves from
failed to indexed. Per-stage counters are also kept per minute for an hour (``gleaner status``
shows rates over the last minutes), and recent batches are listed in a sorted set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import redis

from workers import redis_keys as keys
from workers.pipeline import PIPELINE

TTL_S = 7 * 86400
RATE_TTL_S = 3600
#: what ``stage_history`` reports: pages submitted, each stage's completions, and pages failed
RATE_SERIES = ("submit", *PIPELINE.names, "failed")
#: the batch counter of each stage but the last, whose pages are counted once each by ``finish_many``
_BATCH_FIELD = {stage.name: stage.done for stage in PIPELINE if stage.next is not None}
Outcome = Literal["indexed", "failed"]

# KEYS: the batch's done bitmap, its failed bitmap, its hash. ARGV: outcome, TTL, page positions.
# Atomic, so a page that fails and is indexed at the same time (two deliveries) counts once.
_FINISH_LUA = """
local outcome, ttl = ARGV[1], tonumber(ARGV[2])
local newly, moved = 0, 0
for i = 3, #ARGV do
  local seq = tonumber(ARGV[i])
  local was_done = redis.call('SETBIT', KEYS[1], seq, 1)
  if outcome == 'failed' then
    if was_done == 0 then
      redis.call('SETBIT', KEYS[2], seq, 1)
      newly = newly + 1
    end
  elseif was_done == 0 then
    newly = newly + 1
  elseif redis.call('SETBIT', KEYS[2], seq, 0) == 1 then
    moved = moved + 1
  end
end
if newly + moved > 0 then
  redis.call('HINCRBY', KEYS[3], outcome, newly + moved)
  if moved > 0 then redis.call('HINCRBY', KEYS[3], 'failed', -moved) end
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return {newly, moved}
"""


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    submitted: int
    parsed: int
    enriched: int
    indexed: int
    failed: int
    done_submitting: bool
    collection: str | None = None
    created_at: float | None = None  # epoch seconds of the first submitted page

    @property
    def finished(self) -> int:
        return self.indexed + self.failed

    def done(self, stage: str) -> int:
        """Pages of the batch through ``stage``."""
        return int(getattr(self, PIPELINE[stage].done))

    @property
    def complete(self) -> bool:
        return self.done_submitting and self.finished >= self.submitted


class ProgressStore:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._finish_script = client.register_script(_FINISH_LUA)

    def add_submitted(self, batch_id: str, n: int) -> None:
        now = time.time()
        minute = int(now // 60)
        pipe = self.redis.pipeline()
        pipe.hincrby(keys.BATCH + batch_id, "submitted", n)
        pipe.hsetnx(keys.BATCH + batch_id, "created_at", f"{now:.3f}")
        pipe.expire(keys.BATCH + batch_id, TTL_S)
        pipe.zadd(keys.BATCHES, {batch_id: now}, nx=True)
        pipe.hincrby(keys.STAGE_COUNTS, "submit", n)
        pipe.hincrby(f"{keys.RATE}submit", str(minute), n)
        pipe.expire(f"{keys.RATE}submit", RATE_TTL_S)
        pipe.execute()

    def close_submission(self, batch_id: str, collection: str | None) -> None:
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.hset(keys.BATCH + batch_id, mapping={"done_submitting": 1, "collection": collection or ""})
        pipe.hsetnx(keys.BATCH + batch_id, "created_at", f"{now:.3f}")
        pipe.expire(keys.BATCH + batch_id, TTL_S)
        pipe.zadd(keys.BATCHES, {batch_id: now}, nx=True)
        pipe.zremrangebyscore(keys.BATCHES, "-inf", now - TTL_S)
        pipe.execute()

    def stage_done(self, stage: str, batch_id: str | None, n: int = 1) -> None:
        minute = int(time.time() // 60)
        pipe = self.redis.pipeline()
        pipe.hincrby(keys.STAGE_COUNTS, stage, n)
        pipe.hincrby(f"{keys.RATE}{stage}", str(minute), n)
        pipe.expire(f"{keys.RATE}{stage}", RATE_TTL_S)
        if batch_id and stage in _BATCH_FIELD:
            pipe.hincrby(keys.BATCH + batch_id, _BATCH_FIELD[stage], n)
        pipe.execute()

    def finish_many(self, batch_id: str | None, seqs: list[int | None], outcome: Outcome) -> None:
        """Mark pages of one batch indexed or failed, each once: one round trip, and one more for
        the failure rate counters when pages failed.

        A page's first outcome counts; the one exception is a failed page indexed later (a
        retry), which moves from failed to indexed. A page indexed first stays indexed.
        """
        seqs = [s for s in seqs if s is not None]
        if not batch_id or not seqs:
            return
        if outcome not in ("indexed", "failed"):
            raise ValueError(f"unknown outcome {outcome!r}")
        key = f"{keys.BATCH}{batch_id}"
        args: list[Any] = [outcome, TTL_S, *seqs]
        newly, _moved = self._finish_script(keys=[f"{key}:done", f"{key}:failed", key], args=args)
        if outcome == "failed" and newly:
            minute = int(time.time() // 60)
            pipe = self.redis.pipeline()
            pipe.hincrby(keys.STAGE_COUNTS, "failed", newly)
            pipe.hincrby(f"{keys.RATE}failed", str(minute), newly)
            pipe.expire(f"{keys.RATE}failed", RATE_TTL_S)
            pipe.execute()

    def get(self, batch_id: str) -> BatchProgress | None:
        raw = self.redis.hgetall(keys.BATCH + batch_id)
        if not raw:
            return None
        return _progress(batch_id, {_text(k): _text(v) for k, v in raw.items()})

    def recent_batches(self, n: int = 5) -> list[BatchProgress]:
        """The ``n`` most recently started batches that still have progress, newest first."""
        newest: list[bytes | str] = self.redis.zrevrange(keys.BATCHES, 0, max(n, 1) * 2 - 1)  # type: ignore[assignment]
        ids = [_text(b) for b in newest]
        pipe = self.redis.pipeline()
        for batch_id in ids:
            pipe.hgetall(keys.BATCH + batch_id)
        batches = []
        for batch_id, raw in zip(ids, pipe.execute(), strict=True):
            if raw:
                batches.append(_progress(batch_id, {_text(k): _text(v) for k, v in raw.items()}))
        return batches[:n]

    def stage_totals(self) -> dict[str, int]:
        return {_text(k): int(v) for k, v in self.redis.hgetall(keys.STAGE_COUNTS).items()}

    def stage_history(self, minutes: int = 15, now: float | None = None) -> dict[str, list[int]]:
        """Per series (``RATE_SERIES``), pages per minute over the last ``minutes`` minutes,
        oldest first; the last value is the current, incomplete minute."""
        now = time.time() if now is None else now
        current = int(now // 60)
        fields = [str(m) for m in range(current - minutes + 1, current + 1)]
        pipe = self.redis.pipeline()
        for series in RATE_SERIES:
            pipe.hmget(f"{keys.RATE}{series}", fields)
        return {series: [int(v) if v else 0 for v in values]
                for series, values in zip(RATE_SERIES, pipe.execute(), strict=True)}


def window_rate(per_minute: list[int], now: float, minutes: int) -> float:
    """Pages per second over the ``minutes * 60`` seconds before ``now``, from per-minute counts
    whose last entry is the current minute (``minutes + 1`` entries; the oldest one is counted
    for the part of it inside the window, as if its pages were spread evenly)."""
    if minutes <= 0 or not per_minute:
        return 0.0
    counts = per_minute[-(minutes + 1):]
    if len(counts) <= minutes:
        return sum(counts) / (minutes * 60)
    elapsed = (now % 60) / 60
    return (sum(counts[1:]) + counts[0] * (1 - elapsed)) / (minutes * 60)


def _progress(batch_id: str, data: dict[str, str]) -> BatchProgress:
    def num(name: str) -> int:
        return int(data.get(name) or 0)

    created = data.get("created_at")
    return BatchProgress(
        batch_id=batch_id,
        submitted=num("submitted"),
        parsed=num("parsed"),
        enriched=num("enriched"),
        indexed=num("indexed"),
        failed=num("failed"),
        done_submitting=data.get("done_submitting") == "1",
        collection=data.get("collection") or None,
        created_at=float(created) if created else None,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
