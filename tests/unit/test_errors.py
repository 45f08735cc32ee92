"""The error tree and the failure codes (``workers/errors.py``)."""

import pytest
from pydantic import BaseModel, ValidationError

from workers.errors import (
    CODES,
    TRANSIENT_ERRORS,
    BrokerUnavailable,
    GleanerError,
    PageFailure,
    PermanentPageError,
    TransientError,
)
from workers.models import PageRef

pytestmark = pytest.mark.unit


def test_the_tree():
    assert issubclass(PermanentPageError, GleanerError) and issubclass(TransientError, GleanerError)
    assert issubclass(BrokerUnavailable, TransientError)
    assert all(issubclass(kind, Exception) for kind in TRANSIENT_ERRORS)
    assert isinstance(ConnectionError("x"), TRANSIENT_ERRORS) and not isinstance(PermanentPageError("a", "b"),
                                                                                 TRANSIENT_ERRORS)


def test_every_failure_is_recorded_with_a_known_code():
    class Model(BaseModel):
        n: int

    with pytest.raises(ValidationError) as invalid:
        Model.model_validate({"n": "x"})
    page = PageRef(source="a.html", url="https://x.org/a")
    binary = PageFailure.of(PermanentPageError("binary_content", "a PNG"), page=page, stage="parse")
    assert (binary.error, binary.reason, binary.source, binary.url, binary.stage) == (
        "binary_content", "a PNG", "a.html", "https://x.org/a", "parse")
    assert PageFailure.of(invalid.value).error == "invalid_message"
    assert (PageFailure.of(KeyError("k")).error, PageFailure.of(KeyError("k")).reason) == ("internal_error", "KeyError: 'k'")
    assert PageFailure.of(ConnectionError("refused")).error == "unavailable"
    assert PageFailure("empty", "the page is empty").as_dict() == {
        "source": "unknown", "url": None, "stage": None, "error": "empty", "reason": "the page is empty"}
    assert {"binary_content", "invalid_message", "internal_error", "poison_page", "refused_at_submit"} <= set(CODES)


def test_an_error_about_a_page_keeps_its_code():
    page = PageRef(source="p.jsonl#3", url="https://x.org/")
    about = PermanentPageError("too_short_after_cleaning", "3 words").about(page)
    assert (about.code, about.reason, about.page) == ("too_short_after_cleaning", "3 words", page)
    assert PageFailure.of(about, page=PageRef(source="p.jsonl#3")).page == page, "the error knows its page better"
