"""The Celery application: Redis broker, one queue per stage of the pipeline, at-least-once delivery.

The broker transport (reliable fetch and consumer leases on top of kombu's Redis transport) is
``workers/delivery/transport.py``; the tasks are ``workers/tasks.py``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import after_setup_logger
from celery.worker.request import Request
from kombu import Queue, serialization

from workers.config import get_settings
from workers.delivery import codec
from workers.delivery.broker_wait import broker_retry_policy
from workers.pipeline import PIPELINE, task_name

#: one queue per stage, named after it
QUEUES = PIPELINE.names
#: the stages whose workers run a thread pool (``--pool threads`` in docker-compose.yml and
#: ops/stack.sh): their work waits on Elasticsearch, not the CPU
THREAD_POOL_STAGES: tuple[str, ...] = ("index",)
SERIALIZER = "gleaner-json"
# kombu's JSON written and read by orjson (workers/delivery/codec.py), under kombu's own
# content type: either side reads what the other writes.
serialization.register(SERIALIZER, codec.dumps, codec.loads, content_type="application/json",
                       content_encoding="utf-8")


class DecodedOnceRequest(Request):
    """Celery's task request, handing the pool the body the consumer has already decoded.

    Celery's strategy decodes every message on the consumer's thread (to tell protocol 1 from
    2), and a thread pool's worker then decoded the same body again. For the index worker, whose
    messages are bundles of whole documents, that second decode was a fifth of its CPU. Only for a
    thread pool: a prefork pool would pickle the decoded body to its child instead of the text.
    """

    def __init__(self, message: Any, *args: Any, body: Any = None, decoded: bool = False, **kwargs: Any) -> None:
        if not decoded and (body is None or body is message.body):
            body, decoded = message.payload, True  # kombu keeps the message's decoded payload
        super().__init__(message, *args, body=body, decoded=decoded, **kwargs)


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("gleaner", broker=settings.redis_url, include=["workers.tasks"])
    app.conf.update(
        broker_transport="workers.delivery.transport:GleanerRedisTransport",
        task_queues=[Queue(name) for name in QUEUES],
        task_routes={task_name(name): {"queue": name} for name in QUEUES},
        task_default_queue=PIPELINE.first.name,
        task_serializer=SERIALIZER,
        accept_content=["json"],
        # At-least-once: a message is acknowledged only after its task has finished (the next
        # stage's message is published first), and given back to the queue if the worker process
        # dies while running it or the task hits its hard time limit. Redeliveries are counted
        # per page (workers/delivery/bundles.py): a page that keeps killing its worker becomes a failure.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_timeout=False,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_soft_time_limit=settings.task_soft_time_limit_s,
        task_time_limit=settings.task_hard_time_limit_s,
        broker_transport_options={
            # kombu's backstop: unacked messages older than this are requeued by any consumer.
            # Above the longest a live worker holds one (hard time limit + longest retry delay).
            "visibility_timeout": settings.visibility_timeout_s,
            "unacked_mutex_expire": 60,
            # Dead consumers' messages come back after this (heartbeat-based, see above).
            "consumer_lease": settings.consumer_lease_s,
            # One list per queue (no priorities), so a consumer can fetch with one BLMOVE.
            "priority_steps": [0],
            # The JSON body goes into the envelope as it is, not base64'd again (kombu's default):
            # a third less to send, store and decode for bundles of compressed pages.
            "body_encoding": "utf-8",
            # A publish or command on a dead connection fails instead of hanging.
            "socket_timeout": 30,
            "socket_connect_timeout": 10,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        task_publish_retry_policy=broker_retry_policy(settings.broker_wait_s),
        worker_send_task_events=settings.task_events,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
    )
    return app


app = make_celery()


@after_setup_logger.connect
def _log_format(*args: Any, **kwargs: Any) -> None:
    from workers import logs

    logs.install(get_settings().log_json)
