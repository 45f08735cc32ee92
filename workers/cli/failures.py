"""``gleaner failures``: list, show, retry and purge the failure store."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Annotated

import typer
from rich.markup import escape

from workers.cli.failures_view import page_excerpt, render_failure, render_failure_groups, select_failures
from workers.cli.format import plural
from workers.cli.output import JsonOpt, err, out, print_json
from workers.errors import CODES
from workers.pipeline import PIPELINE, can_retry

app = typer.Typer(help="The failure store: pages that will not be indexed, and why. "
                       "Without a command: the list, grouped by reason.")

ReasonOpt = Annotated[str | None, typer.Option(
    "--reason", help=f"Only this error code ({', '.join(list(CODES)[:4])}..., see workers/errors.py).")]
StageOpt = Annotated[str | None, typer.Option(
    "--stage", help=f"Only failures of this stage (submit, {', '.join(PIPELINE.names)}).")]
BatchOpt = Annotated[str | None, typer.Option("--batch", help="Only failures of this batch (its id, from submit).")]
CollectionOpt = Annotated[str | None, typer.Option("--collection", help="Only failures of this collection.")]


@app.callback(invoke_without_command=True)
def failures_main(ctx: typer.Context) -> None:
    """The failure store: pages that will not be indexed, and why."""
    if ctx.invoked_subcommand is None:
        failures_list()


@app.command("list")
def failures_list(
    reason: ReasonOpt = None,
    stage: StageOpt = None,
    batch: BatchOpt = None,
    collection: CollectionOpt = None,
    limit: Annotated[int, typer.Option(help="Pages shown per reason (0: all).")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Failed pages grouped by stage and reason, newest first; --json: one record per line."""
    from workers.runtime import failure_store

    records = select_failures(failure_store(), reason=reason, stage=stage, batch=batch, collection=collection)
    if as_json:
        for r in records:
            print_json(r.model_dump(mode="json", exclude={"payload"}))
        return
    for part in render_failure_groups(records, limit=limit):
        out.print(part)


@app.command("show")
def failures_show(
    failure_id: Annotated[str, typer.Argument(help="Id of the failure, or an unambiguous prefix of it.")],
    full: Annotated[bool, typer.Option("--full", help="The whole page, not an excerpt.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Write the stored page itself to stdout (raw bytes for parse failures).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """One failure: stage, reason, attempts, times, and an excerpt of the page it failed on."""
    from workers.runtime import failure_store

    record = failure_store().find(failure_id)
    if record is None:
        err.print(f"no failure with id {escape(failure_id)} (or the prefix is ambiguous): gleaner failures list")
        raise typer.Exit(1)
    excerpt = page_excerpt(record, None if full or raw else 1500)
    if raw:
        if excerpt is None or excerpt.data is None:
            err.print("no page is stored with this failure")
            raise typer.Exit(1)
        sys.stdout.buffer.write(excerpt.data)
        sys.stdout.flush()
        return
    if as_json:
        data = record.model_dump(mode="json", exclude={"payload"})
        data["retryable"] = can_retry(record)
        data["excerpt"] = excerpt.text if excerpt else None
        data["excerpt_kind"] = excerpt.kind if excerpt else None
        print_json(data)
        return
    for part in render_failure(record, excerpt):
        out.print(part, soft_wrap=False)


@app.command("retry")
def failures_retry(
    failure_id: Annotated[str | None, typer.Argument(help="Id (or prefix) of one failure.")] = None,
    reason: Annotated[str | None, typer.Option(help="Retry every failure with this error code.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every failure.")] = False,
    stage: StageOpt = None,
    batch: BatchOpt = None,
) -> None:
    """Send failed pages through the pipeline again, from the stage that failed. Their records
    leave the store; a page that fails again gets a new one."""
    from workers.delivery.resubmit import retry_failures
    from workers.runtime import failure_store

    store = failure_store()
    if failure_id:
        record = store.find(failure_id)
        if record is None:
            err.print(f"no failure with id {escape(failure_id)} (or the prefix is ambiguous)")
            raise typer.Exit(1)
        records = [record]
    elif reason or all_ or stage or batch:
        records = select_failures(store, reason=reason, stage=stage, batch=batch)
    else:
        err.print("name a failure id, --reason CODE, --stage, --batch or --all")
        raise typer.Exit(2)
    if not records:
        err.print("no failures match")
        raise typer.Exit(1)
    groups = Counter((r.stage, r.error) for r in records if can_retry(r))
    sent, unretryable = retry_failures(store, records)
    err.print(f"resubmitted {plural(sent, 'page')}" + (": " + ", ".join(f"{s}/{e} {n:,}" for (s, e), n in
                                                                        groups.most_common()) if groups else ""),
              highlight=False)
    if unretryable:
        err.print(f"{plural(unretryable, 'page')} cannot be retried (refused at submit or no stored page: "
                  "resubmit the files with gleaner submit)", highlight=False)
    if sent:
        err.print("follow them with gleaner status; pages that fail again are back in gleaner failures list",
                  highlight=False)


@app.command("purge")
def failures_purge(
    reason: ReasonOpt = None,
    stage: StageOpt = None,
    batch: BatchOpt = None,
) -> None:
    """Delete failure records: all of them, or those of a reason, stage or batch."""
    from workers.runtime import failure_store

    store = failure_store()
    if reason or stage or batch:
        records = select_failures(store, reason=reason, stage=stage, batch=batch)
        deleted = sum(1 for r in records if store.delete(r.id))
    else:
        deleted = store.purge()
    err.print(f"purged {deleted:,} failure records")
