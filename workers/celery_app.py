"""The Celery application: Redis broker, one queue per stage, at-least-once delivery."""

from __future__ import annotations

from celery import Celery
from celery.signals import after_setup_logger
from kombu import Queue

from workers.config import get_settings

QUEUES = ("parse", "enrich", "index")


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("gleaner", broker=settings.redis_url, include=["workers.tasks"])
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_routes={
            "gleaner.parse": {"queue": "parse"},
            "gleaner.enrich": {"queue": "enrich"},
            "gleaner.index": {"queue": "index"},
        },
        task_default_queue="parse",
        task_serializer="json",
        accept_content=["json"],
        # At-least-once: a message is acknowledged only after its task has finished, and given
        # back to the queue if the worker process dies while running it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_soft_time_limit=settings.task_soft_time_limit_s,
        task_time_limit=settings.task_hard_time_limit_s,
        broker_transport_options={
            # Unacknowledged messages come back after this; it must exceed the longest a task
            # can hold one: the hard time limit plus the longest retry countdown.
            "visibility_timeout": settings.visibility_timeout_s,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_send_task_events=True,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
    )
    return app


app = make_celery()


@after_setup_logger.connect
def _log_format(logger, *args, **kwargs) -> None:  # noqa: ANN001 - Celery signal signature
    from workers import logs

    logs.install(get_settings().log_json)
