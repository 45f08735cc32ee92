from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rich.console import Console, RenderableType

from workers.models import FailureRecord


def render(renderable: RenderableType, width: int = 100) -> str:
    with open("/dev/null", "w") as sink:
        console = Console(width=width, record=True, color_system=None, file=sink)
        console.print(renderable)
        return console.export_text()


def record(rid: str, stage="parse", error="binary_content", reason="not a web page: looks like PNG image",
           minutes_ago: int = 1, payload=None, **kw) -> FailureRecord:
    when = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return FailureRecord(id=rid, stage=stage, error=error, reason=reason, source=kw.pop("source", f"/data/{rid}.html"),
                         first_failed_at=when, last_failed_at=when, payload=payload, **kw)


@pytest.fixture
def rendered():
    return render
