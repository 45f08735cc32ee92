"""Elasticsearch writes (``workers/store/elastic.py``): bulk items and the client's errors in Gleaner's tree."""

import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from workers.errors import PermanentPageError, TransientError
from workers.store.elastic import as_gleaner_error, index_item

pytestmark = pytest.mark.unit


def _api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "localhost", 9200))
    return ApiError(f"status {status}", meta=meta, body={})


def test_the_client_s_errors_in_gleaner_s_tree():
    assert isinstance(as_gleaner_error(_api_error(400)), PermanentPageError)
    assert as_gleaner_error(_api_error(400)).code == "rejected"
    for status in (429, 500, 503):
        assert isinstance(as_gleaner_error(_api_error(status)), TransientError), status
    assert isinstance(as_gleaner_error(ConnectionError("refused")), TransientError)
    bug = KeyError("x")
    assert as_gleaner_error(bug) is bug


def test_an_index_item_is_versioned_by_its_fetch_time():
    item = index_item("d", {"fetched_at": "2024-05-06T07:08:09Z", "body": "x"})
    assert item.version == 1714979289000 and item.source["body"] == "x"
    assert index_item("d", {"fetched_at": "2024-05-06T07:08:09"}).version == 1714979289000, "naive times are UTC"
    assert index_item("d", {"body": "x"}).version == 0
    for bad in (12, "not a time"):
        with pytest.raises(ValueError, match="fetched_at"):
            index_item("d", {"fetched_at": bad})
