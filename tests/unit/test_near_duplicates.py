
import pytest

from tests.texts import random_story
from workers.models import DedupFields
from workers.stages import near_duplicates as nd

pytestmark = pytest.mark.unit

_VOCAB = [f"w{i}" for i in range(5000)]


def _article(seed: int, n: int = 400) -> str:
    return random_story(seed, n, sentence_words=20, sentences_per_paragraph=4, vocabulary=5000)


def _exact_jaccard(a: str, b: str) -> float:
    def grams(text: str) -> set[str]:
        w = nd._TOKEN.findall(text.lower())
        return {" ".join(w[i:i + nd.SHINGLE_WORDS]) for i in range(max(1, len(w) - nd.SHINGLE_WORDS + 1))}
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb)


def test_fingerprint_shape_and_determinism():
    keys = nd.fingerprint(_article(1))
    assert keys == nd.fingerprint(_article(1))
    assert len(keys.bands) == nd.BANDS and len(set(keys.bands)) == nd.BANDS
    assert [b[0] for b in keys.bands] == list("0123456789abcdefghijklmnopqrstuv") and {len(b) for b in keys.bands} == {8}
    assert len(keys.signature) == nd.NUM_PERM
    assert keys.shingles == 400 - nd.SHINGLE_WORDS + 1
    assert nd.DedupKeys.from_stored(keys.stored()) == keys
    assert DedupFields(**keys.stored()).model_dump() == keys.stored()


def test_case_punctuation_and_spacing_do_not_matter():
    text = _article(2)
    assert nd.fingerprint(text) == nd.fingerprint(text.upper().replace(" ", "  ").replace(".", " ;"))


@pytest.mark.parametrize("kept", [0.9, 0.7, 0.5, 0.3])
def test_similarity_estimates_jaccard(kept):
    a = _article(3, 1000).split(" ")
    b = a[: int(len(a) * kept)] + _article(4, 1000).split(" ")[int(len(a) * kept):]
    a, b = " ".join(a), " ".join(b)
    assert nd.similarity(nd.fingerprint(a), nd.fingerprint(b)) == pytest.approx(_exact_jaccard(a, b), abs=0.12)


def test_copies_with_boilerplate_and_a_cut_paragraph_are_near_duplicates():
    body = _article(5)
    paragraphs = body.split("\n\n")
    copy = "Home News Sport Subscribe\n\n" + "\n\n".join(paragraphs[:2] + paragraphs[3:]) + "\n\nCookies Privacy Contact us"
    a, b = nd.fingerprint(body), nd.fingerprint(copy)
    assert nd.is_near_duplicate(a, b)
    assert nd.similarity(a, b) > 0.7


def test_different_texts_share_no_band_and_are_not_duplicates():
    a, b = nd.fingerprint(_article(6)), nd.fingerprint(_article(7))
    assert not set(a.bands) & set(b.bands)
    assert nd.similarity(a, b) < 0.05
    assert not nd.is_near_duplicate(a, b)


def test_empty_body_matches_nothing():
    assert nd.fingerprint("  ... ") is nd.EMPTY
    assert not nd.is_near_duplicate(nd.EMPTY, nd.EMPTY)
    assert nd.similarity(nd.EMPTY, nd.fingerprint("one two three")) == 0.0


def test_short_body_is_one_shingle():
    keys = nd.fingerprint("Breaking news")
    assert keys.shingles == 1 and nd.is_near_duplicate(keys, nd.fingerprint("breaking   NEWS!"))


def test_cjk_characters_are_tokens():
    text = "東京で国際会議が開かれ、各国の代表が気候変動について議論した。" * 5
    edited = text.replace("議論した", "話し合った", 1)
    assert nd.fingerprint(text).shingles > 20
    assert nd.is_near_duplicate(nd.fingerprint(text), nd.fingerprint(edited))


def test_min_agreements_is_the_boundary_of_the_threshold():
    for threshold in (0.3, 0.4, 0.5, 0.8):
        need = nd.min_agreements(threshold)
        base = bytes(range(nd.NUM_PERM))
        at = nd.DedupKeys(("x",), bytes(b if i < need else 255 - b for i, b in enumerate(base)), 10)
        below = nd.DedupKeys(("x",), bytes(b if i < need - 1 else 255 - b for i, b in enumerate(base)), 10)
        ref = nd.DedupKeys(("x",), base, 10)
        assert nd.similarity(ref, at) >= threshold > nd.similarity(ref, below)


def test_very_long_body_is_fingerprinted():
    keys = nd.fingerprint(" ".join(_VOCAB[i % 4999] + str(i // 4999) for i in range(200_000)))
    assert keys.shingles > 190_000 and len(keys.bands) == nd.BANDS


def test_new_cluster_id_depends_on_document_and_text():
    a, b = nd.fingerprint(_article(8)), nd.fingerprint(_article(9))
    assert nd.new_cluster_id("d1", a) == nd.new_cluster_id("d1", a)
    assert len({nd.new_cluster_id("d1", a), nd.new_cluster_id("d2", a), nd.new_cluster_id("d1", b)}) == 3


def test_decide_prefers_own_earlier_version_then_most_similar():
    body = _article(10)
    keys = nd.fingerprint(body)
    near = nd.fingerprint(body + " one more sentence at the end")
    far = nd.fingerprint(_article(11))
    origin = nd.Copy("first", "c1", "first", near)
    own = nd.Copy("me", "c2", "other-origin", keys)
    assert nd.decide("me", keys, [origin, own]) == nd.ClusterDecision("c2", "other-origin", "me", 1.0)
    decision = nd.decide("new", keys, [nd.Copy("x", "c9", "x", far), origin])
    assert (decision.cluster_id, decision.duplicate_of, decision.matched) == ("c1", "first", "first")
    assert nd.decide("new", keys, [nd.Copy("x", "c9", "x", far)]) is None
    first = nd.decide("first", near, [origin])
    assert first.cluster_id == "c1" and first.duplicate_of is None


def test_local_clusters_group_copies_and_keep_them_stable():
    clusters = nd.LocalClusters()
    story, other = _article(12), _article(13)
    first = clusters.add("a", nd.fingerprint(story))
    assert first.duplicate_of is None and first.cluster_id == nd.new_cluster_id("a", nd.fingerprint(story))
    copy = clusters.add("b", nd.fingerprint("Menu Home\n\n" + story))
    assert (copy.cluster_id, copy.duplicate_of) == (first.cluster_id, "a")
    assert clusters.add("c", nd.fingerprint(other)).cluster_id != first.cluster_id
    again = clusters.add("b", nd.fingerprint("Menu Home\n\n" + story))  # redelivered
    assert (again.cluster_id, again.duplicate_of) == (first.cluster_id, "a")
    moved = clusters.add("a", nd.fingerprint(_article(14)))  # the first copy's URL now shows another text
    assert moved.cluster_id not in (first.cluster_id,) and moved.duplicate_of is None
    late = clusters.add("d", nd.fingerprint(story + "\n\nUpdated at noon."))
    assert (late.cluster_id, late.duplicate_of) == (first.cluster_id, "a")


def test_the_first_copy_met_through_another_member_stays_first():
    keys = nd.fingerprint(_article(15))
    member = nd.Copy("member", "c1", "first", keys)
    assert nd.decide("first", keys, [member]) == nd.ClusterDecision("c1", None, "member", 1.0)


def test_keys_of_document_reads_the_stored_keys_or_fingerprints_the_body():
    body = _article(16)
    keys = nd.fingerprint(body)
    assert nd.keys_of_document({"body": "ignored", "dedup": keys.stored()}) == keys
    assert nd.keys_of_document({"body": body}) == keys, "a message from before documents carried keys"
    assert nd.keys_of_document({"body": body, "dedup": {"bands": ["x"], "signature": "!!", "shingles": 3}}) == keys
    assert nd.keys_of_document({"body": None}) is nd.EMPTY


def test_with_cluster_sets_the_cluster_and_leaves_duplicate_of_out_on_the_first_copy():
    keys = nd.fingerprint(_article(17))
    document = {"url": "u", "body": "b", "duplicate_of": "stale"}
    first = nd.with_cluster("d1", document, keys, nd.ClusterDecision("c1", None))
    assert first["cluster_id"] == "c1" and "duplicate_of" not in first and first["dedup"] == keys.stored()
    copy = nd.with_cluster("d1", document, keys, nd.ClusterDecision("c1", "d0", "d0", 0.6))
    assert (copy["cluster_id"], copy["duplicate_of"], copy["url"]) == ("c1", "d0", "u")
    assert copy["dedup"] == keys.stored(), "a copy that differs keeps its band keys: it widens the cluster"
    assert document == {"url": "u", "body": "b", "duplicate_of": "stale"}, "the input is not changed"


def test_a_near_identical_copy_is_not_searchable_by_its_band_keys():
    keys = nd.fingerprint(_article(17))
    near = nd.with_cluster("d2", {"body": "b"}, keys, nd.ClusterDecision("c1", "d0", "d0", nd.NEAR_IDENTICAL))
    assert near["dedup"]["bands"] == [] and near["dedup"]["signature"] == keys.stored()["signature"]
    redelivered = nd.with_cluster("d2", {"body": "b"}, keys, nd.ClusterDecision("c1", "d0", "d2", 1.0))
    assert redelivered["dedup"] == keys.stored(), "matched with its own earlier version: kept as it is"
    first = nd.with_cluster("d0", {"body": "b"}, keys, nd.ClusterDecision("c1", None, "d0", 1.0))
    assert first["dedup"] == keys.stored(), "a cluster's first copy is always searchable"


class _NoCopiesES:
    """Stand-in for Elasticsearch: the lookup's search finds nothing."""

    def search(self, **_kwargs):
        return {"hits": {"hits": []}}


class _Redis:
    """Stand-in for Redis: the claims script returns ``result`` or raises it."""

    def __init__(self, result):
        self.result = result

    def register_script(self, _script):
        def run(args):
            if isinstance(self.result, Exception):
                raise self.result
            return self.result(args)
        return run


def test_place_in_clusters_sets_the_clusters_and_a_store_down_retries_the_batch():
    import redis

    from workers.errors import TransientError
    from workers.store.elastic import IndexItem
    from workers.store.near_duplicates import place_in_clusters

    body = _article(18)
    items = [IndexItem("a", {"body": body}, 1), IndexItem("b", {"body": "Menu\n\n" + body}, 2)]
    first_cluster = nd.new_cluster_id("a", nd.fingerprint(body))
    # the script's answer: per document, its cluster, first copy, matched copy, agreements
    placed = place_in_clusters(_NoCopiesES(), _Redis(lambda _args: [f"{first_cluster}\ta\t\t-1".encode(),
                                                                     f"{first_cluster}\ta\ta\t120".encode()]),
                               "pages", items)
    assert [(i.doc_id, i.version) for i in placed] == [("a", 1), ("b", 2)]
    assert placed[0].source["cluster_id"] == placed[1].source["cluster_id"] == first_cluster
    assert "duplicate_of" not in placed[0].source and placed[1].source["duplicate_of"] == "a"
    assert placed[0].source["dedup"] == nd.fingerprint(body).stored()
    assert placed[1].source["dedup"] == {**nd.fingerprint("Menu\n\n" + body).stored(), "bands": []}, \
        "120 of 128 values agree: a near-identical copy, not searchable by its band keys"
    with pytest.raises(TransientError, match="near-duplicate lookup: ConnectionError"):
        place_in_clusters(_NoCopiesES(), _Redis(redis.ConnectionError("down")), "pages", items)
