"""Stand-ins for the pipeline's resources (unit tests only: the real ones are exercised by the
integration and fault suites)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from workers.models import Entity
from workers.store.elastic import BulkItemResult, IndexItem


class FakeEntities:
    """An entity finder that names one entity per page, and breaks on pages whose body says BREAK."""

    version = "fake-ner-1"

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.singles = 0

    def one(self, page) -> list[Entity]:
        self.singles += 1
        if "BREAK" in page.body:
            raise ValueError("this page breaks the model")
        return [Entity(id="person:benny-gantz", name="Benny Gantz", label="PERSON", count=1, salience=1.0)]

    def batch(self, pages: Sequence) -> list[list[Entity]]:
        self.batches.append(len(pages))
        if any("BREAK" in page.body for page in pages):
            raise ValueError("this batch breaks the model")
        return [[Entity(id="person:benny-gantz", name="Benny Gantz", label="PERSON", count=1, salience=1.0)] for _ in pages]


class FakeWriter:
    """A bulk writer: documents whose title says REJECT are refused, RETRY ones are not written."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def __call__(self, items: Sequence[IndexItem]) -> list[BulkItemResult | Exception]:
        results: list[BulkItemResult | Exception] = []
        for item in items:
            title = str(item.source.get("title") or "")
            if "REJECT" in title:
                results.append(BulkItemResult(item.doc_id, "rejected", "mapper_parsing_exception"))
            elif "RETRY" in title:
                results.append(BulkItemResult(item.doc_id, "retry", "status 503"))
            else:
                self.written.append(item.doc_id)
                results.append(BulkItemResult(item.doc_id, "indexed"))
        return results


@pytest.fixture
def fake_entities() -> FakeEntities:
    return FakeEntities()


@pytest.fixture
def fake_writer() -> FakeWriter:
    return FakeWriter()
