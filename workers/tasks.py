"""The Celery runner: one task per stage of the pipeline (``workers/pipeline.py``), each thin.

A task validates its bundle's messages against its stage's model, runs the stage, and hands the
outcome of each page to the delivery engine (``workers/delivery/bundles.py``), which hands the
pages on to the next stage, retries them or records them as failed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from workers import logs
from workers.delivery.app import THREAD_POOL_STAGES, DecodedOnceRequest, app
from workers.delivery.bundles import BundleOutcome, Message, deliver, run_page
from workers.errors import TRANSIENT_ERRORS, PageFailure
from workers.pipeline import PIPELINE, Resources, Stage, task_name
from workers.runtime import worker_resources


def outcome_of(stage: Stage, messages: list[Any], resources: Resources) -> BundleOutcome:
    """Validate, run the stage, and sort its pages: handed on, failed, or to retry."""
    outcome = BundleOutcome()
    valid: list[tuple[Message, Any]] = []
    for message in messages:
        model = run_page(outcome, message, partial(stage.takes.model_validate, message))
        if model is not None:
            valid.append((message, model))
    results = stage.run([model for _, model in valid], resources)
    for (message, _), result in zip(valid, results, strict=True):
        if isinstance(result, TRANSIENT_ERRORS):
            outcome.transient.append((message, str(result)[:1000]))
        elif isinstance(result, Exception):
            outcome.failed.append((message, PageFailure.of(result)))
        else:
            outcome.done.append((message, result.model_dump(mode="json") if stage.gives else None))
    return outcome


def _stages_after(stage: Stage) -> tuple[Task, ...]:
    return tuple(TASKS[after.name] for after in PIPELINE.from_stage(stage.name)[1:])


def _define(stage: Stage) -> Task:
    def work(messages: list[Any]) -> BundleOutcome:
        return outcome_of(stage, messages, worker_resources(interrupts=(SoftTimeLimitExceeded,)))

    # A thread pool's tasks take the body its consumer has already decoded.
    options: dict[str, Any] = {"Request": DecodedOnceRequest} if stage.name in THREAD_POOL_STAGES else {}

    @app.task(name=task_name(stage.name), bind=True, max_retries=None, **options)
    def run(self: Task, messages: list[Message] | Message) -> None:
        with logs.bind(stage=stage.name):
            deliver(self, stage.name, messages, work, next_tasks=_stages_after(stage))

    return run


#: the Celery task of each stage, by stage name
TASKS: dict[str, Task] = {stage.name: _define(stage) for stage in PIPELINE}
