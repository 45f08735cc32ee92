"""The Celery runner's tasks and queues come from the pipeline table (``workers/tasks.py``,
``workers/delivery/app.py``)."""

import pytest

pytestmark = pytest.mark.unit


def test_one_task_and_one_queue_per_stage_in_the_pipeline_s_order():
    from workers import tasks
    from workers.delivery.app import QUEUES, app
    from workers.pipeline import PIPELINE

    assert list(tasks.TASKS) == list(PIPELINE.names) == list(QUEUES)
    assert [task.name for task in tasks.TASKS.values()] == ["gleaner.parse", "gleaner.enrich", "gleaner.index"]
    assert app.conf.task_routes == {"gleaner.parse": {"queue": "parse"}, "gleaner.enrich": {"queue": "enrich"},
                                    "gleaner.index": {"queue": "index"}}
    assert [t.name for t in tasks._stages_after(PIPELINE["parse"])] == ["gleaner.enrich", "gleaner.index"]
    assert tasks._stages_after(PIPELINE["index"]) == ()
    assert app.conf.task_default_queue == "parse"


def test_the_index_task_takes_the_body_its_consumer_decoded():
    """Celery's strategy decodes a message's body on the consumer's thread; the index task's request
    hands that decoded body to the pool instead of the text, which a thread would decode again."""
    from kombu import Message

    from workers.delivery import codec
    from workers.delivery.app import THREAD_POOL_STAGES, DecodedOnceRequest, app
    from workers.tasks import TASKS

    assert THREAD_POOL_STAGES == ("index",)
    index = TASKS["index"]
    assert index.Request is DecodedOnceRequest
    assert all(TASKS[name].Request is not DecodedOnceRequest for name in ("parse", "enrich")), \
        "a prefork pool would pickle the decoded body to its child"
    body = codec.dumps([[[{"doc_id": "d1", "document": {"url": "u"}}]], {}, {"callbacks": None}])
    message = Message(body=body, content_type="application/json", content_encoding="utf-8",
                      headers={"task": "gleaner.index", "id": "t1"}, delivery_info={}, properties={})
    decoded = message.payload  # what the strategy has done by the time it builds the request
    request = DecodedOnceRequest(message, app=app, task=index, body=message.body)
    assert request.body is decoded and request.content_type is None
    assert request.args == [[{"doc_id": "d1", "document": {"url": "u"}}]]
