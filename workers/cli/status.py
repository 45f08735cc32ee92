"""``gleaner status``: the health and throughput of the whole service, gathered from the stores."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import typer

from workers.cli.format import safe_url
from workers.cli.output import JsonOpt, out, print_json
from workers.cli.status_view import STATUS_WINDOWS, render_status, status_ok
from workers.config import get_settings
from workers.pipeline import PIPELINE, can_retry
from workers.store.progress import BatchProgress


def status_report(*, failures_scan_limit: int = 5000) -> dict[str, Any]:
    """Everything ``gleaner status`` shows, as one JSON-able dict. Parts that are down say so
    (``redis: "down: ..."``) instead of failing the whole report."""
    from workers.delivery.queues import queue_depths, worker_report
    from workers.runtime import es_client, failure_store, progress_store, redis_client
    from workers.store.elastic import cluster_report
    from workers.store.failure_index import count_failures
    from workers.store.near_duplicates import duplicate_report
    from workers.store.progress import RATE_SERIES, window_rate

    settings = get_settings()
    report: dict[str, Any] = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        redis_client().ping()
        broker_up = True
    except Exception:  # noqa: BLE001 - reported below
        broker_up = False
    # The workers are asked over the broker (it takes the whole timeout): meanwhile, the rest.
    with ThreadPoolExecutor(max_workers=1) as pool:
        workers_future = pool.submit(worker_report if broker_up else _no_workers, timeout=1.0)
        try:
            client = redis_client()
            client.ping()
            info = client.info()
            report["redis"] = "ok"
            report["redis_info"] = {
                "url": safe_url(settings.redis_url), "version": info.get("redis_version"),
                "used_memory": info.get("used_memory"), "maxmemory_policy": info.get("maxmemory_policy"),
                "aof_enabled": bool(info.get("aof_enabled")), "connected_clients": info.get("connected_clients"),
                "uptime_s": info.get("uptime_in_seconds"),
            }
            report["queues"] = queue_depths(client)
            now = time.time()
            history = progress_store().stage_history(max(STATUS_WINDOWS) + 1, now)
            totals = progress_store().stage_totals()
            store = failure_store()
            # Failures recorded (by the failure store, per stage, since Redis started keeping them).
            failed_by_stage = store.recorded_by_stage()
            totals["failed"] = sum(failed_by_stage.values())
            report["stages"] = {
                series: {
                    "total": totals.get(series),
                    **{f"per_s_{m}m": round(window_rate(history[series], now, m), 3) for m in STATUS_WINDOWS},
                    "per_minute": history[series][1:],
                }
                for series in RATE_SERIES
            }
            stored = store.count()
            failures: dict[str, Any] = {"stored": stored, "recorded_by_stage": failed_by_stage}
            if stored <= failures_scan_limit:
                records = list(store)
                failures["by_reason"] = {f"{s}/{e}": n for (s, e), n in
                                         Counter((r.stage, r.error) for r in records).most_common()}
                failures["retryable"] = sum(1 for r in records if can_retry(r))
            report["failures"] = failures
            report["batches"] = [_batch_json(b) for b in progress_store().recent_batches(5)]
        except Exception as exc:  # noqa: BLE001 - status reports what is down
            report["redis"] = f"down: {exc.__class__.__name__}: {exc}"[:300]
        try:
            es = es_client()
            cluster = cluster_report(es, settings.index_alias)
            report["elasticsearch"] = cluster.pop("status")
            report["elasticsearch_info"] = {"url": safe_url(settings.es_url), **cluster}
            report["documents"] = sum(i.get("documents") or 0 for i in cluster["indices"].values())
        except Exception as exc:  # noqa: BLE001
            report["elasticsearch"] = f"down: {exc.__class__.__name__}"
        else:
            try:
                report["near_duplicates"] = duplicate_report(es, settings.index_alias)
            except Exception as exc:  # noqa: BLE001 - the rest of the report stands
                report["near_duplicates"] = {"error": f"{exc.__class__.__name__}: {exc}"[:300]}
            try:
                failures_indexed = count_failures(es)
                if failures_indexed is not None:
                    report["elasticsearch_info"]["failures_index_documents"] = failures_indexed
            except Exception:  # noqa: BLE001 - a writer may not read the failures index
                pass
        try:
            by_queue, details = workers_future.result()
        except Exception:  # noqa: BLE001 - no broker, no workers to ask
            by_queue, details = {}, {}
    report["workers"] = by_queue
    report["worker_pools"] = details
    return report


def _no_workers(timeout: float) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    return {}, {}


def _batch_json(b: BatchProgress) -> dict[str, Any]:
    return {"batch_id": b.batch_id, "collection": b.collection, "submitted": b.submitted,
            **{stage.done: b.done(stage.name) for stage in PIPELINE}, "failed": b.failed, "complete": b.complete,
            "started_at": datetime.fromtimestamp(b.created_at, timezone.utc).isoformat(timespec="seconds")
            if b.created_at else None}



def status(as_json: JsonOpt = False) -> None:
    """Queues, live workers, per-stage counts and rates over the last minutes, failures, recent
    batches, documents in the index, Redis and Elasticsearch health. Exit 1 when Redis or
    Elasticsearch is down or a queue has no live worker."""
    report = status_report()
    if as_json:
        print_json(report)
    else:
        for renderable in render_status(report, bundle_pages=get_settings().bundle_pages):
            out.print(renderable)
    raise typer.Exit(0 if status_ok(report) else 1)
