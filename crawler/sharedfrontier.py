"""The crawl frontier shared by several workers on Redis (``frontier.url``): scrapy-redis's scheduler queue and
duplicate filter, and what a fleet of workers needs on top of them to end a crawl once and lose nothing.

One crawl run of a source has one *owner* (``touthunt crawl`` or ``touthunt serve``: it created the run, seeds
the start URLs and records the run) and any number of *workers* (``touthunt worker`` on this or other
machines, see ``crawler/worker.py``) that join it. Redis keys, per source, under ``frontier.key_prefix``:

========================  ======  ===================================================================
``{p}:{src}:queue``       zset    scrapy-redis priority queue of serialised requests
``{p}:{src}:seen``        set     scrapy-redis duplicate filter (request fingerprints)
``{p}:{src}:run``         string  the id of the run the crawl is recorded under; workers join it
``{p}:{src}:workers``     set     workers in the current run that have not reported their figures yet
``{p}:{src}:alive:{w}``   string  worker w's heartbeat; it expires after ``frontier.worker_timeout_seconds``
``{p}:{src}:leases:{w}``  hash    requests worker w took from the queue and has not settled
``{p}:{src}:epoch``       int     counts every push, take and settle
``{p}:{src}:stats:{run}`` hash    each worker's crawl stats (JSON) once it stopped; the owner sums them
========================  ======  ===================================================================

A request taken from the queue moves, atomically, into the taker's lease hash; it is settled (removed) when
the store pipeline has committed its page or failure (the ``urls_settled`` signal) or a pipeline dropped it.
A worker that stops (SIGTERM, its time limit, the run ended) puts its unsettled requests back in the queue; a
worker that stops heartbeating (SIGKILL, a lost machine) is reaped by any other: its leases go back too. So a
request is lost by nobody, and none is fetched twice unless its worker died between fetching and storing it.

The crawl is over when a worker with nothing to do sees an empty queue and no lease held by anyone twice,
``frontier.heartbeat_seconds`` apart (at most 1 s), with the epoch unmoved in between: it closes with reason
``finished``, and so does every other worker. The owner waits for the others' figures and records the run
once (``crawler/runrecorder.py``); a finished run ends the cycle (its keys are deleted), otherwise the queue
stays for the next run to resume.

Redis restarting is survived by retrying every command with back-off for ``frontier.redis_retry_seconds``
(the queue survives only when Redis persists it: ``appendonly yes``, see docs/deployment.md).
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.frontier import urls_settled

log = logging.getLogger(__name__)

SETTING = "TOUTHUNT_SHARED_FRONTIER"  # dict: url, prefix, role, heartbeat, timeout, retry (see shared_settings)
# Idle looks in a row that may see this worker's own leases unchanged before they are taken as settled: its
# engine is idle, so they are requests whose items never reached the store (a bug, not a crawl to wait for).
_STALE_LOOKS = 6


@cache
def this_worker() -> str:
    """This process's worker name: host, pid and a random tag (a pid reused after a kill is another worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Keys:
    prefix: str
    source: str

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, self.source, *parts))

    @property
    def queue(self) -> str:
        return self._key("queue")

    @property
    def seen(self) -> str:
        return self._key("seen")

    @property
    def run(self) -> str:
        return self._key("run")

    @property
    def workers(self) -> str:
        return self._key("workers")

    @property
    def epoch(self) -> str:
        return self._key("epoch")

    def alive(self, worker: str) -> str:
        return self._key("alive", worker)

    def leases(self, worker: str) -> str:
        return self._key("leases", worker)

    def stats(self, run_id: int) -> str:
        return self._key("stats", str(run_id))


def connect(url: str, *, retry_seconds: float = 60.0) -> redis.Redis:
    """A client that retries every command with exponential back-off while the server is unreachable (a
    restart), for about ``retry_seconds``; then the error surfaces."""
    cap = 2.0
    return redis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=cap, base=0.1), retries=max(1, int(retry_seconds / cap))),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=15,
    )


def shared_settings(config: Any, *, role: str) -> dict[str, Any]:
    """The ``TOUTHUNT_SHARED_FRONTIER`` setting of a crawl process (``role``: owner or worker)."""
    frontier = config.frontier
    return {
        "url": config.frontier_url,
        "prefix": frontier.key_prefix,
        "role": role,
        "heartbeat": frontier.heartbeat_seconds,
        "timeout": frontier.worker_timeout_seconds,
        "retry": frontier.redis_retry_seconds,
    }


# Lua scripts: each is one atomic step on the server --------------------------------------------------------

# KEYS: queue, leases, epoch. Takes the best request and leases it: returns {lease id, request} or nil.
_TAKE = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
local lease = redis.sha1hex(item[1])
redis.call('HSET', KEYS[2], lease, item[2] .. '|' .. item[1])
redis.call('INCR', KEYS[3])
return {lease, item[1]}
"""

# KEYS: leases, queue, epoch. Puts every leased request back in the queue; returns how many.
_RETURN = """
local entries = redis.call('HGETALL', KEYS[1])
for i = 2, #entries, 2 do
  local value = entries[i]
  local sep = string.find(value, '|', 1, true)
  redis.call('ZADD', KEYS[2], string.sub(value, 1, sep - 1), string.sub(value, sep + 1))
end
redis.call('DEL', KEYS[1])
if #entries > 0 then redis.call('INCR', KEYS[3]) end
"""

# KEYS: leases, queue, epoch, alive, workers; ARGV: worker. A worker whose heartbeat expired is reaped: its
# leases go back to the queue (as _RETURN) and it leaves the run. Returns the number of requests returned, or
# -1 if the worker is alive.
_REAP = (
    "if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end\n"
    + _RETURN
    + "redis.call('SREM', KEYS[5], ARGV[1])\nreturn #entries / 2\n"
)
_RETURN += "return #entries / 2\n"


class Fleet:
    """The Redis side of one source's shared crawl, as seen by one worker (also used outside Scrapy: the
    runner, ``touthunt worker``, ``touthunt status`` and the tests)."""

    def __init__(self, server: redis.Redis, keys: Keys, worker: str | None = None) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker or this_worker()
        self._take = server.register_script(_TAKE)
        self._return = server.register_script(_RETURN)
        self._reap = server.register_script(_REAP)

    # the run -------------------------------------------------------------------------------------------

    def current_run(self) -> int | None:
        value = self.server.get(self.keys.run)
        return int(value) if value else None

    def announce(self, run_id: int) -> None:
        self.server.set(self.keys.run, str(run_id))

    def withdraw(self, run_id: int) -> bool:
        """Workers stop joining ``run_id`` (and the ones in it stop); the queue stays. False when another
        run has taken over already."""
        if self.current_run() != run_id:
            return False
        self.server.delete(self.keys.run)
        return True

    def end_cycle(self, run_id: int) -> None:
        """The crawl ran to its end: the next run starts from the start URLs."""
        leftovers = [
            *self.server.scan_iter(f"{self.keys.prefix}:{self.keys.source}:leases:*"),
            *self.server.scan_iter(f"{self.keys.prefix}:{self.keys.source}:stats:*"),
        ]
        self.server.delete(self.keys.queue, self.keys.seen, self.keys.workers, self.keys.epoch, *leftovers)
        if self.current_run() == run_id:
            self.server.delete(self.keys.run)

    def clear(self) -> None:
        """Forget an unfinished cycle (``runs.resume: false``)."""
        leases = [*self.server.scan_iter(f"{self.keys.prefix}:{self.keys.source}:leases:*")]
        self.server.delete(self.keys.queue, self.keys.seen, self.keys.epoch, *leases)

    # this worker ---------------------------------------------------------------------------------------

    def join(self, timeout: float) -> None:
        self.heartbeat(timeout)
        self.server.sadd(self.keys.workers, self.worker)

    def heartbeat(self, timeout: float) -> None:
        self.server.set(self.keys.alive(self.worker), "1", px=int(timeout * 1000))

    def leave(self) -> None:
        self.server.delete(self.keys.alive(self.worker))
        self.server.srem(self.keys.workers, self.worker)

    def report(self, run_id: int, stats: dict[str, Any]) -> None:
        """Leave the run with this worker's figures for the owner to sum."""
        self.server.hset(self.keys.stats(run_id), self.worker, json.dumps(stats, default=str))
        self.leave()

    def reported(self, run_id: int) -> dict[str, dict[str, Any]]:
        raw = self.server.hgetall(self.keys.stats(run_id))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def collect(self, run_id: int) -> dict[str, dict[str, Any]]:
        """The reports of the run, taken (the owner records them once)."""
        reports = self.reported(run_id)
        self.server.delete(self.keys.stats(run_id))
        return reports

    def others(self) -> set[str]:
        return {w.decode() for w in self.server.smembers(self.keys.workers)} - {self.worker}

    # the queue -----------------------------------------------------------------------------------------

    def push(self, data: bytes, score: float) -> None:
        with self.server.pipeline() as pipe:
            pipe.zadd(self.keys.queue, {data: score})
            pipe.incr(self.keys.epoch)
            pipe.execute()

    def take(self) -> tuple[str, bytes] | None:
        found = self._take(keys=[self.keys.queue, self.keys.leases(self.worker), self.keys.epoch])
        if not found:
            return None
        lease, data = found
        return lease.decode(), data

    def settle(self, leases: list[str]) -> None:
        if leases:
            with self.server.pipeline() as pipe:
                pipe.hdel(self.keys.leases(self.worker), *leases)
                pipe.incr(self.keys.epoch)
                pipe.execute()

    def own_leases(self) -> set[str]:
        return {k.decode() for k in self.server.hkeys(self.keys.leases(self.worker))}

    def give_back(self) -> int:
        """Put this worker's unsettled requests back in the queue."""
        return int(self._return(keys=[self.keys.leases(self.worker), self.keys.queue, self.keys.epoch]))

    def reap(self) -> int:
        """Return the requests of workers whose heartbeat expired to the queue; how many."""
        returned = 0
        for worker in self.others():
            n = int(
                self._reap(
                    keys=[
                        self.keys.leases(worker), self.keys.queue, self.keys.epoch, self.keys.alive(worker),
                        self.keys.workers,
                    ],
                    args=[worker],
                )
            )  # fmt: skip
            if n >= 0:
                log.warning("worker %s stopped answering: %d of its requests went back to the queue", worker, n)
                returned += n
        return returned

    def queued(self) -> int:
        return int(self.server.zcard(self.keys.queue))

    def leased(self) -> int:
        """Requests taken from the queue and not settled, over every worker in the run (this one included)."""
        with self.server.pipeline(transaction=False) as pipe:
            for worker in {*self.others(), self.worker}:
                pipe.hlen(self.keys.leases(worker))
            return sum(int(n) for n in pipe.execute())

    def epoch(self) -> int:
        return int(self.server.get(self.keys.epoch) or 0)

    def snapshot(self) -> dict[str, Any]:
        """What ``touthunt status`` shows of the shared crawl: the run, queued and leased requests, live workers."""
        workers = sorted(w.decode() for w in self.server.smembers(self.keys.workers))
        alive = [
            w for w, up in zip(workers, [self.server.exists(self.keys.alive(w)) for w in workers], strict=True) if up
        ]
        leased = sum(int(self.server.hlen(self.keys.leases(w))) for w in workers)
        return {"run": self.current_run(), "queued": self.queued(), "leased": leased, "workers": alive}


def fleet_for(settings: dict[str, Any], source: str, *, worker: str | None = None) -> Fleet:
    return Fleet(
        connect(settings["url"], retry_seconds=float(settings.get("retry", 60))),
        Keys(settings["prefix"], source),
        worker,
    )


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request to this worker (see :class:`Fleet`)."""

    def __init__(self, fleet: Fleet, spider: Any, serializer: Any = None) -> None:
        super().__init__(fleet.server, spider, fleet.keys.queue, serializer)
        self.fleet = fleet

    def push(self, request: Any) -> None:
        # Requests of equal priority would come out in the order of their serialised bytes, a site's URLs in a
        # row, which leaves the per-site download slots idle; a random fraction mixes the sites the way Scrapy's
        # own scheduler does, and never reorders priorities.
        self.fleet.push(self._encode_request(request), -request.priority + random.random() * 0.5)

    def pop(self, timeout: int = 0) -> Any:
        taken = self.fleet.take()
        if taken is None:
            return None
        lease, data = taken
        request = self._decode_request(data)
        request.meta["th_lease"] = lease
        return request


class SharedScheduler(Scheduler):
    """Scrapy scheduler over the shared frontier: scrapy-redis's queue and duplicate filter with leases,
    heartbeats, reaping and the end-of-crawl check (module docstring). Setting read: ``TOUTHUNT_SHARED_FRONTIER``."""

    def __init__(self, crawler: Any, shared: dict[str, Any], source: str, run_id: int) -> None:
        self.fleet = fleet_for(shared, source)
        super().__init__(
            self.fleet.server,
            persist=True,
            queue_key=self.fleet.keys.queue,
            dupefilter=RFPDupeFilter(self.fleet.server, key=self.fleet.keys.seen),
            dupefilter_key=self.fleet.keys.seen,
            serializer=picklecompat,
        )
        self.crawler = crawler
        self.stats = crawler.stats
        self.shared = shared
        self.run_id = run_id
        self.owner = shared.get("role") == "owner"
        self.lease_of: dict[str, str] = {}  # frontier key -> lease of the request fetching it
        self.held: set[str] = set()  # leases taken and not settled
        self._local: deque[Any] = deque()  # held requests waiting here (see enqueue_request)
        self._stale: tuple[frozenset[str], int] = (frozenset(), 0)
        self._beat: Any = None
        self._ending = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedScheduler:
        settings = crawler.settings
        shared = settings.getdict(SETTING)
        source = settings.getdict("TOUTHUNT_SOURCE")["name"]
        scheduler = cls(crawler, shared, source, settings.getint("TOUTHUNT_RUN_ID"))
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(scheduler.settled, signal=urls_settled)
        return scheduler

    def open(self, spider: Any) -> None:
        self.spider = spider
        self.queue = LeasedQueue(self.fleet, spider, self.serializer)
        fleet = self.fleet
        if self.owner:
            if not self.crawler.settings.getbool("TOUTHUNT_RESUME", True):
                fleet.clear()
            fleet.reap()
            waiting = fleet.queued()
            if waiting:
                log.info(
                    "resuming the shared crawl of %s: %d requests waiting in the queue", fleet.keys.source, waiting
                )
                self.stats.set_value("touthunt/frontier/resumed_pending", waiting)
            fleet.announce(self.run_id)
        fleet.join(self.shared["timeout"])
        log.info(
            "worker %s joined the shared crawl of %s (run %s) as %s",
            fleet.worker, fleet.keys.source, self.run_id, "owner" if self.owner else "worker",
        )  # fmt: skip
        from twisted.internet import task

        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.start(float(self.shared["heartbeat"]), now=False)

    def _heartbeat(self) -> None:
        """Every ``frontier.heartbeat_seconds``: stay alive, reap the dead, follow the run; when this engine has
        nothing to do, take work that others queued (Scrapy itself would look only every 5 s) or end the crawl."""
        if self._ending:
            return
        try:
            self.fleet.heartbeat(self.shared["timeout"])
            self.fleet.reap()
            current = self.fleet.current_run()
            if current != self.run_id:
                # the owner closed the run (the crawl is over, or it was stopped) or a new run took over
                log.info(
                    "run %s is no longer the crawl of %s (now: %s): stopping", self.run_id, self.keys_source, current
                )
                self._close("run_ended")
            elif self.crawler.engine.spider_is_idle():
                request = self.next_request()
                if request is not None:
                    self._local.appendleft(request)
                    self.crawler.engine.crawl(request)  # wakes the engine up; enqueue_request keeps it here
                elif self._crawl_over():
                    log.info("the shared crawl of %s is over: queue empty, nothing leased", self.keys_source)
                    self._close("finished")
        except redis.RedisError as exc:  # after the client's own retries: the crawl cannot go on
            log.error("the shared frontier's Redis is unreachable: %s", exc)
            self._close("frontier_unreachable")

    @property
    def keys_source(self) -> str:
        return self.fleet.keys.source

    def _close(self, reason: str) -> None:
        if not self._ending:
            self._ending = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def enqueue_request(self, request: Any) -> bool:
        if any(r is request for r in self._local):  # taken by the heartbeat to wake the engine up
            return True
        lease = request.meta.get("th_lease")
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            if lease in self.held:  # a redirect to a URL seen already: fetched (and settled) elsewhere
                self._settle([lease])
            return False
        if lease in self.held:
            # a request this worker holds, come back from a middleware (redirect, retry) or the spider (render
            # it): it stays here under its lease, so nobody else settles or fetches it
            self._local.append(request)
            return True
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Any:
        if self._local:
            return self._local.popleft()
        request = self.queue.pop()
        if request is None:
            return None
        self.stats.inc_value("scheduler/dequeued/redis")
        key, lease = request.meta.get("th_key"), request.meta["th_lease"]
        self.held.add(lease)
        if key:
            previous = self.lease_of.get(key)
            self.lease_of[key] = lease
            if previous and previous != lease:  # the same URL again, from another page: this one settles both
                self._settle([previous])
        return request

    def _settle(self, leases: list[str]) -> None:
        self.held.difference_update(leases)
        self.fleet.settle(leases)

    def settled(self, keys: list[str]) -> None:
        self._settle([lease for key in keys if (lease := self.lease_of.pop(key, None))])

    def item_dropped(self, item: Any, response: Any, exception: Any, spider: Any) -> None:
        key = getattr(item, "frontier_key", "")
        if key:
            self.settled([key])

    def spider_idle(self, spider: Any) -> None:
        """This worker has nothing to do, but the crawl goes on until the heartbeat finds it over."""
        if not self._ending:
            raise DontCloseSpider

    def _crawl_over(self) -> bool:
        """Queue empty and nothing leased, twice, a moment apart, with the epoch unmoved (module docstring).
        Leases of this worker unchanged for a while are requests whose items never reached the store (a bug, not
        work to wait for): they are taken as settled, with a warning."""
        fleet = self.fleet
        own = frozenset(fleet.own_leases())
        if own:
            seen, looks = self._stale
            looks = looks + 1 if own == seen else 1
            self._stale = (own, looks)
            if looks >= _STALE_LOOKS:
                log.warning("%d leased requests never reached the store; taking them as settled", len(own))
                self.stats.inc_value("touthunt/frontier/unsettled_leases", len(own))
                self._settle(list(own))
                self.lease_of = {k: v for k, v in self.lease_of.items() if v not in own}
        if not self._quiet():
            return False
        epoch = fleet.epoch()
        time.sleep(min(float(self.shared["heartbeat"]), 1.0))  # this engine is idle: the pause holds nothing up
        return self._quiet() and fleet.epoch() == epoch

    def _quiet(self) -> bool:
        return not self.fleet.queued() and not self.fleet.leased()

    def has_pending_requests(self) -> bool:
        return bool(self._local) or len(self) > 0

    def close(self, reason: str) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        if reason != "finished":
            returned = self.fleet.give_back()
            if returned:
                log.info("%d unfinished requests went back to the shared queue", returned)
        # the heartbeat stays until the run recorder has reported this worker's figures


def combined_stats(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The workers' crawl stats summed (numbers), the rest taken from the first report that has it."""
    total: dict[str, Any] = {}
    for stats in reports.values():
        for key, value in stats.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
            else:
                total.setdefault(key, value)
    return total


def wait_for_reports(fleet: Fleet, run_id: int, *, timeout: float, poll: float = 0.5) -> dict[str, dict[str, Any]]:
    """The owner, after its own report: wait until every other worker of the run has reported or is dead."""
    deadline = time.monotonic() + timeout
    while True:
        fleet.reap()
        waiting = fleet.others()
        if not waiting:
            break
        if time.monotonic() >= deadline:
            log.warning("workers %s did not report their figures in time", ", ".join(sorted(waiting)))
            break
        time.sleep(poll)
    return fleet.reported(run_id)
