"""Delivery on Redis, and what this module adds to kombu's Redis transport.

kombu emulates acknowledgements on Redis: a consumer pops a message from the queue (``BRPOP``),
then records it under its delivery tag in the ``unacked`` hash (and ``unacked_index``, scored by
delivery time) until it is acked. Two gaps matter when a worker is killed:

* Between the pop and that record the message exists only in the consumer's memory (or still in
  its socket). A worker killed in that window loses it for good.
* A dead worker's unacked messages come back only when some consumer's periodic sweep
  (``restore_visible``) finds them older than ``visibility_timeout``. That timeout must exceed the
  longest a *live* worker legitimately holds a message (hard time limit plus the longest retry
  countdown, which Redis holds as an unacked ETA message), so by itself recovery takes minutes.

``GleanerRedisTransport`` closes both, without changing kombu's data structures:

* **Reliable fetch.** A channel consuming one queue fetches with ``BLMOVE queue landing`` into its
  own landing list instead of ``BRPOP``; recording the message as unacked removes it from the
  landing list in the same ``MULTI``. So a message is always in exactly one place in Redis: its
  queue, a consumer's landing list, or the unacked hash.
* **Consumer leases.** Every consuming channel has an id, registers itself, writes a heartbeat key
  (TTL ``GLEANER_CONSUMER_LEASE_S``) every third of it, and keeps the set of delivery tags it holds.
  Any live consumer sweeps: the held messages and landing list of a consumer whose heartbeat has
  expired go back to their queue (marked redelivered). A killed worker's pages are therefore back
  in their queue one lease after its last heartbeat, whatever the visibility timeout.
* kombu's own visibility-timeout sweep stays as the backstop for anything else.

A consumer that is alive but stalled for longer than a lease loses its messages to the queue and
they run twice: that is safe, every stage is idempotent. A sweeper only sweeps after it has itself
been heartbeating for a whole lease, so a Redis restart longer than a lease does not make live
consumers look dead.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from time import monotonic, time
from typing import Any

from kombu.transport import redis as redis_transport
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str

from workers.delivery import codec
from workers.redis_keys import CONSUMER_ALIVE as ALIVE_KEY
from workers.redis_keys import CONSUMER_HELD as HELD_KEY
from workers.redis_keys import CONSUMER_LANDING as LANDING_KEY
from workers.redis_keys import CONSUMER_SWEEP_LOCK as SWEEP_LOCK_KEY
from workers.redis_keys import CONSUMERS as CONSUMERS_KEY

log = logging.getLogger("gleaner.broker")


class LeasedQoS(redis_transport.QoS):
    """kombu's Redis QoS, plus: the consumer's held set, and the landing list emptied atomically."""

    def append(self, message: Any, delivery_tag: str) -> None:
        channel: LeasedChannel = self.channel
        channel.ensure_registered()
        landed = channel.take_landed()
        delivery = message.delivery_info
        with self.pipe_or_acquire() as pipe:
            pipe.zadd(self.unacked_index_key, {delivery_tag: time()})
            pipe.hset(self.unacked_key, delivery_tag,
                      codec.dumps_bytes([message._raw, delivery["exchange"], delivery["routing_key"]]))
            pipe.sadd(channel.held_key, delivery_tag)
            if landed is not None:
                pipe.lrem(channel.landing_key, 1, landed)
            pipe.execute()
        virtual.QoS.append(self, message, delivery_tag)

    def _remove_from_indices(self, delivery_tag: str, pipe: Any = None) -> Any:
        return super()._remove_from_indices(delivery_tag, pipe).srem(self.channel.held_key, delivery_tag)


class LeasedChannel(redis_transport.Channel):
    QoS = LeasedQoS

    consumer_lease = 30.0
    reliable_fetch = True
    # kombu types this as its own fixed tuple of names
    from_transport_options = redis_transport.Channel.from_transport_options + (  # type: ignore[assignment]
        "consumer_lease", "reliable_fetch")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.consumer_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.held_key = HELD_KEY + self.consumer_id
        self.landing_key = LANDING_KEY + self.consumer_id
        self._consumer_registered = False
        self._landed = None  # raw item fetched into the landing list, until recorded as unacked
        self._landing_dirty = False  # the landing list may hold items we never received
        self._fetch_queue: str | None = None  # queue of the BLMOVE in flight, None for BRPOP
        self._no_ack_queues: set[str] = set()
        self._beating_since: float | None = None
        self._publish_client = self._publish_pool = None
        super().__init__(*args, **kwargs)

    def _connparams(self, asynchronous: bool = False) -> Any:
        # After a lost connection Celery closes the kombu connection (its transport's client
        # becomes None) while tasks of this channel still run and ack, and kombu then restores
        # this channel's unacked messages at close: kombu would fail with an AttributeError that
        # takes the whole worker down. Report a connection error instead: the ack or restore is
        # skipped, and the lease sweep requeues what this (now dead) consumer held.
        if self.connection is None or getattr(self.connection, "client", None) is None:
            raise redis_transport.redis.exceptions.ConnectionError("this channel's broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)

    # registry and heartbeat

    def _info(self) -> str:
        return json.dumps({"queue": self._fetch_queue or next(iter(self.active_queues), None),
                           "host": socket.gethostname(), "pid": os.getpid(), "since": time()})

    def ensure_registered(self) -> None:
        """Register this consumer (and its first heartbeat) before it holds any message."""
        if self._consumer_registered:
            return
        with self.conn_or_acquire() as client:
            pipe = client.pipeline()
            pipe.hset(CONSUMERS_KEY, self.consumer_id, self._info())
            pipe.set(ALIVE_KEY + self.consumer_id, 1, ex=max(1, round(self.consumer_lease)))
            pipe.execute()
        self._consumer_registered = True

    def heartbeat(self) -> None:
        if not self._consumer_registered:
            return
        try:
            with self.conn_or_acquire() as client:
                pipe = client.pipeline()
                pipe.set(ALIVE_KEY + self.consumer_id, 1, ex=max(1, round(self.consumer_lease)))
                pipe.hsetnx(CONSUMERS_KEY, self.consumer_id, self._info())
                pipe.execute()
        except self.connection_errors:
            self._beating_since = None
            self._landing_dirty = True
            raise
        now = monotonic()
        if self._beating_since is None:
            self._beating_since = now
        if now - self._beating_since >= self.consumer_lease:
            self.sweep_dead_consumers()

    def sweep_dead_consumers(self) -> int:
        """Requeue what dead consumers held or had fetched; returns the number of messages."""
        restored = 0
        with self.conn_or_acquire() as client:
            registry = client.hgetall(CONSUMERS_KEY)
            if not registry:
                return 0
            ids = [bytes_to_str(cid) for cid in registry]
            pipe = client.pipeline(transaction=False)
            for cid in ids:
                pipe.exists(ALIVE_KEY + cid)
            alive = pipe.execute()
            for cid, is_alive in zip(ids, alive, strict=True):
                if is_alive or cid == self.consumer_id:
                    continue
                if not client.set(SWEEP_LOCK_KEY + cid, self.consumer_id, nx=True, ex=60):
                    continue
                try:
                    restored += self._requeue_consumer(client, cid, registry[cid.encode()])
                finally:
                    client.delete(SWEEP_LOCK_KEY + cid)
        return restored

    def _requeue_consumer(self, client: Any, cid: str, raw_info: bytes) -> int:
        try:
            queue = json.loads(bytes_to_str(raw_info)).get("queue")
        except ValueError:
            queue = None
        landed = 0
        if queue:
            while client.lmove(LANDING_KEY + cid, queue, "RIGHT", "RIGHT") is not None:
                landed += 1
        tags = [bytes_to_str(t) for t in client.smembers(HELD_KEY + cid)]
        held = sum(1 for t in tags if client.hexists(self.unacked_key, t))
        for tag in tags:
            self.qos.restore_by_tag(tag, client)
        if client.llen(LANDING_KEY + cid) == 0:
            pipe = client.pipeline()
            pipe.delete(HELD_KEY + cid, LANDING_KEY + cid)
            pipe.hdel(CONSUMERS_KEY, cid)
            pipe.execute()
        if landed or held:
            log.warning("consumer %s is gone: requeued %d unacked and %d fetched messages", cid, held, landed)
        return landed + held

    # reliable fetch

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        """kombu's ``_put`` with the envelope written by ``workers.delivery.codec`` (orjson)."""
        if kwargs.get("_publish_batch") is not None or (self._expires and queue in self._expires):
            return super()._put(queue, message, **kwargs)
        key = self._q_for_pri(queue, self._get_message_priority(message, reverse=False))
        self._publisher().lpush(key, codec.dumps_bytes(message))
        return None

    def _publisher(self) -> Any:
        """One client for publishing, kept (kombu builds a new one for every message); its pool
        is the channel's, so it is dropped with the pool after a fork."""
        if self._publish_client is None or self._publish_pool is not self.pool:
            self._publish_client, self._publish_pool = self._create_client(), self.pool
        return self._publish_client

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def _reliable_queue(self) -> str | None:
        """The one queue BLMOVE can fetch from, or None to fall back to kombu's BRPOP."""
        if not self.reliable_fetch or self.global_keyprefix or len(self.active_queues) != 1:
            return None
        (queue,) = self.active_queues
        if queue in self._no_ack_queues or [self._q_for_pri(queue, p) for p in self.priority_steps] != [queue]:
            return None
        return queue

    def take_landed(self) -> bytes | None:
        landed, self._landed = self._landed, None
        return landed

    def _return_landed(self, queue: str) -> None:
        """Give back to the queue whatever sits in our landing list (fetched, never received)."""
        moved = 0
        with self.conn_or_acquire() as client:
            while client.lmove(self.landing_key, queue, "RIGHT", "RIGHT") is not None:
                moved += 1
        self._landing_dirty = False
        if moved:
            log.warning("returned %d fetched but unreceived messages to %s", moved, queue)

    def _brpop_start(self, timeout: float | None = None) -> None:
        queue = self._reliable_queue()
        if queue is None:
            self._fetch_queue = None
            return super()._brpop_start(timeout)
        if timeout is None:
            timeout = self.brpop_timeout
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        self._fetch_queue = queue
        self.ensure_registered()
        if self._landing_dirty:
            self._return_landed(queue)
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()  # type: ignore[assignment]  # kombu declares it None
        self.client.connection.send_command("BLMOVE", queue, self.landing_key, "RIGHT", "LEFT", timeout or 0)

    def _brpop_read(self, **options: Any) -> bool:
        queue = self._fetch_queue
        if queue is None:
            return super()._brpop_read(**options)
        try:
            try:
                item = self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                self._landing_dirty = True
                self.client.connection.disconnect()
                raise
            except self.ResponseError as exc:
                if "unknown command" not in str(exc).lower():
                    raise
                log.warning("Redis has no BLMOVE (it needs 6.2+): fetching with BRPOP, without reliable fetch")
                self.reliable_fetch = False
                raise redis_transport.Empty() from exc
            if not item:
                raise redis_transport.Empty()
            self._queue_cycle.rotate(queue)
            self._landed = item
            try:
                self.connection._deliver(codec.loads(item), queue)
            except self.connection_errors:
                self._landing_dirty = True  # not recorded as unacked: back to the queue next time
                raise
            finally:
                landed = self.take_landed()
            if landed is not None:  # delivered without being recorded (a no-ack consumer): consumed
                with self.conn_or_acquire() as client:
                    client.lrem(self.landing_key, 1, landed)
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]  # kombu declares it a connection
            flush = getattr(self, "_flush_brpop_reauth", None)
            if flush is not None:
                flush()

    def _on_connection_disconnect(self, connection: Any) -> None:
        self._landing_dirty = True
        super()._on_connection_disconnect(connection)


class GleanerRedisTransport(redis_transport.Transport):
    """kombu's Redis transport with reliable fetch and consumer leases (see the module docstring)."""

    Channel = LeasedChannel

    def register_with_event_loop(self, connection: Any, loop: Any) -> None:
        super().register_with_event_loop(connection, loop)
        cycle: Any = self.cycle
        old = getattr(cycle, "_gleaner_lease_tref", None)
        if old is not None:
            old.cancel()
        lease = float(connection.client.transport_options.get("consumer_lease", LeasedChannel.consumer_lease))
        cycle._gleaner_lease_tref = loop.call_repeatedly(max(0.5, lease / 3), self._lease_tick)

    def _lease_tick(self) -> None:
        cycle: Any = self.cycle
        for channel in list(cycle._channels):
            if not isinstance(channel, LeasedChannel):
                continue
            try:
                channel.heartbeat()
            except channel.connection_errors:
                log.debug("heartbeat: broker unreachable, will retry", exc_info=True)
                return
            except Exception:
                log.exception("heartbeat failed")
