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
