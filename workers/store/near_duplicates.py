"""Near-duplicate clusters decided at ingest, against the live index (I/O: Elasticsearch and Redis).

``assign_clusters`` places one bulk batch of documents in clusters of near-identical text with one
Elasticsearch request and one Redis call:

1. Elasticsearch, one search for the whole batch: a ``terms`` clause per band position with the
   batch's keys (``dedup.bands``), so a hit's score counts the positions at which it shares a key
   with the batch; one hit per cluster (``collapse``), the best scored, with its cluster, band keys
   and signature. Each document gets the hits sharing one of its keys; the
   most similar verified one gives the cluster (``stages.near_duplicates.decide``), its own earlier
   version first, so a redelivered or re-fetched page keeps its cluster.
2. Redis (one Lua script, atomic): covers what the index cannot see yet, the documents decided in
   the last ``claim_ttl_s`` seconds (their bulk write and the index refresh still under way). Each
   decided document leaves a record (cluster, first copy, signature) and, unless the index placed
   it (later copies find its cluster there), claims its band keys that nobody holds; claims and
   records expire after ``claim_ttl_s`` to twice that. A document the index
   placed nowhere looks at the records of the documents holding its band keys and joins the most
   similar verified one; else it starts a cluster. The script runs whole, one batch at a time, so
   copies in one batch, in two workers at once, or a page delivered twice end in one cluster.

Claims and records are per index alias, in hashes per time bucket (``_ASSIGN_LUA``):
``gleaner:dedup:<alias>:<bucket>:b<band position>`` (band key -> holder's doc id) and
``gleaner:dedup:<alias>:<bucket>:d`` (doc id -> cluster, first copy, signature), about 130 Redis
commands for a batch of 500 instead of 65 per document. A single Redis (the broker) is assumed:
the script names its hashes from the time it runs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import redis
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from workers import redis_keys
from workers.errors import TransientError
from workers.stages.near_duplicates import (
    BAND_KEY_CHARS,
    BANDS,
    DUPLICATE_THRESHOLD,
    NUM_PERM,
    ClusterDecision,
    Copy,
    DedupKeys,
    decide,
    first_copy,
    keys_of_document,
    min_agreements,
    new_cluster_id,
    similarity_of_agreements,
    with_cluster,
)
from workers.store.elastic import IndexItem

log = logging.getLogger(__name__)

KEY_PREFIX = redis_keys.DEDUP
CLAIM_TTL_S = 60
MAX_CANDIDATES = 10  # clusters read per document of a batch, on average
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default cap on one search's hits
_FIELDS = ["cluster_id", "duplicate_of", "dedup"]  # what a hit brings back


# KEYS: none (the hashes' names depend on the time the script runs). ARGV: key prefix, TTL,
# agreements needed, band keys per document, signature and band key lengths, then one string per
# document (``_packed``): its signature (raw bytes) and band keys (fixed lengths), then doc id,
# proposed cluster, the index's cluster ('' if none), first copy and matched copy, tab-separated.
# One argument per document, not one per field: the client packs 500 arguments, not 19,000.
# Returns per document "cluster\torigin\tmatched\tagreements" (matched '' if none; agreements -1:
# no record read).
# Claims live in hashes per time bucket of TTL seconds, one per band position (<prefix><bucket>:b<i>:
# band key -> doc id) and one of records (<prefix><bucket>:d: doc id -> "cluster\norigin\nsig");
# the script reads the current bucket and the one before, so a claim lives TTL to 2 TTL.
_ASSIGN_LUA = """
local prefix, ttl, need, nbands = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local siglen, BAND = tonumber(ARGV[5]), tonumber(ARGV[6])
local bucket = math.floor(tonumber(redis.call('TIME')[1]) / ttl)
local cur, prev = prefix .. bucket .. ':', prefix .. (bucket - 1) .. ':'
local CHUNK = 1000

local function hmget2(name, fields, into)
  for first = 1, #fields, CHUNK do
    local part = {}
    for j = first, math.min(#fields, first + CHUNK - 1) do part[#part + 1] = fields[j] end
    local now = redis.call('HMGET', cur .. name, unpack(part))
    local before = redis.call('HMGET', prev .. name, unpack(part))
    for j, field in ipairs(part) do
      local value = now[j] or before[j]
      if value then into[field] = value end
    end
  end
end

local function hset(name, pairs)
  for first = 1, #pairs, 2 * CHUNK do
    redis.call('HSET', cur .. name, unpack(pairs, first, math.min(#pairs, first + 2 * CHUNK - 1)))
  end
  redis.call('EXPIRE', cur .. name, 2 * ttl, 'NX')
end

local function agree(a, b)
  local n = 0
  for i = 1, math.min(#a, #b) do
    if string.byte(a, i) == string.byte(b, i) then n = n + 1 end
  end
  return n
end

local function parse(record)
  local first = string.find(record, '\\n', 1, true)
  local second = string.find(record, '\\n', first + 1, true)
  return string.sub(record, 1, first - 1), string.sub(record, first + 1, second - 1), string.sub(record, second + 1)
end

local docs = {}
for i = 7, #ARGV do
  local packed = ARGV[i]
  local d = {sig = string.sub(packed, 1, siglen), bands = {}}
  for b = 1, nbands do
    local at = siglen + (b - 1) * BAND
    d.bands[b] = string.sub(packed, at + 1, at + BAND)
  end
  local fields, from = {}, siglen + nbands * BAND + 1
  while true do
    local tab = string.find(packed, '\\t', from, true)
    if not tab then fields[#fields + 1] = string.sub(packed, from); break end
    fields[#fields + 1] = string.sub(packed, from, tab - 1)
    from = tab + 1
  end
  d.id, d.proposed, d.es_cluster, d.es_origin, d.es_matched = fields[1], fields[2], fields[3], fields[4], fields[5]
  docs[#docs + 1] = d
end

-- Read every claim on the batch's band keys, then the records of their holders and of the batch.
local holder, record = {}, {}
for b = 1, nbands do
  local fields = {}
  for j, d in ipairs(docs) do fields[j] = d.bands[b] end
  hmget2('b' .. (b - 1), fields, holder)
end
local ids, listed = {}, {}
for _, d in ipairs(docs) do
  if not listed[d.id] then listed[d.id] = true; ids[#ids + 1] = d.id end
end
for _, id in pairs(holder) do
  if not listed[id] then listed[id] = true; ids[#ids + 1] = id end
end
hmget2('d', ids, record)

-- Decide in order: a document sees the claims of the documents before it in the batch.
local out, claims, records = {}, {}, {}
for b = 1, nbands do claims[b] = {} end
for _, d in ipairs(docs) do
  local cluster, origin, matched, score = nil, nil, '', -1
  local own = record[d.id]
  if own then
    local c, o, s = parse(own)
    local a = agree(d.sig, s)
    if a >= need then cluster, origin, matched, score = c, o, d.id, a end
  end
  local indexed = false
  if not cluster and d.es_cluster ~= '' then
    cluster, origin, matched, indexed = d.es_cluster, d.es_origin, d.es_matched, true
  end
  if not cluster then
    local seen, best = {}, -1
    for b = 1, nbands do
      local h = holder[d.bands[b]]
      if h and h ~= d.id and not seen[h] then
        seen[h] = true
        if record[h] then
          local c, o, s = parse(record[h])
          local a = agree(d.sig, s)
          if a >= need and a > best then
            best = a
            cluster, origin, matched, score = c, o, h, a
          end
        end
      end
    end
  end
  if not cluster then cluster, origin = d.proposed, d.id end
  local line = cluster .. '\\n' .. origin .. '\\n' .. d.sig
  if not records[d.id] then records[#records + 1] = d.id end
  records[d.id] = line
  record[d.id] = line
  for b = 1, indexed and 0 or nbands do  -- a copy the index placed is found through its cluster there
    local key = d.bands[b]
    if not holder[key] then
      holder[key] = d.id
      local c = claims[b]
      c[#c + 1] = key
      c[#c + 1] = d.id
    end
  end
  out[#out + 1] = cluster .. '\\t' .. origin .. '\\t' .. matched .. '\\t' .. score
end

for b = 1, nbands do
  if #claims[b] > 0 then hset('b' .. (b - 1), claims[b]) end
end
local pairs_ = {}
for _, id in ipairs(records) do
  pairs_[#pairs_ + 1] = id
  pairs_[#pairs_ + 1] = records[id]
end
if #pairs_ > 0 then hset('d', pairs_) end
return out
"""


def _prefix(alias: str) -> str:
    return f"{KEY_PREFIX}{alias}:"


def lookup_body(keys: Sequence[DedupKeys], size: int) -> dict[str, Any]:
    """The one search of a batch's indexed copies: a ``terms`` clause per band position, so a hit
    scores the positions at which it shares a key with a document of the batch (true copies share
    many, chance collisions one); one hit per cluster, the best scored."""
    positions = [sorted({k.bands[i] for k in keys if len(k.bands) > i}) for i in range(BANDS)]
    return {
        "size": size,
        "_source": _FIELDS,
        "track_total_hits": False,
        "collapse": {"field": "cluster_id"},
        "query": {"bool": {
            "should": [{"terms": {"dedup.bands": p}} for p in positions if p],
            "minimum_should_match": 1,
        }},
    }


def find_indexed_copies(
    es: Elasticsearch, alias: str, docs: Sequence[tuple[str, DedupKeys]], max_candidates: int = MAX_CANDIDATES
) -> list[list[Copy]]:
    """The indexed copies of each document, found by one search for all of them: for each
    document, the clusters' best hits that share one of its band keys, most shared first."""
    if not docs:
        return []
    size = min(MAX_RESULT_WINDOW, max_candidates * len(docs))
    try:
        hits = es.search(index=alias, **lookup_body([k for _d, k in docs], size))["hits"]["hits"]
    except NotFoundError:  # nothing indexed yet
        return [[] for _ in docs]
    by_band: dict[str, list[tuple[Copy, set[str]]]] = defaultdict(list)
    for hit in hits:
        copy = _copy_of(hit)
        if copy is None:
            continue
        bands = set(hit["_source"]["dedup"].get("bands") or ())
        for band in bands:
            by_band[band].append((copy, bands))
    found = []
    for _doc_id, keys in docs:
        shared: dict[str, tuple[int, Copy]] = {}
        own = set(keys.bands)
        for band in keys.bands:
            for copy, bands in by_band.get(band, ()):
                if copy.doc_id not in shared:
                    shared[copy.doc_id] = (len(own & bands), copy)
        ranked = sorted(shared.values(), key=lambda sc: -sc[0])[:max_candidates]
        found.append([copy for _n, copy in ranked])
    return found


def _copy_of(hit: dict[str, Any]) -> Copy | None:
    source = hit.get("_source") or {}
    cluster, dedup = source.get("cluster_id"), source.get("dedup")
    if not cluster or not dedup:  # indexed before clusters existed
        return None
    return Copy(hit["_id"], cluster, source.get("duplicate_of") or hit["_id"], DedupKeys.from_stored(dedup))


def assign_clusters(
    es: Elasticsearch,
    redis_client: redis.Redis,
    alias: str,
    docs: Sequence[tuple[str, DedupKeys]],
    *,
    threshold: float = DUPLICATE_THRESHOLD,
    claim_ttl_s: int = CLAIM_TTL_S,
    max_candidates: int = MAX_CANDIDATES,
) -> dict[str, ClusterDecision]:
    """The cluster of every document of a bulk batch (doc id -> decision; a doc id given twice gets
    one decision). One Elasticsearch request and one Redis call, whatever the batch's size.

    The clients' errors pass through (the index or Redis cannot be asked): the batch should be
    retried, not indexed without clusters.
    """
    decisions: dict[str, ClusterDecision] = {}
    lookups = [(doc_id, keys) for doc_id, keys in docs if keys.shingles]
    for doc_id, keys in docs:
        if not keys.shingles:  # no words: a cluster of its own, nothing to match
            decisions[doc_id] = first_copy(doc_id, keys)
    if not lookups:
        return decisions
    indexed = find_indexed_copies(es, alias, lookups, max_candidates)
    placed = [decide(doc_id, keys, copies, threshold) for (doc_id, keys), copies in zip(lookups, indexed, strict=True)]
    argv: list[Any] = [_prefix(alias), claim_ttl_s, min_agreements(threshold), BANDS, NUM_PERM,
                       BAND_KEY_CHARS]
    for (doc_id, keys), found in zip(lookups, placed, strict=True):
        argv.append(_packed(keys, doc_id, new_cluster_id(doc_id, keys), found.cluster_id if found else "",
                            (found.duplicate_of or doc_id) if found else "", (found.matched or "") if found else ""))
    results = [_text(line).split("\t") for line in redis_client.register_script(_ASSIGN_LUA)(args=argv)]
    for (doc_id, _keys), found, (cluster, origin, matched, agree) in zip(lookups, placed, results, strict=True):
        if int(agree) >= 0:  # placed by a record in Redis
            score: float | None = similarity_of_agreements(int(agree))
        else:  # placed by the index (or a first copy: no match)
            score = found.similarity if found and matched else None
        decisions[doc_id] = ClusterDecision(cluster, None if origin == doc_id else origin, matched or None, score)
    return decisions


def place_in_clusters(
    es: Elasticsearch,
    redis_client: redis.Redis,
    alias: str,
    items: Sequence[IndexItem],
    *,
    threshold: float = DUPLICATE_THRESHOLD,
    claim_ttl_s: int = CLAIM_TTL_S,
    max_candidates: int = MAX_CANDIDATES,
) -> list[IndexItem]:
    """A bulk batch's items with ``cluster_id`` and ``duplicate_of`` set (``assign_clusters``: one
    search and one Redis script for the whole batch). Raises ``TransientError`` when Elasticsearch
    or Redis cannot be asked: the batch is retried, never written without its clusters."""
    keys = [keys_of_document(item.source) for item in items]
    try:
        decisions = assign_clusters(
            es, redis_client, alias, [(item.doc_id, k) for item, k in zip(items, keys, strict=True)],
            threshold=threshold, claim_ttl_s=claim_ttl_s, max_candidates=max_candidates)
    except (ApiError, TransportError, redis.RedisError) as exc:
        raise TransientError(f"near-duplicate lookup: {type(exc).__name__}: {exc}"[:1000]) from exc
    return [IndexItem(item.doc_id, with_cluster(item.doc_id, item.source, k, decisions[item.doc_id]), item.version)
            for item, k in zip(items, keys, strict=True)]


def duplicate_report(es: Elasticsearch, alias: str) -> dict[str, Any]:
    """What ``gleaner status`` shows of the clusters: documents placed in one, copies (with a
    ``duplicate_of``), stories (distinct clusters, approximate above 3,000) and the copies' share."""
    try:
        resp = es.search(index=alias, size=0, track_total_hits=True, aggs={
            "placed": {"filter": {"exists": {"field": "cluster_id"}}},
            "copies": {"filter": {"exists": {"field": "duplicate_of"}}},
            "stories": {"cardinality": {"field": "cluster_id"}},
        })
    except NotFoundError:
        return {"documents": 0, "placed": 0, "duplicates": 0, "stories": 0, "duplicate_share": None}
    aggs = resp["aggregations"]
    placed, copies = aggs["placed"]["doc_count"], aggs["copies"]["doc_count"]
    return {"documents": resp["hits"]["total"]["value"], "placed": placed, "duplicates": copies,
            "stories": aggs["stories"]["value"], "duplicate_share": round(copies / placed, 4) if placed else None}


def backfill_clusters(es: Elasticsearch, alias: str, *, chunk_size: int = 1000) -> int:
    """Give every document indexed before clusters existed a cluster of its own (its id), so that
    ``gleaner search`` does not collapse them all into one; returns how many were updated. Scan and
    bulk partial updates, done by the client: the local node has no update-by-query nor scripts.
    Those documents have no band keys: later copies do not find them."""
    missing = {"bool": {"must_not": {"exists": {"field": "cluster_id"}}}}
    try:
        if not es.count(index=alias, query=missing)["count"]:
            return 0
    except NotFoundError:
        return 0
    actions = ({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": {"cluster_id": hit["_id"]}}
               for hit in helpers.scan(es, index=alias, query={"query": missing, "_source": False}, size=chunk_size))
    updated, _errors = helpers.bulk(es, actions, chunk_size=chunk_size, raise_on_error=False)
    return int(updated)


def _packed(keys: DedupKeys, *fields: str) -> bytes:
    """A document as the script reads it: signature and band keys (fixed lengths), then ``fields``
    tab-separated (ids: no tab in them)."""
    if len(keys.signature) != NUM_PERM or any(len(band) != BAND_KEY_CHARS for band in keys.bands):
        raise ValueError("near-duplicate keys of an unexpected shape")
    if any("\t" in field for field in fields):
        raise ValueError(f"a tab in a document or cluster id: {fields!r}")
    return keys.signature + "".join(keys.bands).encode("ascii") + "\t".join(fields).encode("utf-8")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def forget_claims(redis_client: redis.Redis, alias: str) -> int:
    """Delete every claim and record of an alias (tests; after the alias's index is deleted)."""
    deleted = 0
    for key in redis_client.scan_iter(match=f"{_prefix(alias)}*", count=1000):
        deleted += redis_client.delete(key)
    return deleted
