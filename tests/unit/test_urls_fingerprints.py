import pytest

from workers.stages.fingerprints import content_hash, normalize_text, simhash
from workers.stages.text_stats import count_words
from workers.stages.urls import document_id, domain_of, normalize_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("a,b", [
    ("HTTP://Example.COM:80/a?b=2&a=1#frag", "http://example.com/a?a=1&b=2"),
    ("https://example.com/a?utm_source=x&id=3&fbclid=y", "https://example.com/a?id=3"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
])
def test_normalize_url(a, b):
    assert normalize_url(a) == b


@pytest.mark.parametrize("bad", ["not a url", "ftp://example.com/x", "javascript:alert(1)", "http://[::1"])
def test_non_http_urls_are_not_normalized(bad):
    assert normalize_url(bad) is None


def test_document_id_from_url_or_content():
    assert document_id("https://Example.com/a#x", "body one") == document_id("https://example.com/a?utm_medium=m", "other")
    assert document_id(None, "body one") == document_id(None, "body one")
    assert document_id(None, "body one") != document_id(None, "body two")
    assert len(document_id(None, "x")) == 32


def test_domain():
    assert domain_of("https://www.jpost.com/x") == "jpost.com"
    assert domain_of(None) is None


def test_content_hash_ignores_case_and_spacing():
    assert content_hash("Hello,  World!") == content_hash("hello world")
    assert normalize_text("A  b\nC.") == "a b c"


def test_simhash_near_duplicates_are_close():
    base = " ".join(f"word{i}" for i in range(300))
    near = base.replace("word150", "changed")
    far = " ".join(f"other{i}" for i in range(300))
    distance = lambda x, y: bin(int(simhash(x), 16) ^ int(simhash(y), 16)).count("1")  # noqa: E731
    assert distance(base, near) <= 8 < distance(base, far)
    assert len(simhash(base)) == 16 and simhash("") == "0" * 16


def test_count_words_counts_cjk_characters():
    assert count_words("three little words") == 3
    assert count_words("東京で会議") == 5
