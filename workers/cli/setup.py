"""``gleaner setup``: the index template and alias, the failures index, the Kibana objects."""

from __future__ import annotations

import typer

from workers.cli.output import err
from workers.config import get_settings


def setup() -> None:
    """Install the index template and the write alias, the failures index (for Kibana), and
    the Kibana objects when GLEANER_KIBANA_URL is set."""
    from workers.runtime import es_client, failure_store
    from workers.store.elastic import ensure_index
    from workers.store.failure_index import FAILURES_INDEX, sync_failures_index

    settings = get_settings()
    created = ensure_index(es_client(), settings.index_alias, update_template=True)
    err.print(f"index template installed; alias '{settings.index_alias}' " + ("created" if created else "exists"))
    if not created:
        from workers.store.near_duplicates import backfill_clusters

        placed = backfill_clusters(es_client(), settings.index_alias)
        if placed:
            err.print(f"{placed:,} documents indexed before near-duplicate clusters each got a cluster of their own")
    try:
        records = list(failure_store())
    except Exception as exc:  # noqa: BLE001 - Redis is not needed to set up Elasticsearch
        err.print(f"failure store not readable ({exc.__class__.__name__}): '{FAILURES_INDEX}' not synced")
        records = []
    written, errors = sync_failures_index(es_client(), records)
    err.print(f"failures index '{FAILURES_INDEX}' ready; {written:,} failure records copied"
              + (f", {errors:,} rejected" if errors else ""))
    if settings.kibana_url:
        from workers.store.kibana import KibanaError, import_saved_objects

        try:
            err.print(import_saved_objects(settings, progress=err.print))
        except KibanaError as exc:
            err.print(f"[red]Kibana import failed[/]: {exc}")
            raise typer.Exit(1) from None
