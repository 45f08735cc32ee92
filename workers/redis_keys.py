"""Every Redis key Gleaner reads or writes, in one place.

Celery's own keys (one list per queue, named after its stage; kombu's ``unacked`` hash and
``unacked_index``) are kombu's; the rest is Gleaner's and starts with ``gleaner:``. A name ending in
``:`` is a prefix: the rest of the key is the id named in its comment.
"""

from __future__ import annotations

# --- kombu's Redis transport (names kombu chooses; read by `gleaner status`)
UNACKED = "unacked"  # hash: delivery tag -> message delivered to a consumer, not yet acknowledged

# --- consumer leases (workers/delivery/transport.py)
CONSUMERS = "gleaner:broker:consumers"  # hash: consumer id -> JSON {queue, host, pid, since}
CONSUMER_ALIVE = "gleaner:broker:alive:"  # + consumer id: heartbeat, expires after one lease
CONSUMER_HELD = "gleaner:broker:held:"  # + consumer id: set of delivery tags it holds unacked
CONSUMER_LANDING = "gleaner:broker:landing:"  # + consumer id: list, BLMOVE destination
CONSUMER_SWEEP_LOCK = "gleaner:broker:sweeping:"  # + consumer id: one sweeper at a time

# --- bundle delivery (workers/delivery/bundles.py)
REDELIVERIES = "gleaner:redeliveries:"  # + task id: times a stage's message came back
FAULT_KILL = "gleaner:fault:kill:"  # + stage: test hook, a marker that kills the worker (GLEANER_FAULT_INJECTION)

# --- failure store (workers/store/failures.py)
FAILURE = "gleaner:failure:"  # + record id: the FailureRecord as JSON
FAILURES = "gleaner:failures"  # sorted set: record id -> last failure time
FAILED_BY_STAGE = "gleaner:stats:failed_by_stage"  # hash: stage -> failures recorded

# --- progress (workers/store/progress.py)
BATCH = "gleaner:batch:"  # + batch id: hash of counters; + ":done" and ":failed": bitmaps by position
BATCHES = "gleaner:batches"  # sorted set: batch id -> time of its first submitted page
STAGE_COUNTS = "gleaner:stats:processed"  # hash: stage -> pages done
RATE = "gleaner:rate:"  # + series (stage, submit, failed): hash minute -> pages

# --- near-duplicate claims (workers/store/near_duplicates.py), per index alias and time bucket
DEDUP = "gleaner:dedup:"  # + alias + ":" + bucket + ":b<band position>" (hash: band key -> doc id) or ":d" (hash: doc id -> record)
