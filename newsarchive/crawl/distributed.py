"""One crawl on many processes and machines: scrapy-redis's frontier plus the gaps it leaves.

scrapy-redis gives the shared priority queue (a sorted set of pickled requests) and the
dupefilter idea; this module adds, in Redis too:

* leases: a request popped by a process is recorded in ``leases`` (score: its deadline in
  Redis server time) with its bytes in ``leased``, in the same Lua script as the pop. The
  holder renews its leases while it works and removes one only when the request has left
  its engine and every article it yielded is stored (or spooled). Whoever notices an expired
  lease (coordinator and every worker check each tick) puts the request back in the queue,
  so a SIGKILLed worker loses nothing;
* a bounded dupefilter: one set per crawl, keyed by the article's canonical URL, expiring
  with the crawl's other keys (the archive's ``url_state`` stays the authority on what was
  fetched: the revisit policy reads it as on one machine);
* one shared "next allowed time" per host (``SharedRateLimit``): every request of every
  process reserves its slot with a Lua script on Redis's clock, so N workers together keep
  one ``DOWNLOAD_DELAY`` per host; a 429/503's ``Retry-After`` pushes that time for all;
* stats and errors per worker in hashes, which the coordinator merges into the one run record.

Keys live under ``newsarchive:crawl:<crawl id>:`` (crawl id ``<source>-<run id>``) and expire
``NEWSARCHIVE_REDIS_TTL`` seconds (default 7 days) after the crawl last touched them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from newsarchive import redact
from newsarchive.crawl import signals as crawl_signals
from newsarchive.crawl.middlewares import retry_after_seconds
from newsarchive.errors import ConfigError
from newsarchive.urls import canonical_url

log = logging.getLogger(__name__)

ROOT = "newsarchive"
#: hash: crawl id -> JSON description of each crawl in progress (what workers join)
CRAWLS = f"{ROOT}:crawls"
META_LEASE = "newsarchive_lease"
#: finish reason of a process that lost Redis past NEWSARCHIVE_REDIS_RETRY_SECONDS
REDIS_FAILED = "redis_failed"
#: finish reason of a process whose crawl vanished from Redis (restarted without its data)
CRAWL_LOST = "crawl_lost"
ERRORS_KEPT = 50
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
#: words of settings a worker never takes from the coordinator (it takes the rest unless it sets them)
_PRIVATE = ("NEWSARCHIVE_DB", "REDIS_URL", "REDIS_CRAWL", "REDIS_ROLE", "PASSWORD", "SECRET", "TOKEN", "LOG_",
            "JOBDIR", "RUN_ID", "SPOOL", "WARC_DIR")

# Pop the best request and lease it in one step: no moment where it is neither queued nor leased.
_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local t = redis.call('TIME')
local id = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[3], id, item[1])
redis.call('HSET', KEYS[4], id, item[2])
redis.call('ZADD', KEYS[2], t[1] + t[2] / 1e6 + tonumber(ARGV[1]), id)
return {id, item[1]}
"""
# Put leased requests back in the queue: the expired ones (no ARGV) or the ids given.
_REQUEUE = """
local ids = ARGV
if #ARGV == 0 then
  local t = redis.call('TIME')
  ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', t[1] + t[2] / 1e6, 'LIMIT', 0, 1000)
end
local n = 0
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[3], id)
  if data then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id) or 0, data)
    n = n + 1
  end
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[2], id)
end
return n
"""
# Push unless the fingerprint was seen (an empty fingerprint: always push, e.g. listings); -1 when
# the crawl is not registered (Redis restarted empty): its keys must not be made again, unexpiring.
_PUSH = """
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 0 then return -1 end
if ARGV[1] == '' or redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
return 0
"""
# Renew the caller's leases (XX: one already expired and requeued stays requeued).
_RENEW = """
local t = redis.call('TIME')
local deadline = t[1] + t[2] / 1e6 + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i]) end
return #ARGV - 1
"""
# Reserve the next slot of a host: returns the seconds to wait; the key says when the slot after is.
_RESERVE = """
local t = redis.call('TIME')
local now = t[1] + t[2] / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt < now then nxt = now end
local gap = tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(nxt + gap), 'PX', math.ceil((nxt - now + gap) * 1000) + 1000)
return tostring(nxt - now)
"""
# Push a host's next allowed time to at least now + ARGV[1] (Retry-After), and hold it until then:
# requests whose slots were reserved before the 429 wait too (KEYS[2], read by _HELD).
_HOLD = """
local t = redis.call('TIME')
local until_ = t[1] + t[2] / 1e6 + tonumber(ARGV[1])
local ms = math.ceil(tonumber(ARGV[1]) * 1000) + 1000
for _, key in ipairs(KEYS) do
  local nxt = tonumber(redis.call('GET', key) or '0')
  if nxt < until_ then redis.call('SET', key, tostring(until_), 'PX', ms) end
end
return 1
"""
# Seconds the host is still held by a Retry-After (0: not held).
_HELD = """
local t = redis.call('TIME')
local left = tonumber(redis.call('GET', KEYS[1]) or '0') - (t[1] + t[2] / 1e6)
if left < 0 then left = 0 end
return tostring(left)
"""


def connect(url: str) -> redis.Redis:
    """A client of ``url`` with short timeouts: a dead Redis is noticed in seconds, not minutes."""
    redact.register_url(url)
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def describe(url: str) -> str:
    """A Redis URL for messages: the password masked."""
    return redact.mask_url(url)


@dataclass(frozen=True)
class Keys:
    """The Redis keys of one crawl."""

    crawl: str

    def key(self, name: str) -> str:
        return f"{ROOT}:crawl:{self.crawl}:{name}"

    @property
    def queue(self) -> str:
        return self.key("requests")

    @property
    def dupefilter(self) -> str:
        return self.key("dupefilter")

    @property
    def leases(self) -> str:
        return self.key("leases")

    @property
    def leased(self) -> str:
        return self.key("leased")

    @property
    def scores(self) -> str:
        return self.key("scores")

    @property
    def seq(self) -> str:
        return self.key("seq")

    @property
    def workers(self) -> str:
        return self.key("workers")

    @property
    def errors(self) -> str:
        return self.key("errors")

    @property
    def done(self) -> str:
        return self.key("done")

    def stats(self, worker: str) -> str:
        return self.key(f"stats:{worker}")

    def heartbeat(self, worker: str) -> str:
        return self.key(f"alive:{worker}")

    def expiring(self) -> list[str]:
        """Keys whose expiry the coordinator refreshes while the crawl runs."""
        return [self.queue, self.dupefilter, self.leases, self.leased, self.scores, self.seq, self.workers,
                self.errors]


def rate_key(host: str) -> str:
    # per host, not per crawl: two crawls of one site share its politeness too
    return f"{ROOT}:rate:{host}"


# ---- the crawl's registry entry -------------------------------------------------------------

def register_crawl(client: redis.Redis, crawl_id: str, config: Mapping[str, Any]) -> None:
    """Announce a crawl to workers (its source, run id, spider arguments and shared settings)."""
    client.hset(CRAWLS, crawl_id, json.dumps(dict(config), default=str))


def active_crawls(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """Crawl id -> description of every crawl in progress."""
    raw: Any = client.hgetall(CRAWLS)
    return {_text(k): json.loads(v) for k, v in raw.items()}


def finish_crawl(client: redis.Redis, crawl_id: str, status: str) -> None:
    """Mark the crawl done for its workers (for an hour) and drop its frontier, dupefilter included."""
    keys = Keys(crawl_id)
    pipe = client.pipeline()
    pipe.set(keys.done, status, ex=3600)
    pipe.hdel(CRAWLS, crawl_id)
    pipe.delete(keys.queue, keys.dupefilter, keys.leases, keys.leased, keys.scores, keys.seq)
    pipe.execute()


def merged_stats(client: redis.Redis, crawl_id: str, own: Mapping[str, Any]) -> dict[str, Any]:
    """``own`` stats plus every worker's numeric stats, summed."""
    keys = Keys(crawl_id)
    total: dict[str, Any] = dict(own)
    members: Any = client.smembers(keys.workers)
    for worker in map(_text, members):
        if worker == worker_id():
            continue  # our own are ``own``, newer than what we last wrote
        values: Any = client.hgetall(keys.stats(worker))
        for k, v in values.items():
            name, text = _text(k), _text(v)
            total[name] = (total.get(name) or 0) + (float(text) if "." in text else int(text))
    return total


def crawl_errors(client: redis.Redis, crawl_id: str) -> list[str]:
    values: Any = client.lrange(Keys(crawl_id).errors, 0, ERRORS_KEPT - 1)
    return [_text(e) for e in values]


def status(client: redis.Redis) -> list[dict[str, Any]]:
    """What ``newsarchive status --redis`` prints: per crawl, queue, leases, workers seen, pages/s."""
    rows = []
    for crawl_id, config in sorted(active_crawls(client).items()):
        keys = Keys(crawl_id)
        alive = [_text(k).rsplit(":alive:", 1)[1] for k in client.scan_iter(keys.heartbeat("*"))]
        pages = 0
        members: Any = client.smembers(keys.workers)
        for worker in map(_text, members):
            value: Any = client.hget(keys.stats(worker), "response_received_count")
            pages += int(value or 0)
        elapsed = max(1e-6, time.time() - float(config.get("started", time.time())))
        rows.append({
            "crawl": crawl_id, "source": config.get("source"), "run_id": config.get("run_id"),
            "queued": client.zcard(keys.queue), "leased": client.zcard(keys.leases),
            "workers": len(alive), "worker_ids": sorted(alive), "pages": pages,
            "pages_per_s": round(pages / elapsed, 1), "elapsed_s": round(elapsed),
        })
    return rows


# ---- the coordinator's side ---------------------------------------------------------------

def frontier_settings(url: str, crawl_id: str, role: str, settings: Any) -> dict[str, Any]:
    """The Scrapy settings that put a crawl's frontier in Redis (``settings``: the crawl's so far)."""
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    # last before the download: the shared slot is taken as the request goes out
    middlewares["newsarchive.crawl.distributed.SharedRateLimit"] = 950
    return {"SCHEDULER": "newsarchive.crawl.distributed.RedisScheduler", "NEWSARCHIVE_REDIS_URL": url,
            "NEWSARCHIVE_REDIS_CRAWL": crawl_id, "NEWSARCHIVE_REDIS_ROLE": role,
            "DOWNLOADER_MIDDLEWARES": middlewares}


def client_for(url: str) -> Any:
    """A Redis client that answered PING (ConfigError, one line, when it does not)."""
    try:
        client = connect(url)
        client.ping()
    except REDIS_ERRORS as exc:
        raise ConfigError(f"cannot reach Redis at {describe(url)}: {exc}") from None
    except ValueError as exc:  # redis-py's word for a URL it cannot read
        raise ConfigError(f"not a Redis URL ({describe(url)}): {exc}") from None
    except Exception as exc:  # e.g. a wrong password: its message names no secret
        raise ConfigError(f"Redis at {describe(url)} refused us: {type(exc).__name__}: {exc}") \
            from None
    return client


def announce(client: Any, source: str, run_id: int, spider_kwargs: Mapping[str, Any],
             settings: Mapping[str, Any], db_url: str) -> str:
    """Register the crawl for workers; replace an abandoned crawl of the same source. Returns its id."""
    for crawl_id, config in active_crawls(client).items():
        if config.get("source") != source:
            continue
        if client.exists(Keys(crawl_id).heartbeat(config.get("coordinator", ""))):
            raise ConfigError(f"a distributed {source} crawl is already running ({crawl_id}, run "
                              f"{config.get('run_id')}); see newsarchive status --redis")
        log.warning("replacing the abandoned distributed crawl %s (its coordinator is gone); the archive "
                    "keeps what it stored", crawl_id)
        finish_crawl(client, crawl_id, "abandoned")
    # the run id alone may repeat (another archive, a rebuilt one): a crawl's keys must not
    crawl_id = f"{source}-{run_id}-{os.urandom(3).hex()}"
    shared = {k: v for k, v in settings.items() if not any(word in k for word in _PRIVATE)}
    register_crawl(client, crawl_id, {
        "source": source, "run_id": run_id, "spider": dict(spider_kwargs), "settings": shared,
        "started": time.time(), "coordinator": worker_id(), "archive": redact.mask_url(db_url)})
    return crawl_id


def wrap_up(client: Any, crawl_id: str, own_stats: Mapping[str, Any], status: str | None = None) -> \
        tuple[dict[str, Any], list[str]]:
    """The crawl's merged stats and the workers' errors; with ``status``, also mark it done in Redis.

    Redis unreachable: the coordinator's own stats, and a line saying the run record is partial.
    """
    try:
        stats = merged_stats(client, crawl_id, own_stats)
        errors = crawl_errors(client, crawl_id)
        if status is not None:
            finish_crawl(client, crawl_id, status)
    except REDIS_ERRORS as exc:
        return dict(own_stats), [f"Redis unreachable at the end ({exc}): the workers' stats are missing"]
    return stats, errors


# ---- the scheduler --------------------------------------------------------------------------

class _LeaseQueue(PriorityQueue):  # type: ignore[misc]
    """scrapy-redis's priority queue whose pop also leases; push goes through the dupefilter."""

    def __init__(self, server: redis.Redis, spider: Any, keys: Keys, serializer: Any = None) -> None:
        super().__init__(server, spider, keys.queue, serializer)
        self.keys = keys
        self._pop = server.register_script(_POP)
        self.requeue = server.register_script(_REQUEUE)

    def pop_leased(self, lease_seconds: float) -> tuple[str, Request] | None:
        k = self.keys
        got = self._pop(keys=[k.queue, k.leases, k.leased, k.scores, k.seq], args=[lease_seconds])
        if not got:
            return None
        lease, data = got
        return str(int(lease)), self._decode_request(data)

    def push_args(self, request: Request, fingerprint: str) -> tuple[list[str], list[Any]]:
        keys = [self.keys.queue, self.keys.dupefilter, CRAWLS]
        return keys, [fingerprint, -request.priority, self._encode_request(request), self.keys.crawl]


class _Errors(logging.Handler):
    """A worker's ERROR lines, handed to Redis on the next tick for the crawl's run record."""

    def __init__(self, scheduler: RedisScheduler) -> None:
        super().__init__(level=logging.ERROR)
        self.scheduler = scheduler
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.count < ERRORS_KEPT:
            self.count += 1
            try:
                text = f"{record.name}: {record.getMessage()}"
            except Exception:  # a malformed log call must not break the crawl
                text = f"{record.name}: {record.msg!r}"
            self.scheduler.errors.append(redact.redact(f"[{self.scheduler.me}] {text}")[:500])


@dataclass
class _Held:
    request: Request
    items: int = 0
    left: bool = False


class RedisScheduler(Scheduler):  # type: ignore[misc]
    """scrapy-redis's Scheduler with per-crawl keys, leases, batched pushes and a crawl-wide end.

    Settings: ``NEWSARCHIVE_REDIS_URL``, ``NEWSARCHIVE_REDIS_CRAWL`` (crawl id),
    ``NEWSARCHIVE_REDIS_ROLE`` (``coordinator`` or ``worker``), ``NEWSARCHIVE_REDIS_LEASE_SECONDS``
    (120), ``NEWSARCHIVE_REDIS_RETRY_SECONDS`` (60: how long Redis may be unreachable),
    ``NEWSARCHIVE_REDIS_TTL`` (7 days).
    """

    TICK = 0.25
    BATCH_SECONDS = 0.05

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        url = settings.get("NEWSARCHIVE_REDIS_URL")
        crawl_id = settings.get("NEWSARCHIVE_REDIS_CRAWL")
        if not url or not crawl_id:
            raise NotConfigured("RedisScheduler needs NEWSARCHIVE_REDIS_URL and NEWSARCHIVE_REDIS_CRAWL")
        self.url = url
        super().__init__(connect(url), persist=True)
        self.crawler = crawler
        self.stats = crawler.stats
        self.keys = Keys(crawl_id)
        self.role = settings.get("NEWSARCHIVE_REDIS_ROLE", "worker")
        self.me = worker_id()
        self.lease_seconds = settings.getfloat("NEWSARCHIVE_REDIS_LEASE_SECONDS", 120.0)
        self.retry_seconds = settings.getfloat("NEWSARCHIVE_REDIS_RETRY_SECONDS", 60.0)
        self.ttl = settings.getint("NEWSARCHIVE_REDIS_TTL", 7 * 24 * 3600)
        self.store_enabled = settings.getbool("NEWSARCHIVE_STORE_ENABLED", True)
        self.held: dict[str, _Held] = {}
        self.by_item: dict[int, str] = {}
        #: articles stored before item_scraped told us their request (kept alive: ids stay unique)
        self.stored_early: dict[int, Any] = {}
        self.to_push: list[tuple[list[str], list[Any]]] = []
        self.down_since: float | None = None
        self.stopping: str | None = None
        self.flush_pending = False
        self.last_renew = self.last_stats = self.last_expire = 0.0
        self.collector = _Errors(self)
        self.errors: list[str] = []
        self.loop: Any = None
        self.done = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        sched = cls(crawler)
        crawler.signals.connect(sched.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(sched.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(sched.item_dropped, signal=signals.item_error)
        crawler.signals.connect(sched.articles_stored, signal=crawl_signals.articles_stored)
        crawler.signals.connect(sched.spider_idle, signal=signals.spider_idle)
        return sched

    # -- Scrapy's scheduler interface -----------------------------------------------------
    def open(self, spider: Any) -> None:
        self.spider = spider
        self.queue = _LeaseQueue(self.server, spider, self.keys)
        try:
            self.server.sadd(self.keys.workers, self.me)
        except REDIS_ERRORS as exc:
            self._lost(exc)
        from twisted.internet import task

        if self.role == "worker":  # the coordinator's own errors go to the run record directly
            logging.getLogger().addHandler(self.collector)
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.TICK, now=False).addErrback(
            lambda failure: log.error("distributed frontier timer failed: %s", failure.getErrorMessage()))

    def close(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        logging.getLogger().removeHandler(self.collector)
        # Scrapy finished every request it had started before closing the scheduler (its slot
        # waits for them): what is not done now (articles not stored) goes back to the queue.
        for held in self.held.values():
            held.left = True
        unfinished = [lease for lease, h in self.held.items() if h.items]
        try:
            self.sync(final=True)
            if unfinished:
                k = self.keys
                self.queue.requeue(keys=[k.queue, k.leases, k.leased, k.scores], args=unfinished)
                log.warning("released %d requests whose articles were not stored", len(unfinished))
            self.held.clear()
        except REDIS_ERRORS as exc:
            log.error("could not hand back %d leased requests (Redis at %s: %s); they return to the queue "
                      "when their leases expire", len(self.held), describe(self.url), exc)

    def __len__(self) -> int:
        try:
            return len(self.queue)
        except REDIS_ERRORS:
            return 0

    def has_pending_requests(self) -> bool:
        # the Redis queue is asked in next_request; the crawl's end is decided in spider_idle
        return bool(self.to_push)

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get("newsarchive_article") and not request.dont_filter:
            fingerprint = canonical_url(request.url)
        else:
            fingerprint = ""
        request.meta.pop(META_LEASE, None)
        self.to_push.append(self.queue.push_args(request, fingerprint))
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self._soon()
        return True

    def next_request(self) -> Request | None:
        if self.stopping or self.down_since is not None:
            return None
        if self.to_push:
            self.sync()
        try:
            got = self.queue.pop_leased(self.lease_seconds)
        except REDIS_ERRORS as exc:
            self._lost(exc)
            return None
        if got is None:
            return None
        lease, request = got
        request.meta[META_LEASE] = lease
        self.held[lease] = _Held(request)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # -- leases ---------------------------------------------------------------------------
    def item_scraped(self, item: Any, response: Any) -> None:
        lease = self._lease_of(response)
        if lease is None or not self.store_enabled or type(item).__name__ != "Article":
            return
        if self.stored_early.pop(id(item), None) is not None:
            return  # its batch was saved while the pipeline still held it (the batch's last article)
        self.held[lease].items += 1
        self.by_item[id(item)] = lease

    def item_dropped(self, item: Any, response: Any = None, **_: Any) -> None:
        self.by_item.pop(id(item), None)

    def articles_stored(self, articles: list[Any]) -> None:
        for article in articles:
            lease = self.by_item.pop(id(article), None)
            if lease is None:
                self.stored_early[id(article)] = article
            elif lease in self.held:
                self.held[lease].items -= 1
        self._soon()

    def _lease_of(self, response: Any) -> str | None:
        request = getattr(response, "request", None)
        lease = request.meta.get(META_LEASE) if request is not None else None
        return lease if lease in self.held else None

    def _soon(self) -> None:
        if not self.flush_pending:
            from twisted.internet import reactor

            self.flush_pending = True
            clock: Any = reactor
            # a moment's grace gathers the follow-up requests and acks of many responses into one
            # transaction: one round trip per batch, not per page
            clock.callLater(self.BATCH_SECONDS, self._flush_soon)

    def _flush_soon(self) -> None:
        self.flush_pending = False
        if self.down_since is None:
            self.sync()

    def _in_progress(self) -> set[Request] | None:
        # the engine's set of requests it has started and not finished (callbacks, items and
        # follow-up requests included); None while it is closing: absence then means nothing
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if engine is None or not engine.running or slot is None or slot.closing is not None:
            return None
        inprogress: set[Request] = slot.inprogress
        return inprogress

    def sync(self, *, final: bool = False) -> None:
        """Push new requests, then remove the leases of finished requests, in one transaction."""
        running = self._in_progress()
        if running is not None:
            for held in self.held.values():
                if not held.left and held.request not in running:
                    held.left = True
        done = [lease for lease, h in self.held.items() if h.left and h.items <= 0]
        pushes, self.to_push = self.to_push, []
        if not pushes and not done:
            return
        # EVAL with the script's text, not EVALSHA: a restarted Redis has forgotten its scripts, and
        # in a transaction an unknown script would fail its pushes and still apply the acks
        pipe = self.server.pipeline(transaction=True)
        for keys, args in pushes:
            pipe.eval(_PUSH, len(keys), *keys, *args)
        if done:
            pipe.zrem(self.keys.leases, *done)
            pipe.hdel(self.keys.leased, *done)
            pipe.hdel(self.keys.scores, *done)
        # with our last lease gone the stats must go in the same transaction: once no lease is left
        # anywhere the coordinator merges them; while we hold others, four times a second will do
        last_acks = bool(done) and len(done) == len(self.held)
        self._stats_into(pipe, force=last_acks)
        try:
            results = pipe.execute()
        except REDIS_ERRORS as exc:
            self.to_push = pushes + self.to_push  # kept, and the parents stay leased meanwhile
            self._lost(exc)
            if final:
                raise
            return
        duplicates = sum(1 for r in results[:len(pushes)] if r == 0)
        if duplicates and self.stats:
            self.stats.inc_value("newsarchive/distributed/duplicate_request", duplicates)
        if any(r == -1 for r in results[:len(pushes)]):
            self._lost_crawl()
            return
        for lease in done:
            self.held.pop(lease, None)

    def _stats_into(self, pipe: Any, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.stats is None or (not force and now - self.last_stats < 0.25):
            return
        self.last_stats = now
        values = {k: v for k, v in self.stats.get_stats().items()
                  if isinstance(v, int | float) and not isinstance(v, bool)
                  and not k.startswith(("elapsed_time", "memusage/", "start_time"))}
        if values:
            pipe.hset(self.keys.stats(self.me), mapping=values)
            pipe.expire(self.keys.stats(self.me), self.ttl)

    # -- the periodic tick ----------------------------------------------------------------
    def tick(self) -> None:
        """Push/ack, renew our leases, requeue expired ones, heartbeat, and see if the crawl ended."""
        try:
            k = self.keys
            if self.down_since is not None:
                self.server.ping()
                log.warning("Redis at %s answers again after %.0f s", describe(self.url),
                            time.monotonic() - self.down_since)
                self.down_since = None
            self.sync()
            if self.down_since is not None:
                return
            pipe = self.server.pipeline(transaction=False)
            now = time.monotonic()
            renew = bool(self.held) and now - self.last_renew > self.lease_seconds / 4
            if renew:
                self.last_renew = now
                pipe.eval(_RENEW, 1, k.leases, self.lease_seconds, *self.held)
            pipe.eval(_REQUEUE, 4, k.queue, k.leases, k.leased, k.scores)
            pipe.set(k.heartbeat(self.me), str(time.time()), ex=max(5, int(self.TICK * 20)))
            pipe.hexists(CRAWLS, self.crawl_id)
            pipe.get(k.done)
            pipe.zcard(k.queue)
            if self.errors:
                pipe.lpush(k.errors, *self.errors)
                pipe.ltrim(k.errors, 0, ERRORS_KEPT - 1)
                self.errors = []
            if self.role == "coordinator" and now - self.last_expire > 30:
                self.last_expire = now
                for key in k.expiring():
                    pipe.expire(key, self.ttl)
            results = pipe.execute()
            requeued, _hb, known, done, queued = results[int(renew):int(renew) + 5]
        except REDIS_ERRORS as exc:
            self._lost(exc)
            return
        if requeued:
            log.warning("put %d requests whose leases expired back in the queue", requeued)
            if self.stats:
                self.stats.inc_value("newsarchive/distributed/requeued", requeued)
        if done is not None:
            self.done = True
        elif not known:
            self._lost_crawl()
        if (int(queued) or not self.held or self.done) and self.down_since is None:
            # work to take, or nothing in hand: the idle check (crawl over? articles to store?)
            # then runs now, not on the engine's next 5 s heartbeat
            self._nudge()

    def _lost_crawl(self) -> None:
        self._stop(CRAWL_LOST, f"the crawl {self.crawl_id} is gone from Redis at {describe(self.url)} "
                               "(restarted without its data?); stopping: rerun the coordinator to "
                               "continue, the archive keeps what was stored")

    @property
    def crawl_id(self) -> str:
        return self.keys.crawl

    def _nudge(self) -> None:
        # the engine asks for requests after each response and on a 5 s heartbeat; an idle worker
        # must not wait 5 s for requests another process just queued
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def _lost(self, exc: Exception) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
            log.warning("Redis at %s unreachable (%s); retrying for up to %.0f s", describe(self.url),
                        exc, self.retry_seconds)
        elif now - self.down_since > self.retry_seconds:
            self._stop(REDIS_FAILED, f"Redis at {describe(self.url)} unreachable for "
                                     f"{self.retry_seconds:.0f} s ({exc}); stopping: rerun to continue, "
                                     "nothing leased is lost")

    def _stop(self, reason: str, message: str) -> None:
        if self.stopping:
            return
        self.stopping = reason
        log.error(message)
        from scrapy.utils.defer import deferred_from_coro

        engine = self.crawler.engine
        if engine is not None and engine.running:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    # -- the crawl's end ------------------------------------------------------------------
    def spider_idle(self, spider: Any) -> None:
        """Close only when the whole crawl is done; the coordinator decides that."""
        if self.stopping:
            return
        self.crawler.signals.send_catch_log(signal=crawl_signals.flush_store)
        self.sync()
        if self.down_since is not None:
            raise DontCloseSpider
        if self.role == "worker":
            if self.done:
                return
            raise DontCloseSpider
        try:
            pipe = self.server.pipeline(transaction=True)
            pipe.zcard(self.keys.queue)
            pipe.zcard(self.keys.leases)
            pipe.hexists(CRAWLS, self.crawl_id)
            queued, leased, known = pipe.execute()
        except REDIS_ERRORS as exc:
            self._lost(exc)
            raise DontCloseSpider from None
        if not known:  # an empty queue in a Redis that forgot the crawl is not the crawl's end
            self._lost_crawl()
            raise DontCloseSpider
        if queued or leased or self.held or self.to_push:
            raise DontCloseSpider


class SharedRateLimit:
    """One request per ``DOWNLOAD_DELAY`` seconds per host across every process of the crawl.

    Each request reserves the host's next free slot in Redis (a Lua script on Redis's clock)
    and waits for it; a 429/503 with ``Retry-After`` moves the host's next slot for everyone.
    Scrapy's own per-process delay and AutoThrottle still apply on top.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        url = settings.get("NEWSARCHIVE_REDIS_URL")
        if not url:
            raise NotConfigured
        self.delay = settings.getfloat("NEWSARCHIVE_REDIS_DELAY", settings.getfloat("DOWNLOAD_DELAY", 0.0))
        self.max_delay = settings.getfloat("NEWSARCHIVE_RETRY_AFTER_MAX", 300.0)
        self.client = connect(url)
        self.reserve = self.client.register_script(_RESERVE)
        self.hold = self.client.register_script(_HOLD)
        self.held = self.client.register_script(_HELD)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRateLimit:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if self.delay <= 0:
            return
        import asyncio

        host = urlparse_cached(request).netloc
        key = rate_key(host)
        for _ in range(10):  # a host answering 429 again and again is RetryAfterMiddleware's to give up on
            try:
                wait = float(self.reserve(keys=[key], args=[self.delay]))
            except REDIS_ERRORS:
                # without Redis the crawl pauses (the scheduler stops handing out requests); the
                # few requests already out fall back to this process's own delay
                wait = self.delay
            if wait > 0:
                if self.stats:
                    self.stats.inc_value("newsarchive/distributed/rate_waits")
                await asyncio.sleep(wait)
            try:
                held = float(self.held(keys=[key + ":hold"]))
            except REDIS_ERRORS:
                held = 0.0
            if held <= 0:
                return
            # a 429/503 came while this request waited for its slot: it waits out the Retry-After too
            await asyncio.sleep(held)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked and asked <= self.max_delay:
                host = urlparse_cached(request).netloc
                # without Redis, this process's RetryAfterMiddleware still waits
                with contextlib.suppress(*REDIS_ERRORS):
                    self.hold(keys=[rate_key(host), rate_key(host) + ":hold"], args=[asked])
        return response
