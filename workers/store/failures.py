"""The failure store (Gleaner's dead-letter queue), kept in Redis.

One record per page (keyed by its source and URL), so a page that fails again updates its record
instead of adding one. Records expire after ``failure_ttl_days``. Whoever builds the store may
hand it ``on_record``, called with each record written (``workers/runtime.py`` copies them to the
failures index for Kibana); the store itself does nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import redis

from workers.models import FailureRecord, Stage
from workers.redis_keys import FAILED_BY_STAGE, FAILURE, FAILURES


def failure_id(source: str, url: str | None) -> str:
    return hashlib.sha256(f"{url or ''}\x00{source}".encode()).hexdigest()[:20]


class FailureStore:
    def __init__(self, client: redis.Redis, ttl_days: int = 30,
                 on_record: Callable[[FailureRecord], None] | None = None) -> None:
        self.redis = client
        self.ttl_s = ttl_days * 86400
        self._on_record = on_record

    def record(
        self,
        *,
        stage: Stage,
        reason: str,
        error: str,
        source: str,
        url: str | None,
        collection: str | None,
        batch_id: str | None,
        payload: dict[str, Any] | None,
        attempts: int = 1,
    ) -> FailureRecord:
        rid = failure_id(source, url)
        now = datetime.now(timezone.utc)
        previous = self.get(rid)
        record = FailureRecord(
            id=rid,
            stage=stage,
            reason=reason,
            error=error,
            source=source,
            url=url,
            collection=collection,
            batch_id=batch_id,
            attempts=(previous.attempts + attempts) if previous else attempts,
            first_failed_at=previous.first_failed_at if previous else now,
            last_failed_at=now,
            payload=payload,
        )
        pipe = self.redis.pipeline()
        pipe.set(FAILURE + rid, record.model_dump_json(), ex=self.ttl_s)
        pipe.zadd(FAILURES, {rid: now.timestamp()})
        pipe.hincrby(FAILED_BY_STAGE, stage, 1)
        pipe.execute()
        if self._on_record is not None:
            self._on_record(record)
        return record

    def get(self, rid: str) -> FailureRecord | None:
        raw = self.redis.get(FAILURE + rid)
        return FailureRecord.model_validate_json(raw) if raw else None

    def find(self, prefix: str) -> FailureRecord | None:
        """A record by its id or an unambiguous prefix of it."""
        if len(prefix) >= 20:
            return self.get(prefix)
        matches = [rid for rid in self.ids() if rid.startswith(prefix)]
        return self.get(matches[0]) if len(matches) == 1 else None

    def ids(self) -> list[str]:
        ids: list[bytes | str] = self.redis.zrevrange(FAILURES, 0, -1)  # type: ignore[assignment]
        return [r.decode() if isinstance(r, bytes) else r for r in ids]

    def __iter__(self) -> Iterator[FailureRecord]:
        for rid in self.ids():
            record = self.get(rid)
            if record is None:  # expired
                self.redis.zrem(FAILURES, rid)
                continue
            yield record

    def count(self) -> int:
        return int(self.redis.zcard(FAILURES))

    def recorded_by_stage(self) -> dict[str, int]:
        """Failures recorded per stage since Redis started keeping them (purged ones included)."""
        return {(k.decode() if isinstance(k, bytes) else k): int(v)
                for k, v in self.redis.hgetall(FAILED_BY_STAGE).items()}

    def forget(self, source: str, url: str | None, pipe: redis.client.Pipeline | None = None) -> None:
        """Drop the record of a page that has since been indexed (queued on ``pipe`` if given)."""
        rid = failure_id(source, url)
        target = pipe if pipe is not None else self.redis.pipeline()
        target.delete(FAILURE + rid)
        target.zrem(FAILURES, rid)
        if pipe is None:
            target.execute()

    def delete(self, rid: str) -> bool:
        pipe = self.redis.pipeline()
        pipe.delete(FAILURE + rid)
        pipe.zrem(FAILURES, rid)
        return bool(pipe.execute()[0])

    def purge(self) -> int:
        ids = self.ids()
        for rid in ids:
            self.delete(rid)
        return len(ids)
