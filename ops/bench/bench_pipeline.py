#!/usr/bin/env python3
"""Throughput benchmark (issue 5): in-process vs the queued pipeline, index stage vs plain bulk,
the producer, worker memory, and the CPU cost of each stage per page.

By default (``--stack private``) it starts a stack of its own with ``ops/stack.sh`` in a temporary
directory, on ports ``--redis-port`` / ``--es-port`` (6393 / 9213), and stops and removes it at
the end: every invocation starts from an empty index and an empty Redis AOF, so invocations are
comparable (a shared index grows with every bench, and Elasticsearch's merges with it). The
workers run this checkout with the ``GLEANER_*`` settings of the environment.
``--stack current`` uses the stack in ``GLEANER_REDIS_URL`` / ``GLEANER_ES_URL`` instead (pid files
from ``$GLEANER_STACK_DIR/pids``, default ``.stack/pids``).

Corpus: the 73 dev HTML pages (``../shared/bench/extraction-dev/html``) repeated with distinct URLs
``https://bench.gleaner.local/<id>?copy=N&run=<tag>`` as JSON Lines in a temp dir (``--pages``).
Each mode gets its own ``run`` tag and collection (``bench-<stamp>-r<k>-<mode>``), so no mode
overwrites another's documents and each one's documents are counted with a ``term`` on
``collection``.

Every comparison is like for like: the same pages or documents on both sides, both sides warm,
the same JSON library (orjson) wherever documents are written, start-up reported apart.

Before the first run, ``--warm-pages`` pages go through the pipeline, not counted (each enrich
process loads spaCy on its first bundle). Per run:

``(a) in-process``
    the corpus split in as many parts as cores, one ``ops/bench/inprocess_run.py`` per part, in
    parallel: what ``gleaner process PART --index`` does (parse, NER, assembly, ``bulk_index`` in bulks
    of ``GLEANER_INDEX_BATCH_SIZE``), writing each document as a JSON line where the command prints
    it. Each process first starts up (interpreter, imports, spaCy, one warm-up page) and says so;
    timed: from telling them all to go until the last has finished. The start-up is printed apart.
``(b) pipeline``
    ``gleaner submit CORPUS --wait --plain`` through Redis and the three worker pools as they run.
    Timed: from the batch's first page in Redis (``created_at``) until every page is finished; the
    command's own start-up before that and its wall time are printed apart. Worker RSS and CPU,
    Redis and Elasticsearch CPU are sampled meanwhile (``/proc``).
(a) and (b) alternate which goes first. ``--runs 5`` gives the spread of five alternated pairs.
``index``
    the documents written by (a), each into a fresh scratch index with the template's settings and
    mappings (deleted afterwards), alternated after a warm-up of each: the plain loop
    (``helpers.bulk`` of index actions, no version) against the index stage (the index worker's
    envelope check, the near-duplicate clusters of each bulk, ``workers.store.elastic.bulk_index``
    with external versions and one outcome per document), both with a client writing orjson and
    bulks of the same size.
``index worker``
    the index worker as deployed (Celery, its thread pool and bulk writer, the broker transport,
    progress in Redis) against the same plain loop, on the same documents (``--index-copies`` times
    (a)'s, new ids for each side and round), into the same index (the live write alias), alternated
    ``--index-worker-rounds`` times after a smaller warm-up of each. The worker's messages are
    enqueued beforehand and released at once; timed until the batch's progress says all are
    finished.
``producer``
    ``gleaner submit`` (no --wait) into Redis database ``--producer-db`` of the same Redis, which no
    worker consumes (flushed afterwards): pages/s and peak RSS, for ``--producer-pages`` HTML files,
    the same pages as JSONL, and generated WARCs of ``--warc-mb`` MB and of a tenth of that (peak
    RSS small vs big archive shows streaming). The inputs are written once, before the first run.
    Each run starts with one warm-up submission of the HTML files, printed but not counted: on
    this VM, memory the guest has not used for a few seconds is handed back to the host, and
    touching it again costs a page fault in the host, so the first submission after other work
    pays up to a second of kernel CPU in Redis for the fresh pages its AOF is written into
    (``ops/COST.md``). Every run starts from a compact AOF (``BGREWRITEAOF`` of the flushed
    database), so no counted run meets a rewrite by chance; a last run of the HTML files has one
    started mid-run, and the summary spreads its cost over the 1 GB of AOF growth between two
    rewrites.

Once (``--skip-stages`` to skip): CPU seconds per page of parse, enrich (NER), assemble, message
(de)serialization and index (client side, and the Elasticsearch node's CPU) in this process with
``time.process_time`` over ``--stage-pages`` pages.

Ends with ``pipeline_vs_inprocess R pipeline_pages_per_s X inprocess_pages_per_s Y`` (the median
run by R).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve()
sys.path[:0] = [p for p in (str(HERE.parent), str(HERE.parents[2])) if p not in sys.path]
from common import REPO, shared_dir  # noqa: E402

GLEANER = str(REPO / ".venv" / "bin" / "gleaner")
CLK = os.sysconf("SC_CLK_TCK")
HOST = "bench.gleaner.local"


def log(msg: str) -> None:
    print(msg, flush=True)


def stack_dir() -> Path:
    return Path(os.environ.get("GLEANER_STACK_DIR") or REPO / ".stack")


def redis_url() -> str:
    return os.environ.get("GLEANER_REDIS_URL", "redis://127.0.0.1:6379/0")


def es_url() -> str:
    return os.environ.get("GLEANER_ES_URL", "http://127.0.0.1:9200")


# ----------------------------------------------------------------------------- /proc


def read_pid(name: str, directory: Path | None = None) -> int | None:
    """The live process of ``name`` in the stack in ``directory`` (default: the bench's)."""
    try:
        pid = int(((directory or stack_dir()) / "pids" / name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(x) for x in task.read_text().split()]
        except OSError:
            pass
    return kids


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_s(pid: int) -> float | None:
    """utime + stime of a process (all its threads), seconds."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / CLK


def children_cpu_s(pid: int | None) -> float:
    """cutime + cstime: CPU of the children a process has reaped (Redis's AOF rewrites), seconds."""
    fields = _stat_fields(pid) if pid else None
    return 0.0 if fields is None else (int(fields[13]) + int(fields[14])) / CLK


def sys_cpu_s(pid: int | None) -> float:
    """stime of a process (all its threads): the kernel's share of its CPU, seconds."""
    fields = _stat_fields(pid) if pid else None
    return 0.0 if fields is None else int(fields[12]) / CLK


def _status_mb(pid: int, field: str) -> float | None:
    """A memory line of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``...), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_mb(pid: int) -> float | None:
    return _status_mb(pid, "VmRSS")


def hwm_mb(pid: int) -> float | None:
    """Peak RSS of a process since its exec (VmHWM); ``ru_maxrss`` would include the forking parent's."""
    return _status_mb(pid, "VmHWM")


def wait_sampling(procs: list[subprocess.Popen], every: float = 0.2) -> tuple[list[int], float, list[float], list[float]]:
    """Wait for ``procs``: exit codes, total CPU seconds, peak RSS (MB) of each, and their summed RSS over time."""
    peaks = [0.0] * len(procs)
    series: list[float] = []
    pending = {p.pid: i for i, p in enumerate(procs)}
    codes = [0] * len(procs)
    cpu = 0.0
    while pending:
        total = 0.0
        for pid, i in pending.items():
            peaks[i] = max(peaks[i], hwm_mb(pid) or 0.0)
            total += rss_mb(pid) or 0.0
        series.append(total)
        time.sleep(every)
        for pid, i in list(pending.items()):
            done, status, ru = os.wait4(pid, os.WNOHANG)
            if done:
                codes[i] = os.waitstatus_to_exitcode(status)
                procs[i].returncode = codes[i]
                cpu += ru.ru_utime + ru.ru_stime
                del pending[pid]
    return codes, cpu, peaks, series


def machine_cpu_s() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy (all cores), and stolen by the hypervisor."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / hz, steal / hz


class CpuMeter:
    """CPU seconds used by a process tree since ``start`` (exited children count up to their last sample)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.sample(initial=True)

    def sample(self, initial: bool = False) -> None:
        if self.pid is None:
            return
        for p in tree(self.pid):
            c = cpu_s(p)
            if c is None:
                continue
            if initial:
                self.base[p] = c
            self.base.setdefault(p, 0.0)  # a child born after the start: all its CPU is ours
            self.last[p] = c

    def used(self) -> float:
        self.sample()
        return sum(self.last[p] - self.base.get(p, 0.0) for p in self.last)


def run_timed(cmd: list[str], *, env: dict[str, str], stdout: Any, stderr: Any) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=stdout, stderr=stderr, cwd=str(REPO))


def wait_rusage(proc: subprocess.Popen) -> tuple[int, float, int]:
    """Exit code, CPU seconds and peak RSS (kB) of a child."""
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


# ----------------------------------------------------------------------------- corpus


class DevHtml(NamedTuple):
    """A ScrapingHub dev page: its id, HTML and the URL it was fetched from."""

    id: str
    html: str
    url: str


def dev_pages() -> list[DevHtml]:
    from ops.train.datasets import scrapinghub_pages

    pages = [DevHtml(p.id, gzip.decompress(p.path.read_bytes()).decode("utf-8", errors="replace"),
                     p.url or f"https://{HOST}/{p.id}") for p in scrapinghub_pages(shared_dir() / "bench" / "extraction-dev")]
    if not pages:
        raise SystemExit("no ScrapingHub dev pages in " + str(shared_dir() / "bench" / "extraction-dev"))
    return pages


def copy_url(url: str, copy: int, run: str) -> str:
    """A copy of a dev page as a new page: its own URL with the copy and the run in the query (a new
    document each time; the stage sees the site and path the page came from, so it keeps what it
    keeps on the page itself)."""
    return f"{url}{'&' if '?' in url else '?'}copy={copy}&run={run}"


def write_corpus(path: Path, pages: list[DevHtml], n: int, *, tag: str, collection: str | None,
                 start: int = 0) -> int:
    with path.open("w") as fh:
        for i in range(start, start + n):
            page = pages[i % len(pages)]
            row: dict[str, Any] = {"url": copy_url(page.url, i // len(pages), tag), "html": page.html}
            if collection:
                row["collection"] = collection
            fh.write(json.dumps(row) + "\n")
    return n


def write_folder(path: Path, pages: list[DevHtml], n: int) -> int:
    """``n`` HTML files (the dev pages repeated), as a crawl saved to disk would be."""
    path.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        page = pages[i % len(pages)]
        (path / f"{i:06d}-{page.id[:12]}.html").write_text(page.html)
    return n


def split_corpus(pages: list[DevHtml], n: int, parts: int, tmp: Path, *, tag: str,
                 collection: str) -> list[Path]:
    paths, start = [], 0
    for k in range(parts):
        size = n // parts + (1 if k < n % parts else 0)
        path = tmp / f"{tag}-part{k}.jsonl"
        write_corpus(path, pages, size, tag=tag, collection=collection, start=start)
        paths.append(path)
        start += size
    return paths


# ----------------------------------------------------------------------------- Elasticsearch


def es():
    from elasticsearch import Elasticsearch

    return Elasticsearch(es_url(), request_timeout=120)


def count_collection(client, alias: str, collection: str) -> int:
    client.indices.refresh(index=alias)
    return int(client.count(index=alias, query={"term": {"collection": collection}})["count"])


def scratch_index(client, name: str) -> None:
    from workers.store.elastic import load_template

    tpl = load_template("bench-scratch")["template"]
    client.indices.create(index=name, settings=tpl["settings"], mappings=tpl["mappings"])


# ----------------------------------------------------------------------------- samplers


@dataclass
class Sample:
    t: float
    rss: dict[str, float]
    enriched_total: int | None
    batch: dict[str, int]
    queues: dict[str, int] = field(default_factory=dict)


@dataclass
class Monitor:
    """Samples worker RSS (process + children), and CPU of workers, Redis and Elasticsearch."""

    interval: float
    names = ("worker-parse", "worker-enrich", "worker-index", "redis", "elasticsearch")
    samples: list[Sample] = field(default_factory=list)
    batch_id: str | None = None

    def __post_init__(self) -> None:
        import redis

        self.pids = {n: read_pid(n) for n in self.names}
        self.meters = {n: CpuMeter(p) for n, p in self.pids.items()}
        self.redis = redis.Redis.from_url(redis_url())
        self._stop = threading.Event()
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Monitor":
        self.t0 = time.monotonic()
        for m in self.meters.values():
            m.sample(initial=True)
        self._thread.start()
        return self

    def _take(self) -> None:
        rss = {}
        for n, p in self.pids.items():
            if p and n.startswith("worker-"):
                rss[n] = sum(r for r in (rss_mb(q) for q in tree(p)) if r)
                rss[n + " (largest process)"] = max((r for r in (rss_mb(q) for q in tree(p)) if r), default=0.0)
        for m in self.meters.values():
            m.sample()
        try:
            enriched = int(self.redis.hget("gleaner:stats:processed", "enrich") or 0)
            queues = {q: int(self.redis.llen(q)) for q in ("parse", "enrich", "index")}
            batch = {}
            if self.batch_id:
                raw = self.redis.hgetall(f"gleaner:batch:{self.batch_id}")
                batch = {k.decode(): int(v) for k, v in raw.items()
                         if k.decode() in ("submitted", "parsed", "enriched", "indexed", "failed")}
        except Exception:  # noqa: BLE001 - a sample may miss, the benchmark goes on
            enriched, batch, queues = None, {}, {}
        self.samples.append(Sample(time.monotonic() - self.t0, rss, enriched, batch, queues))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._take()
        return {n: m.used() for n, m in self.meters.items()}


# ----------------------------------------------------------------------------- the bench's own stack


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stacks_running(directory: Path) -> list[str]:
    """Processes of the stack in ``directory`` that are alive (from its pid files)."""
    pids = {f.name: read_pid(f.name, directory) for f in sorted((directory / "pids").glob("*"))}
    return [f"{name}={pid}" for name, pid in pids.items() if pid]


@contextmanager
def private_stack(redis_port: int, es_port: int, keep: bool) -> Iterator[Path]:
    """A fresh stack (Redis, Elasticsearch, the three worker pools) in a temporary directory;
    ``os.environ`` points this process and the commands it runs at it until the end."""
    for port in (redis_port, es_port):
        if port_in_use(port):
            raise SystemExit(f"port {port} is in use: the bench's private stack needs it "
                             "(--redis-port / --es-port, or --stack current)")
    directory = Path(tempfile.mkdtemp(prefix="gleaner-bench-stack-"))
    os.environ.update({
        "GLEANER_STACK_DIR": str(directory),
        "GLEANER_REDIS_PORT": str(redis_port),
        "GLEANER_ES_PORT": str(es_port),
        "GLEANER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "GLEANER_ES_URL": f"http://127.0.0.1:{es_port}",
    })
    stack_sh = str(REPO / "ops" / "stack.sh")
    try:
        log(f"starting the bench's own stack in {directory} (Redis {redis_port}, Elasticsearch {es_port})")
        subprocess.run([stack_sh, "up"], check=True, stdout=subprocess.DEVNULL)
        wait_workers_ready(directory / "logs")
        yield directory
    finally:
        subprocess.run([stack_sh, "down"], check=False, stdout=subprocess.DEVNULL)
        if keep:
            log(f"the bench's stack (stopped) is kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def wait_workers_ready(logs: Path, timeout: float = 180.0) -> None:
    """Until each worker pool has logged that it is ready (Celery's ``ready.`` line)."""
    deadline = time.monotonic() + timeout
    for stage in ("parse", "enrich", "index"):
        path = logs / f"worker-{stage}.log"
        while not (path.exists() and " ready." in path.read_text(errors="replace")):
            if time.monotonic() > deadline:
                raise SystemExit(f"worker-{stage} did not become ready; see {path}")
            time.sleep(0.5)


# ----------------------------------------------------------------------------- modes


def settle(max_s: float = 90.0, quiet_cores: float = 0.15) -> float:
    """Wait until the stack is quiet (its processes use less than ``quiet_cores`` of CPU over 2 s:
    Elasticsearch's merges after the previous mode, the workers' tails), so that one mode's
    leftovers do not slow the next one down; first, the corpora just written go to disk, so that the
    kernel does not write them back during the next measurement. Returns the seconds waited."""
    t0 = time.monotonic()
    os.sync()
    while time.monotonic() - t0 < max_s:
        meters = [CpuMeter(p) for p in (read_pid(n) for n in Monitor.names) if p]
        time.sleep(2.0)
        if sum(m.used() for m in meters) / 2.0 < quiet_cores:
            break
    return time.monotonic() - t0


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GLEANER_REDIS_URL", redis_url())
    env.setdefault("GLEANER_ES_URL", es_url())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_inprocess(parts: list[Path], tmp: Path, tag: str, warmup: Path) -> dict[str, Any]:
    """Mode (a): one ``ops/bench/inprocess_run.py`` per part, in parallel. Each does its start-up
    (interpreter, imports, spaCy, one warm-up page) and says ``ready``; once all have, they are told to
    go together. Timed: from go until the last has finished. Start-up is reported apart."""
    es_meter = CpuMeter(read_pid("elasticsearch"))
    procs = []
    spawned = time.monotonic()
    for k, part in enumerate(parts):
        err = (tmp / f"{tag}-err{k}.log").open("w")
        procs.append(subprocess.Popen(
            [sys.executable, str(HERE.parent / "inprocess_run.py"), str(part), str(tmp / f"{tag}-docs{k}.jsonl"),
             str(warmup)], env=base_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
            cwd=str(REPO)))
        err.close()
    for proc in procs:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        if line != "ready":
            raise SystemExit(f"in-process run did not start ({line!r}); see {tmp / f'{tag}-err*.log'}")
    startup = time.monotonic() - spawned
    cpu0 = sum(cpu_s(p.pid) or 0.0 for p in procs)
    es_meter.sample(initial=True)
    busy0, steal0 = machine_cpu_s()
    started = time.monotonic()
    for proc in procs:
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    dones: list[str] = []
    cpu_end: dict[int, float] = {}
    peaks: list[float] = []
    for proc in procs:
        dones.append(proc.stdout.readline().strip())  # type: ignore[union-attr]
        cpu_end[proc.pid] = cpu_s(proc.pid) or 0.0
        peaks.append(hwm_mb(proc.pid) or 0.0)
    wall = time.monotonic() - started
    busy1, steal1 = machine_cpu_s()
    codes = [proc.wait() for proc in procs]
    for proc in procs:
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
    failed = sum(int(d.split()[3]) for d in dones if d.startswith("done "))
    own = sum(cpu_end.values()) - cpu0
    es_used = es_meter.used()
    return {"wall": wall, "startup": startup, "cpu": own, "es_cpu": es_used,
            "other_cpu": max(0.0, busy1 - busy0 - own - es_used), "steal": steal1 - steal0,
            "codes": codes, "failed": failed, "done_lines": dones, "peak_rss_mb": max(peaks, default=0.0),
            "docs": [tmp / f"{tag}-docs{k}.jsonl" for k in range(len(parts))]}


def command_stats(client) -> dict[str, int]:
    try:
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in client.info("commandstats").items()}
    except Exception:  # noqa: BLE001
        return {}


def idle_cpu(seconds: float) -> dict[str, float]:
    """CPU seconds per second of the stack's processes while nothing is submitted (polling, leases)."""
    meters = {n: CpuMeter(read_pid(n)) for n in Monitor.names}
    time.sleep(seconds)
    return {n: m.used() / seconds for n, m in meters.items()}


def run_pipeline(corpus: Path, tmp: Path, tag: str, sample_s: float) -> dict[str, Any]:
    """Mode (b): ``gleaner submit CORPUS --wait`` through the running workers. Timed: from the batch's
    first submitted page (its ``created_at`` in Redis, written once the producer has published its
    first bundle) until the bench sees every page finished (polled every 20 ms). The producer's
    start-up before that (interpreter, imports) is reported apart, with the wall time of the command."""
    from workers.runtime import progress_store

    idle = idle_cpu(5.0)
    monitor = Monitor(sample_s).start()
    stats0 = command_stats(monitor.redis)
    store = progress_store()
    logf = tmp / f"{tag}-submit.log"
    busy0, steal0 = machine_cpu_s()
    launched_epoch, started = time.time(), time.monotonic()
    finished_epoch = None
    with logf.open("w") as fh:
        proc = run_timed([GLEANER, "submit", str(corpus), "--wait", "--plain", "--interval", "5"],
                         env=base_env(), stdout=fh, stderr=subprocess.STDOUT)
        waiter = threading.Thread(target=lambda: wait_rusage(proc), daemon=True)
        waiter.start()
        while waiter.is_alive():
            if monitor.batch_id is None:
                m = re.search(r"batch (\S+): submitting", logf.read_text())
                if m:
                    monitor.batch_id = m.group(1)
            elif finished_epoch is None:
                state = store.get(monitor.batch_id)
                if state and state.complete:
                    finished_epoch = time.time()
            waiter.join(0.02)
    wall = time.monotonic() - started
    busy1, steal1 = machine_cpu_s()
    cpu = monitor.stop()
    stats1 = command_stats(monitor.redis)
    calls = {k: v - stats0.get(k, 0) for k, v in stats1.items() if v - stats0.get(k, 0) > 0}
    text = logf.read_text()
    done = re.search(r"done in .*", text)
    state = store.get(monitor.batch_id) if monitor.batch_id else None
    created = state.created_at if state else None
    timed = (finished_epoch - created) if finished_epoch and created else wall
    return {"wall": timed, "command_wall": wall, "startup": (created - launched_epoch) if created else None,
            "other_cpu": max(0.0, busy1 - busy0 - sum(cpu.values())), "steal": steal1 - steal0,
            "code": proc.returncode, "cpu": cpu, "idle": idle, "samples": monitor.samples, "redis_calls": calls,
            "summary": done.group(0) if done else text.strip().splitlines()[-1:]}


def warm_pipeline(pages: list[DevHtml], n: int, tmp: Path, collection: str) -> float:
    """Pages through the pipeline before the first run, not counted: each enrich process loads its
    spaCy model on its first bundle, and every worker imports what its first page needs."""
    path = tmp / "pipeline-warm-up.jsonl"
    write_corpus(path, pages, n, tag="warm", collection=collection)
    t0 = time.monotonic()
    subprocess.run([GLEANER, "submit", str(path), "--wait", "--plain", "--interval", "30"], env=base_env(),
                   cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - t0


def load_docs(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    from workers.stages.fingerprints import normalize_text
    from workers.stages.urls import document_id

    docs = []
    for path in paths:
        with path.open() as fh:
            for line in fh:
                doc = json.loads(line)
                docs.append((document_id(doc.get("url"), normalize_text(doc["body"])), doc))
    return docs


def index_message(doc_id: str, doc: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
    """An index-queue message as the enrich stage writes it: the page's reference at its top."""
    ref = {key: doc.get(key) for key in ("url", "collection", "batch_id")}
    return {"source": doc.get("source") or "bench", **ref, "seq": seq, "doc_id": doc_id, "document": doc}


def index_messages(docs: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [index_message(doc_id, doc) for doc_id, doc in docs]


def stage_items(messages: list[dict[str, Any]]) -> list[Any]:
    """What the index worker does with index messages before its bulk request (``index_bundle``):
    check each envelope, and keep its JSON document as ``_source``."""
    from workers.models import IndexEnvelope
    from workers.store.elastic import index_item

    items = []
    for message in messages:
        envelope = IndexEnvelope.model_validate(message)
        items.append(index_item(envelope.doc_id, envelope.document))
    return items


def orjson_client():
    """A client that writes and reads JSON with orjson, as the workers' does (``make_client``)."""
    from elasticsearch import Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    return Elasticsearch(es_url(), request_timeout=120, serializer=OrjsonSerializer())


def plain_bulk(client, index: str, docs: list[tuple[str, dict[str, Any]]], chunk_size: int) -> tuple[float, int]:
    """The plain loop: ``elasticsearch.helpers.bulk`` of index actions (``_id`` and ``_source``, no
    version) in chunks of ``chunk_size``. Seconds, and documents not indexed."""
    from elasticsearch import helpers

    t0 = time.perf_counter()
    _, errors = helpers.bulk(client, ({"_index": index, "_id": i, "_source": d} for i, d in docs),
                             chunk_size=chunk_size, raise_on_error=False)
    return time.perf_counter() - t0, len(errors)  # type: ignore[arg-type]


def bench_index(docs: list[tuple[str, dict[str, Any]]], rounds: int, chunk_sizes: list[int],
                chunk_size: int) -> dict[str, Any]:
    """The plain loop vs the index stage on the same documents, each into a fresh scratch index with
    the template's settings (both warm: one round of each first, not counted; then alternated).
    Both sides use a client writing orjson, bulks of ``chunk_size``. The plain loop: ``helpers.bulk``
    of index actions, no version. The index stage: what the index worker does with a bundle's
    documents once it has them (``stage_items``: envelope check, external version from
    ``fetched_at``), then its bulk writer (``workers.runtime.clustered_writer``, handed one bulk's
    documents at a time): each bulk placed in near-duplicate clusters (``place_in_clusters``: one
    search of the scratch index, one Redis script) while the one before is written by
    ``bulk_index`` (``streaming_bulk`` with retries, one outcome per document). Then the stage
    alone at other chunk sizes."""
    from workers.runtime import clustered_writer

    client = orjson_client()
    messages = index_messages(docs)
    es_pid = read_pid("elasticsearch")
    res: dict[str, list[float]] = {"plain": [], "stage": []}
    es_cpu: dict[str, list[float]] = {"plain": [], "stage": []}
    stamp = secrets.token_hex(3)

    def one(kind: str, name: str, size: int, record_cpu: bool = False) -> float:
        scratch_index(client, name)
        meter = CpuMeter(es_pid)
        if kind == "plain":
            dt, bad = plain_bulk(client, name, docs, size)
        else:
            writer = clustered_writer(alias=name, max_size=size)  # the worker's, on the scratch index
            t0 = time.perf_counter()
            items = stage_items(messages)
            bulks = [writer.submit_many(items[start:start + size]) for start in range(0, len(items), size)]
            results = [x for bulk in bulks for x in bulk.result()]
            dt = time.perf_counter() - t0
            bad = sum(1 for x in results if isinstance(x, BaseException) or x.outcome != "indexed")
        if record_cpu:
            es_cpu[kind].append(meter.used())
        client.indices.refresh(index=name)
        n = int(client.count(index=name)["count"])
        client.indices.delete(index=name)
        if bad or n != len(docs):
            log(f"  index {kind}: {bad} errors, {n}/{len(docs)} documents")
        return len(docs) / dt

    for kind in ("plain", "stage"):  # warm-up: JIT, caches, the scratch indices' first segments
        one(kind, f"bench-bulk-{stamp}-warm-{kind}", chunk_size)
    for r in range(rounds):
        order = ("plain", "stage") if r % 2 == 0 else ("stage", "plain")
        for kind in order:
            res[kind].append(one(kind, f"bench-bulk-{stamp}-{r}-{kind}", chunk_size, record_cpu=True))
    sweep: dict[int, list[float]] = {}
    for size in chunk_sizes:
        sweep[size] = [one("stage", f"bench-bulk-{stamp}-c{size}-{r}", size) for r in range(max(1, rounds // 2))]
    return {"plain": res["plain"], "stage": res["stage"], "es_cpu": es_cpu, "sweep": sweep}


def copies_of(docs: list[tuple[str, dict[str, Any]]], copies: int, tag: str, batch_id: str,
              collection: str) -> list[tuple[str, dict[str, Any]]]:
    """The documents ``copies`` times, under new URLs (so new ids: new documents, not overwrites),
    with ``batch_id`` and ``collection`` set; the same for both sides of a comparison."""
    from workers.stages.fingerprints import normalize_text
    from workers.stages.urls import document_id

    out = []
    for c in range(copies):
        for _, doc in docs:
            d = dict(doc, batch_id=batch_id, collection=collection, url=f"{doc.get('url') or ''}&via={tag}&c={c}")
            out.append((document_id(d["url"], normalize_text(d["body"])), d))
    return out


def run_index_worker(docs: list[tuple[str, dict[str, Any]]], batch_id: str, timeout: float) -> dict[str, Any]:
    """The index worker as deployed (Celery, its thread pool, the broker transport, progress in Redis)
    on ``docs`` sent as index-queue messages in bundles, as the enrich worker sends them. They are
    enqueued first on a staging queue nobody consumes, then moved onto the index queue at once
    (RENAME); timed from then until the batch's progress says every page is finished (polled every
    10 ms)."""
    from celery import signature
    from kombu import Queue

    from workers.config import get_settings
    from workers.delivery.app import app
    from workers.runtime import progress_store

    store = progress_store()
    meter = CpuMeter(read_pid("worker-index"))
    es_meter = CpuMeter(read_pid("elasticsearch"))
    bundle = get_settings().bundle_pages
    msgs = [index_message(doc_id, doc, seq) for seq, (doc_id, doc) in enumerate(docs)]
    staging = f"bench-staging-{secrets.token_hex(3)}"
    t_enq = time.monotonic()
    with app.connection_for_write() as conn:
        Queue(staging, routing_key=staging).bind(conn).declare()
    with app.producer_or_acquire() as producer:
        for i in range(0, len(msgs), bundle):
            signature("gleaner.index", args=(msgs[i:i + bundle],), app=app).apply_async(producer=producer,
                                                                                         queue=staging)
    store.add_submitted(batch_id, len(msgs))
    store.close_submission(batch_id, docs[0][1].get("collection") if docs else None)
    enqueue_s = time.monotonic() - t_enq
    r = store.redis
    meter.sample(initial=True)
    es_meter.sample(initial=True)
    t0 = time.monotonic()
    if r.llen("index") == 0:
        r.rename(staging, "index")
    else:
        while r.lmove(staging, "index", "RIGHT", "LEFT") is not None:
            pass
    r.delete(f"_kombu.binding.{staging}", f"_kombu.binding_permanent.{staging}")
    last, last_change, wall = -1, time.monotonic(), 0.0
    state = None
    while True:
        state = store.get(batch_id)
        if state and state.complete:
            wall = time.monotonic() - t0
            break
        done = state.finished if state else 0
        if done != last:
            last, last_change = done, time.monotonic()
        if time.monotonic() - last_change > 15 or time.monotonic() - t0 > timeout:
            log(f"  index worker: stopped waiting, {done}/{len(msgs)} finished (no progress for 15s)")
            wall = time.monotonic() - t0
            break
        time.sleep(0.01)
    r.delete(staging)
    return {"wall": wall, "enqueue_s": enqueue_s, "dps": (state.finished if state else 0) / wall,
            "indexed": state.indexed if state else 0, "failed": state.failed if state else 0,
            "cpu": meter.used(), "es_cpu": es_meter.used()}


def bench_index_worker(docs: list[tuple[str, dict[str, Any]]], stamp: str, rounds: int, copies: int,
                       chunk_size: int, timeout: float) -> dict[str, Any]:
    """The index worker as deployed against the plain loop, like for like: the same documents (``docs``
    ``copies`` times, new ids for each side and round), into the same index (the live write alias the
    worker writes to), a client writing orjson on both sides, bulks of ``chunk_size``; both warm (one
    smaller round of each first, not counted); alternated, ``rounds`` times."""
    from workers.config import get_settings
    from workers.producer import new_batch_id

    alias = get_settings().index_alias
    client = orjson_client()
    es_pid = read_pid("elasticsearch")
    out: dict[str, list[Any]] = {"plain": [], "worker": [], "plain_es_cpu": [], "worker_runs": []}

    def worker_side(tag: str, n_copies: int) -> dict[str, Any]:
        batch_id = new_batch_id()
        side = copies_of(docs, n_copies, tag, batch_id, f"bench-{stamp}-{tag}")
        return run_index_worker(side, batch_id, timeout) | {"docs": len(side)}

    def plain_side(tag: str, n_copies: int) -> tuple[float, float]:
        side = copies_of(docs, n_copies, tag, f"plain-{tag}", f"bench-{stamp}-{tag}")
        meter = CpuMeter(es_pid)
        dt, bad = plain_bulk(client, alias, side, chunk_size)
        if bad:
            log(f"  plain loop into '{alias}': {bad} documents not indexed")
        return len(side) / dt, meter.used() / len(side)

    settle()
    plain_side("iw-warm-plain", 1)
    worker_side("iw-warm-worker", 1)
    for r in range(rounds):
        for kind in (("plain", "worker") if r % 2 == 0 else ("worker", "plain")):
            settle(max_s=20)
            if kind == "plain":
                dps, es_ms = plain_side(f"iw{r}-plain", copies)
                out["plain"].append(dps)
                out["plain_es_cpu"].append(es_ms)
            else:
                w = worker_side(f"iw{r}-worker", copies)
                out["worker"].append(w["dps"])
                out["worker_runs"].append(w)
    out["ratios"] = [w / p for w, p in zip(out["worker"], out["plain"])]
    return out


def write_warc(path: Path, pages: list[DevHtml], target_mb: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    n = 0
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        while fh.tell() < target_mb * 1024 * 1024:
            page = pages[n % len(pages)]
            payload = page.html.encode("utf-8")
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
            rec = writer.create_warc_record(copy_url(page.url, n // len(pages), "warc"), "response",
                                            payload=io.BytesIO(payload), http_headers=headers)
            writer.write_record(rec)
            n += 1
    return n


def wait_for_aof_rewrite(client, max_s: float = 120.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < max_s and int(client.info("persistence").get("aof_rewrite_in_progress", 0)):
        time.sleep(0.5)


def besides(run: dict[str, Any]) -> str:
    """What else used the machine during a producer run."""
    return (f"during the run: {run['aof_rewrites']} AOF rewrites of Redis, {run['other_cpu']:.1f}s CPU of other "
            f"processes, {run['steal']:.1f}s stolen")


def compact_aof(client) -> None:
    """Rewrite Redis's AOF now (it holds next to nothing once the producer's database is flushed), so
    that the next run starts from a compact AOF and its own growth does not reach Redis's rewrite
    threshold (1 GB)."""
    wait_for_aof_rewrite(client)
    client.bgrewriteaof()
    time.sleep(0.2)
    wait_for_aof_rewrite(client)


def rewrite_when_queued(client, messages: int, stop: threading.Event) -> threading.Thread:
    """Start an AOF rewrite once the producer has queued ``messages`` messages (in the background)."""

    def watch() -> None:
        while not stop.is_set():
            if int(client.llen("parse")) >= messages:
                client.bgrewriteaof()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def run_producer(path: Path, db: int, *, rewrite_at: int | None = None) -> dict[str, Any]:
    """One ``gleaner submit`` of ``path`` into database ``db``, from a compact AOF; with
    ``rewrite_at``, Redis rewrites its AOF once that many messages are queued."""
    import redis

    base = redis_url().rsplit("/", 1)[0] if re.search(r"/\d+$", redis_url()) else redis_url().rstrip("/")
    url = f"{base}/{db}"
    if url == redis_url():
        raise SystemExit("--producer-db must differ from the workers' Redis database")
    env = base_env()
    env["GLEANER_REDIS_URL"] = url
    client = redis.Redis.from_url(url)
    client.flushdb()
    compact_aof(client)
    rewrites0 = int(client.info("persistence").get("aof_rewrites", 0))
    mem0 = int(client.info("memory")["used_memory"])
    redis_meter = CpuMeter(read_pid("redis"))
    redis_sys0 = sys_cpu_s(read_pid("redis"))
    rewrite_cpu0 = children_cpu_s(read_pid("redis"))
    busy0, steal0 = machine_cpu_s()
    stop_watch = threading.Event()
    if rewrite_at is not None:
        rewrite_when_queued(client, rewrite_at, stop_watch)
    t0 = time.monotonic()
    proc = run_timed([GLEANER, "submit", str(path), "--plain"], env=env, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    codes, cpu, peaks, rss_series = wait_sampling([proc], every=0.1)
    code = codes[0]
    wall = time.monotonic() - t0
    stop_watch.set()
    wait_for_aof_rewrite(client)  # a rewrite still running is part of this run's cost
    busy1, steal1 = machine_cpu_s()
    redis_cpu = redis_meter.used()
    redis_sys = sys_cpu_s(read_pid("redis")) - redis_sys0
    rewrite_cpu = children_cpu_s(read_pid("redis")) - rewrite_cpu0
    reader.join()
    text = out[0].decode(errors="replace") if out else ""
    m = re.search(r"submitted ([\d,]+) pages \(([^)]*)\) in ([\d.]+)s", text)
    pages = int(m.group(1).replace(",", "")) if m else 0
    inner = float(m.group(3)) if m else None
    queued = int(client.llen("parse"))
    mem = int(client.info("memory")["used_memory"]) - mem0
    rewrites = int(client.info("persistence").get("aof_rewrites", 0)) - rewrites0
    client.flushdb()
    return {"wall": wall, "aof_rewrites": rewrites, "code": code, "pages": pages, "queued": queued, "cpu": cpu, "peak_rss_mb": peaks[0],
            "submit_s": inner, "redis_cpu": redis_cpu, "redis_sys": redis_sys, "rewrite_cpu": rewrite_cpu,
            "rss_series": rss_series,
            "pps": pages / wall,
            "other_cpu": max(0.0, busy1 - busy0 - cpu - redis_cpu), "steal": steal1 - steal0,
            "size_mb": (sum(f.stat().st_size for f in path.iterdir()) if path.is_dir() else path.stat().st_size) / 1e6, "redis_bytes_per_page": mem / max(queued, 1), "tail": text.strip().splitlines()[-1:] if not m else None}


@dataclass
class ProducerInputs:
    """The producer's inputs, written once and submitted by every run."""

    files: Path  # a folder of HTML files
    jsonl: Path
    warcs: list[tuple[Path, int]]  # (archive, records): a small one (memory reference) and a big one


def write_producer_inputs(pages: list[DevHtml], n: int, warc_mb: int, tmp: Path) -> ProducerInputs:
    jsonl, files = tmp / "producer.jsonl", tmp / "producer-files"
    write_corpus(jsonl, pages, n, tag="p", collection=None)
    write_folder(files, pages, n)
    warcs = []
    if warc_mb:
        for name, mb in (("small", max(1, min(20, warc_mb // 10))), ("big", warc_mb)):
            path = tmp / f"{name}.warc"
            warcs.append((path, write_warc(path, pages, mb)))
    return ProducerInputs(files=files, jsonl=jsonl, warcs=warcs)


def producer_line(label: str, run: dict[str, Any]) -> str:
    rate = run["pages"] / run["submit_s"] if run["submit_s"] else 0.0
    return (f"  producer ({label}, {run['size_mb']:.0f} MB): {run['pages']} pages in {run['submit_s']}s = {rate:.0f} "
            f"pages/s ({run['pps']:.0f} wall incl. start-up), {run['queued']} messages queued; peak RSS "
            f"{run['peak_rss_mb']:.0f} MB; CPU {run['cpu']:.1f}s producer, Redis {run['redis_cpu']:.1f}s "
            f"({run['redis_sys']:.1f}s of it in the kernel) + {run['rewrite_cpu']:.1f}s in AOF rewrites; "
            f"{besides(run)}; Redis memory "
            f"{run['redis_bytes_per_page'] * max(run['queued'], 1) / max(run['pages'], 1) / 1024:.0f} kB per queued page"
            + (f"; {run['tail']}" if run["tail"] else ""))


def producer_round(inputs: ProducerInputs, db: int, results: dict[str, list[Any]]) -> None:
    """One warm-up submission (not counted), each input once, then the HTML files again with an AOF
    rewrite in the middle of the run. Each run starts from a compact AOF, so that whether Redis
    rewrites it during a run does not depend on what ran before; what a rewrite costs is measured
    by the last run and spread over the traffic between two rewrites in the summary."""
    settle()
    warm = run_producer(inputs.files, db)
    results["warm_up"].append(warm)
    log(producer_line("warm-up, HTML files, not counted", warm))
    runs: list[tuple[str, Path, int | None]] = [("HTML files", inputs.files, None), ("JSONL", inputs.jsonl, None)]
    runs += [(f"WARC {path.stat().st_size / 1e6:.0f} MB", path, records) for path, records in inputs.warcs]
    for label, path, records in runs:
        settle()
        pr = run_producer(path, db)
        pr["label"] = label
        results["producer"].append(pr)
        if records is not None:
            pr["records"] = records
            results["warc"].append(pr)
        line = producer_line(label if records is None else f"WARC, {records} records", pr)
        if records is not None:
            series = pr["rss_series"]
            line += "; RSS MB over time: " + " ".join(f"{x:.0f}" for x in series[:: max(1, len(series) // 10)])
        log(line)
    settle()
    half = max(1, (results["producer"][-len(runs)]["queued"] or 2) // 2)
    rw = run_producer(inputs.files, db, rewrite_at=half)
    results["rewrite"].append(rw)
    log(producer_line(f"HTML files, AOF rewrite once {half} messages are queued", rw))


def amortized_rate(clean_s: float, rewrite_s: float, pages: int, bytes_per_page: float,
                   rewrite_every: float = 1024**3) -> float:
    """Pages/s over the traffic between two AOF rewrites (Redis rewrites once the AOF has grown by
    ``rewrite_every`` bytes): ``clean_s`` for ``pages`` pages without a rewrite, ``rewrite_s`` with one."""
    per_rewrite = rewrite_every / bytes_per_page
    return per_rewrite / (per_rewrite * clean_s / pages + max(0.0, rewrite_s - clean_s))


# ----------------------------------------------------------------------------- enrich worker memory


def run_memory(pages: list[DevHtml], n: int, sample_s: float, timeout: float) -> dict[str, Any]:
    """One enrich worker process alone over ``n`` pages: its RSS against the pages it has done.

    The stack's enrich worker is stopped (SIGTERM, warm shutdown) and a worker with a single
    prefork child is started on the enrich queue, so that child runs every page. The pages are
    the dev pages parsed once here, sent as enrich bundles with distinct URLs (their documents are
    indexed by the stack's index worker as usual). The stack's enrich worker is started again
    (``ops/stack.sh up``) at the end.
    """
    import signal as sig

    from celery import chain

    from workers.config import get_settings
    from workers.delivery.app import app
    from workers.errors import PermanentPageError
    from workers.models import RawPage
    from workers.producer import new_batch_id
    from workers.runtime import progress_store
    from workers.stages.parse import ParseLimits, parse_page
    from workers.stages.urls import document_id

    settings = get_settings()
    limits = ParseLimits(max_text_chars=settings.max_text_chars, min_body_words=settings.min_body_words)
    batch_id = new_batch_id()
    parsed = []
    for dev in pages:
        try:
            parsed.append(parse_page(RawPage(content=dev.html.encode(), source=f"{dev.id}.html", kind="html",
                                             url=dev.url), batch_id=batch_id, limits=limits))
        except PermanentPageError:
            pass
    collection = f"bench-memory-{batch_id}"

    old = read_pid("worker-enrich")
    if old:
        os.kill(old, sig.SIGTERM)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{old}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    logf = (stack_dir() / "logs" / "worker-enrich-memory.log").open("a")
    worker = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "celery"), "-A", "workers.delivery.app", "worker", "-Q", "enrich",
         "-n", "enrich-memory@%h", "--pool", "prefork", "--concurrency", "1", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle"], env=base_env(), stdout=logf, stderr=subprocess.STDOUT, cwd=str(REPO))
    store = progress_store()
    samples: list[tuple[float, int, float]] = []  # (t, pages enriched, child RSS MB)
    try:
        with app.producer_or_acquire() as producer:
            bundle: list[dict[str, Any]] = []
            for seq in range(n):
                page = parsed[seq % len(parsed)]
                url = copy_url(page.url or "", seq // len(parsed), f"memory-{batch_id}")
                msg = page.model_copy(update={"url": url, "seq": seq, "collection": collection,
                                              "doc_id": document_id(url, "")}).model_dump(mode="json")
                bundle.append(msg)
                if len(bundle) == settings.bundle_pages or seq == n - 1:
                    chain(app.signature("gleaner.enrich", args=(bundle,)), app.signature("gleaner.index")).apply_async(
                        producer=producer)
                    bundle = []
        store.add_submitted(batch_id, n)
        store.close_submission(batch_id, collection)
        t0 = time.monotonic()
        child = None
        while time.monotonic() - t0 < timeout:
            kids = children(worker.pid)
            child = child if child in kids else (kids[0] if kids else None)
            state = store.get(batch_id)
            done = state.enriched if state else 0
            rss = rss_mb(child) if child else None
            if rss:
                samples.append((time.monotonic() - t0, done, rss))
            if state and state.enriched + state.failed >= n:
                break
            time.sleep(sample_s)
        wall = time.monotonic() - t0
        peak = hwm_mb(child) if child else None
    finally:
        worker.send_signal(sig.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
        logf.close()
        subprocess.run([str(REPO / "ops" / "stack.sh"), "up"], env=base_env(), cwd=str(REPO),
                       stdout=subprocess.DEVNULL, check=False)
    return {"samples": samples, "wall": wall, "peak_mb": peak, "pages": n,
            "enriched": samples[-1][1] if samples else 0}


# ----------------------------------------------------------------------------- per-stage CPU


def stage_costs(pages: list[DevHtml], n: int, tmp: Path) -> dict[str, Any]:
    from workers.config import get_settings
    from workers.errors import PermanentPageError
    from workers.inputs import iter_inputs
    from workers.messages import pack_page, unpack_page
    from workers.models import IndexMessage, PageMessage, ParsedPage, RawPage
    from workers.pipeline import Resources
    from workers.pipeline import parse as parse_step
    from workers.stages.assemble import assemble_document
    from workers.stages.entities import EntityInput, extract_entities_batch, load_ner, ner_model_version
    from workers.store.elastic import bulk_index, index_item

    settings = get_settings()
    path = tmp / "stages.jsonl"
    write_corpus(path, pages, n, tag="stages", collection="bench-stages")
    raw = [p for p in iter_inputs([str(path)], max_bytes=settings.max_page_bytes) if isinstance(p, RawPage)]
    cost: dict[str, float] = {}
    pt = time.process_time

    # The parse step as the workers run it: the JSON Lines record opened, then the page parsed.
    resources = Resources(settings=settings)
    for page in raw[:3]:  # warm-up: lazy imports, compiled patterns
        try:
            parse_step(page, resources)
        except PermanentPageError:
            pass
    t = pt()
    parsed, failed = [], 0
    for page in raw:
        try:
            parsed.append(parse_step(page, resources))
        except PermanentPageError:
            failed += 1
    cost["parse"] = pt() - t

    nlp = load_ner(settings.spacy_model)
    warm = [EntityInput(p.extraction.title, p.extraction.body, tuple(p.extraction.tags), p.language) for p in parsed[:4]]
    list(extract_entities_batch(nlp, warm, batch_size=settings.ner_batch_size, max_chars=settings.ner_max_chars))
    inputs = [EntityInput(p.extraction.title, p.extraction.body, tuple(p.extraction.tags), p.language) for p in parsed]
    t = pt()
    entities = list(extract_entities_batch(nlp, inputs, batch_size=settings.ner_batch_size,
                                           max_chars=settings.ner_max_chars))
    cost["enrich (NER)"] = pt() - t

    t = pt()
    now = datetime.now(timezone.utc)
    model = ner_model_version(nlp)
    docs = [(p.doc_id, assemble_document(p, e, ner_model=model, ingested_at=now)) for p, e in zip(parsed, entities)]
    cost["assemble"] = pt() - t

    # What the three messages cost to build, serialize, parse and validate (Celery's own work not included).
    t = pt()
    packed = [pack_page(page, batch_id="b", seq=0, max_bytes=settings.max_page_bytes) for page in raw]
    cost["pack_page (zstd+base64)"] = pt() - t
    t = pt()
    for msg in packed:
        body = json.dumps(msg.model_dump(mode="json", exclude_none=True))
        unpack_page(PageMessage.model_validate(json.loads(body)), max_bytes=settings.max_page_bytes)
    for p, (doc_id, doc) in zip(parsed, docs):
        ParsedPage.model_validate(json.loads(json.dumps(p.model_dump(mode="json"))))
        IndexMessage.model_validate(json.loads(json.dumps(IndexMessage(doc_id=doc_id, document=doc).model_dump(mode="json"))))
    cost["messages (json+pydantic)"] = pt() - t

    from workers.store.elastic import make_client

    client = make_client(settings)  # the workers' client (orjson)
    name = f"bench-stages-{secrets.token_hex(3)}"
    scratch_index(client, name)
    es_meter = CpuMeter(read_pid("elasticsearch"))
    t = pt()
    items = [index_item(doc_id, doc) for doc_id, doc in docs]
    for i in range(0, len(items), settings.index_batch_size):
        bulk_index(client, name, items[i:i + settings.index_batch_size], chunk_size=settings.index_batch_size)
    cost["index (client)"] = pt() - t
    es_cpu = es_meter.used()
    client.indices.delete(index=name)
    return {"pages": len(raw), "parsed": len(parsed), "failed": failed, "cost": cost, "es_cpu": es_cpu,
            "body_chars": statistics.mean(len(p.extraction.body) for p in parsed) if parsed else 0,
            "raw_kb": statistics.mean(len(p.content) for p in raw) / 1024}


# ----------------------------------------------------------------------------- report


def span(values: list[float], fmt: str = "{:.1f}") -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} (min {fmt.format(min(values))}, max {fmt.format(max(values))})"


def rss_series_text(samples: list[Sample], points: int = 12) -> list[str]:
    if not samples:
        return ["  (no samples)"]
    step = max(1, len(samples) // points)
    chosen = samples[::step]
    if chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    lines = []
    for name in ("worker-parse", "worker-enrich", "worker-index"):
        vals = " ".join(f"{s.rss.get(name, 0):.0f}" for s in chosen)
        lines.append(f"  {name:<14} MB: {vals}")
    lines.append("  t (s)            : " + " ".join(f"{s.t:.0f}" for s in chosen))
    lines.append("  enriched (total) : " + " ".join(str(s.enriched_total) for s in chosen))
    lines.append("  indexed (batch)  : " + " ".join(str(s.batch.get("indexed", 0)) for s in chosen))
    for q in ("parse", "enrich", "index"):
        lines.append(f"  queue {q:<10} : " + " ".join(str(s.queues.get(q, "-")) for s in chosen))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000, help="pages per corpus (default 2000)")
    ap.add_argument("--runs", type=int, default=1, help="repeat (a) and (b), alternated, and the index benches N times")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 2, help="processes for (a) (default: cores)")
    ap.add_argument("--stage-pages", type=int, default=146, help="pages for the per-stage CPU cost")
    ap.add_argument("--index-rounds", type=int, default=4,
                    help="alternated rounds of plain bulk vs the index stage (after one warm-up round of each)")
    ap.add_argument("--index-worker-rounds", type=int, default=3,
                    help="alternated rounds of plain bulk vs the index worker, per run (after one warm-up of each)")
    ap.add_argument("--index-copies", type=int, default=3,
                    help="the index worker comparison sends (a)'s documents this many times (new ids each)")
    ap.add_argument("--producer-runs", type=int, default=3, help="producer rounds (in the first N runs)")
    ap.add_argument("--warm-pages", type=int, default=256,
                    help="pages through the pipeline before the first run, not counted (0: none)")
    ap.add_argument("--producer-db", type=int, default=15, help="Redis database for the producer test (flushed)")
    ap.add_argument("--producer-pages", type=int, default=6000,
                    help="pages of the producer's HTML files and JSONL (default 6000, about 1 GB each)")
    ap.add_argument("--warc-mb", type=int, default=1024, help="size of the generated WARC for the producer (0: none)")
    ap.add_argument("--chunk-sizes", default="50,100,200,500,1000", help="bulk chunk sizes tried for the index stage")
    ap.add_argument("--memory-pages", type=int, default=10500,
                    help="pages for the enrich worker memory test (one worker process alone; 0: skip)")
    ap.add_argument("--sample-s", type=float, default=2.0, help="worker RSS/CPU sampling interval")
    ap.add_argument("--timeout", type=float, default=3600, help="give up waiting for the index worker after this")
    ap.add_argument("--keep", type=Path, help="keep the corpora and outputs in this folder")
    ap.add_argument("--stack", choices=("private", "current"), default="private",
                    help="private (default): a fresh stack of the bench's own, stopped at the end; "
                         "current: the stack in GLEANER_REDIS_URL / GLEANER_ES_URL")
    ap.add_argument("--redis-port", type=int, default=6393, help="Redis port of the private stack")
    ap.add_argument("--es-port", type=int, default=9213, help="Elasticsearch port of the private stack")
    for skip in ("inprocess", "pipeline", "index", "index-worker", "producer", "stages", "memory"):
        ap.add_argument(f"--skip-{skip}", action="store_true")
    args = ap.parse_args()
    default_stack = stacks_running(REPO / ".stack") if args.stack == "private" else []
    if default_stack:
        log("note: the default stack is running (" + " ".join(default_stack) + "); its idle processes share the "
            "cores with the bench (`make down` to stop it)")
    with private_stack(args.redis_port, args.es_port, keep=bool(args.keep)) if args.stack == "private" else nullcontext():
        return bench(args)


def bench(args: argparse.Namespace) -> int:
    from workers.config import get_settings

    alias = get_settings().index_alias
    tmp = Path(tempfile.mkdtemp(prefix="gleaner-bench-", dir=args.keep)) if args.keep else \
        Path(tempfile.mkdtemp(prefix="gleaner-bench-"))
    pages = dev_pages()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
    log(f"bench: {len(pages)} dev pages, corpus {args.pages} pages, {args.runs} run(s), {os.cpu_count()} cores; "
        f"redis {redis_url()}  es {es_url()}  stack {stack_dir()}  tmp {tmp}")
    workers = {n: read_pid(n) for n in ("worker-parse", "worker-enrich", "worker-index", "redis", "elasticsearch")}
    log("pids: " + "  ".join(f"{n}={p}" for n, p in workers.items()))
    client = es()

    results: dict[str, list[Any]] = {k: [] for k in ("a", "b", "index", "index_worker", "producer", "warc", "memory",
                                                     "warm_up", "rewrite")}
    settings = get_settings()
    inputs: ProducerInputs | None = None  # written for the first run, reused by the others
    log(f"settings: bundle {settings.bundle_pages} pages, bulk {settings.index_batch_size} docs / "
        f"{settings.index_flush_s}s, nlp.pipe batch {settings.ner_batch_size}")
    try:
        if not args.skip_stages:
            log(f"\n== per-stage CPU, in-process, {args.stage_pages} pages ==")
            sc = stage_costs(pages, args.stage_pages, tmp)
            results["stages"] = [sc]
            n = max(sc["parsed"], 1)
            log(f"  pages {sc['pages']} (parsed {sc['parsed']}, failed {sc['failed']}), raw {sc['raw_kb']:.0f} kB, "
                f"body {sc['body_chars']:.0f} chars on average")
            total = 0.0
            for stage, secs in sc["cost"].items():
                per = secs / (sc["pages"] if stage.startswith(("parse", "messages", "pack")) else n)
                total += per
                log(f"  {stage:<26} {per * 1000:8.1f} ms CPU/page   ({1 / per if per else 0:8.1f} pages/s per core)")
            es_per = sc["es_cpu"] / n
            log(f"  {'index (Elasticsearch node)':<26} {es_per * 1000:8.1f} ms CPU/page")
            log(f"  {'total':<26} {(total + es_per) * 1000:8.1f} ms CPU/page")

        warmup = tmp / "inprocess-warm-up.jsonl"
        write_corpus(warmup, pages, 2, tag="warm-a", collection=None)
        if args.warm_pages and not args.skip_pipeline:
            settle()
            secs = warm_pipeline(pages, args.warm_pages, tmp, f"bench-{stamp}-warm")
            log(f"\npipeline warm-up: {args.warm_pages} pages in {secs:.1f}s, not counted (spaCy loads in each enrich "
                f"process on its first bundle)")
        for run in range(1, args.runs + 1):
            log(f"\n== run {run}/{args.runs} ==")
            coll_a, coll_b = f"bench-{stamp}-r{run}-a", f"bench-{stamp}-r{run}-b"
            # (a) and (b) alternate which goes first, so that neither always inherits the other's
            # leftovers (Elasticsearch merging the previous mode's writes).
            def mode_a() -> dict[str, Any]:
                settle()
                parts = split_corpus(pages, args.pages, args.procs, tmp, tag=f"r{run}a", collection=coll_a)
                a_res = run_inprocess(parts, tmp, f"r{run}a", warmup)
                a_res["indexed"] = count_collection(client, alias, coll_a)
                a_res["pps"] = args.pages / a_res["wall"]
                results["a"].append(a_res)
                log(f"  (a) in-process x{args.procs}: {args.pages} pages in {a_res['wall']:.1f}s = "
                    f"{a_res['pps']:.1f} pages/s (start-up before it, not counted: {a_res['startup']:.1f}s); "
                    f"indexed {a_res['indexed']}; failed {a_res['failed']}; exit {a_res['codes']}; "
                    f"CPU {a_res['cpu']:.0f}s gleaner + {a_res['es_cpu']:.0f}s ES "
                    f"= {(a_res['cpu'] + a_res['es_cpu']) / args.pages * 1000:.0f} ms/page; "
                    f"peak RSS {a_res['peak_rss_mb']:.0f} MB/process; other processes on the machine meanwhile "
                    f"{a_res['other_cpu']:.0f}s CPU ({a_res['other_cpu'] / a_res['wall']:.2f} cores), "
                    f"{a_res['steal']:.0f}s stolen")
                return a_res

            def mode_b() -> dict[str, Any]:
                corpus_b = tmp / f"r{run}b.jsonl"
                write_corpus(corpus_b, pages, args.pages, tag=f"r{run}b", collection=coll_b)
                settle()
                b_res = run_pipeline(corpus_b, tmp, f"r{run}b", args.sample_s)
                b_res["indexed"] = count_collection(client, alias, coll_b)
                b_res["pps"] = args.pages / b_res["wall"]
                results["b"].append(b_res)
                cpu = b_res["cpu"]
                startup = b_res["startup"]
                log(f"  (b) pipeline: {args.pages} pages in {b_res['wall']:.1f}s = {b_res['pps']:.1f} pages/s "
                    f"(from the first page in Redis to the last finished; the command took {b_res['command_wall']:.1f}s, "
                    f"its start-up before the first page {'n/a' if startup is None else f'{startup:.1f}s'}); "
                    f"indexed {b_res['indexed']}; exit {b_res['code']}; {b_res['summary']}; other processes on the "
                    f"machine meanwhile {b_res['other_cpu']:.0f}s CPU ({b_res['other_cpu'] / b_res['command_wall']:.2f} "
                    f"cores, the submit command included), {b_res['steal']:.0f}s stolen")
                log("      CPU ms/page: " + "  ".join(f"{k} {v / args.pages * 1000:.1f}" for k, v in cpu.items())
                    + f"  total {sum(cpu.values()) / args.pages * 1000:.1f}")
                idle = b_res["idle"]
                log("      idle CPU (ms/s, before the run): " + "  ".join(f"{k} {v * 1000:.1f}" for k, v in idle.items())
                    + "; busy-minus-idle ms/page: " + "  ".join(
                        f"{k} {max(0.0, cpu[k] - idle[k] * b_res['wall']) / args.pages * 1000:.1f}" for k in cpu))
                calls = b_res["redis_calls"]
                top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
                log(f"      Redis commands: {sum(calls.values()) / args.pages:.1f} per page ("
                    + ", ".join(f"{k} {v / args.pages:.1f}" for k, v in top) + ")")
                log("  worker RSS over time (MB, process + children):")
                for line in rss_series_text(b_res["samples"]):
                    log(line)
                return b_res

            a_res = b_res = None
            for mode in (("a", "b") if run % 2 else ("b", "a")):
                if mode == "a" and not args.skip_inprocess:
                    a_res = mode_a()
                elif mode == "b" and not args.skip_pipeline:
                    b_res = mode_b()
            if a_res and b_res:
                log(f"  ratio (b)/(a) = {b_res['pps'] / a_res['pps']:.2f} ((a) first: {run % 2 == 1})")
            docs = load_docs(a_res["docs"]) if a_res else []
            if docs and not args.skip_index:
                sizes = [int(x) for x in args.chunk_sizes.split(",") if x.strip()]
                settle()
                ix = bench_index(docs, args.index_rounds, sizes, settings.index_batch_size)
                results["index"].append(ix)
                ratio = statistics.median(ix["stage"]) / statistics.median(ix["plain"])
                ix["ratio"] = ratio
                log(f"  index: {len(docs)} docs; plain helpers.bulk {span(ix['plain'])} docs/s; "
                    f"bulk_index {span(ix['stage'])} docs/s; ratio {ratio:.2f}; ES CPU ms/doc plain "
                    f"{statistics.median(ix['es_cpu']['plain']) / len(docs) * 1000:.1f}, bulk_index "
                    f"{statistics.median(ix['es_cpu']['stage']) / len(docs) * 1000:.1f}")
                log("  index stage by chunk size (docs/s): " + "  ".join(
                    f"{size}: {span(v, '{:.0f}')}" for size, v in ix["sweep"].items()))
            if docs and not args.skip_index_worker:
                iw = bench_index_worker(docs, f"{stamp}-r{run}", args.index_worker_rounds, args.index_copies,
                                        settings.index_batch_size, args.timeout)
                results["index_worker"].append(iw)
                n = len(docs) * args.index_copies
                runs = iw["worker_runs"]
                log(f"  index worker as deployed vs the plain loop, {n} docs each, into '{alias}', alternated: "
                    f"plain {span(iw['plain'], '{:.0f}')} docs/s, worker {span(iw['worker'], '{:.0f}')} docs/s; "
                    f"ratios " + ", ".join(f"{x:.2f}" for x in iw["ratios"]))
                log(f"      worker CPU {span([w['cpu'] / w['docs'] * 1000 for w in runs], '{:.2f}')} ms/doc, "
                    f"ES CPU ms/doc worker {span([w['es_cpu'] / w['docs'] * 1000 for w in runs], '{:.2f}')}, plain "
                    f"{span([x * 1000 for x in iw['plain_es_cpu']], '{:.2f}')}; failed "
                    f"{sum(w['failed'] for w in runs)}; enqueued beforehand in "
                    f"{span([w['enqueue_s'] for w in runs])}s (not counted)")
            if not args.skip_producer and run <= args.producer_runs:
                inputs = inputs or write_producer_inputs(pages, args.producer_pages, args.warc_mb, tmp)
                producer_round(inputs, args.producer_db, results)
            for path in tmp.glob(f"r{run}*.jsonl"):
                path.unlink()
        if args.memory_pages and not args.skip_memory:
            log(f"\n== enrich worker memory: one process alone, {args.memory_pages} pages ==")
            mem = run_memory(pages, args.memory_pages, args.sample_s, args.timeout)
            results["memory"].append(mem)
            pick = mem["samples"][:: max(1, len(mem["samples"]) // 15)]
            log(f"  {mem['enriched']} pages enriched in {mem['wall']:.0f}s "
                f"({mem['enriched'] / mem['wall'] if mem['wall'] else 0:.1f} pages/s on one process)")
            log("  pages : " + " ".join(f"{d:>5}" for _, d, _ in pick))
            log("  RSS MB: " + " ".join(f"{r:>5.0f}" for _, _, r in pick))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    try:
        client.indices.refresh(index=alias)
        stats = client.indices.stats(index=alias, metric="store").body["_all"]["primaries"]["store"]["size_in_bytes"]
        docs_n = int(client.count(index=alias)["count"])
        log(f"\nindex '{alias}': {docs_n} documents, {stats / 1e6:.1f} MB primary store "
            f"= {stats / max(docs_n, 1) / 1024:.1f} kB per document (before any force-merge)")
    except Exception as exc:  # noqa: BLE001
        log(f"index size: n/a ({exc})")
    log("\n== summary ==")
    a_pps = [r["pps"] for r in results["a"]]
    b_pps = [r["pps"] for r in results["b"]]
    ratios = [b / a for a, b in zip(a_pps, b_pps)]
    log(f"  (a) in-process pages/s: {span(a_pps)}")
    log(f"  (b) pipeline pages/s:   {span(b_pps)}")
    log(f"  (b)/(a):                {span(ratios, '{:.2f}')}   goal >= 0.9   (each run: "
        + ", ".join(f"{x:.2f}" for x in ratios) + "; both warm, start-up not counted: (a) "
        f"{span([r['startup'] for r in results['a']])}s, (b)'s submit command "
        f"{span([r['startup'] for r in results['b'] if r['startup'] is not None])}s)")
    if results["index"]:
        log(f"  index stage/plain bulk: {span([x['ratio'] for x in results['index']], '{:.2f}')}   goal >= 0.9   "
            "(scratch indices, orjson both sides)")
    if results["index_worker"]:
        iw = [x for r in results["index_worker"] for x in r["ratios"]]
        log(f"  index worker/plain bulk: {span(iw, '{:.2f}')}   goal >= 0.9   (each round: "
            + ", ".join(f"{x:.2f}" for x in iw) + "; as deployed, same documents and index, orjson both sides)")
    labels = list(dict.fromkeys(p["label"] for p in results["producer"]))
    for label in labels:
        runs = [p for p in results["producer"] if p["label"] == label and p["submit_s"] and p["pages"] >= 1000]
        if not runs:  # the small WARC: there for its memory, too short for a rate
            continue
        rates = [p["pages"] / p["submit_s"] for p in runs]
        quiet = [p["pages"] / p["submit_s"] for p in runs if not p["aof_rewrites"]]
        log(f"  producer pages/s, {label}: {span(rates, '{:.0f}')}   goal >= 2000"
            + (f"   ({len(runs) - len(quiet)} of {len(runs)} runs with a Redis AOF rewrite; the others: "
               f"{span(quiet, '{:.0f}')})" if len(quiet) < len(runs) else ""))
    html = [p for p in results["producer"] if p["label"] == "HTML files" and p["submit_s"]]
    rewrites = [p for p in results["rewrite"] if p["submit_s"]]
    if html and rewrites:
        clean_s = statistics.median(p["submit_s"] for p in html)
        # redis_bytes_per_page is per queued message (a bundle): back to pages.
        per_page = statistics.median(p["redis_bytes_per_page"] * p["queued"] / p["pages"] for p in html)
        rates = [amortized_rate(clean_s, p["submit_s"], p["pages"], per_page) for p in rewrites]
        log(f"  producer pages/s, HTML files with an AOF rewrite mid-run: "
            f"{span([p['pages'] / p['submit_s'] for p in rewrites], '{:.0f}')}; rewrite CPU "
            f"{span([p['rewrite_cpu'] for p in rewrites])}s; spread over the 1 GB between two rewrites: "
            f"{span(rates, '{:.0f}')} pages/s   goal >= 2000")
    if results["warm_up"]:
        warm = [p for p in results["warm_up"] if p["submit_s"]]
        log(f"  producer warm-up (HTML files, not counted): {span([p['pages'] / p['submit_s'] for p in warm], '{:.0f}')}"
            f" pages/s, Redis kernel CPU {span([p['redis_sys'] for p in warm])}s; counted runs: Redis kernel CPU "
            f"{span([p['redis_sys'] for p in results['producer']])}s")
    if results["warc"]:
        peaks: dict[str, list[float]] = {}
        for w in results["warc"]:
            peaks.setdefault(w["label"], []).append(w["peak_rss_mb"])
        log("  producer peak RSS: " + ", ".join(f"{label} -> {span(v, '{:.0f}')} MB" for label, v in peaks.items()))
    key = "worker-enrich (largest process)"
    enrich_rss = [s.rss[key] for r in results["b"] for s in r["samples"] if s.rss.get(key)]
    if enrich_rss:
        log(f"  enrich worker RSS during (b): largest process peak {max(enrich_rss):.0f} MB (goal < 800)")
    for mem in results["memory"]:
        samples = mem["samples"]
        peak = max((r for _, _, r in samples), default=0.0)

        def window(lo: int, hi: int) -> list[float]:
            return [r for _, d, r in samples if lo <= d <= hi]

        # RSS moves by 100 MB or more within a bundle (nlp.pipe's buffers): compare windows of
        # 1,000 pages around the 1,000th and the 10,000th page, by median and by maximum.
        early, late = window(500, 1500), window(9500, 10500)
        if early and late:
            for stat, fn in (("median", statistics.median), ("max", max)):
                a, b = fn(early), fn(late)
                log(f"  enrich worker alone, RSS {stat}: {a:.0f} MB around its 1,000th page, {b:.0f} MB around its "
                    f"10,000th: {(b / a - 1) * 100:+.1f}% (goal < +10%)")
        log(f"  enrich worker alone: peak RSS {peak:.0f} MB sampled, VmHWM {mem['peak_mb'] or 0:.0f} MB (goal < 800); "
            f"{mem['enriched']} pages")
    if ratios:
        k = sorted(range(len(ratios)), key=lambda i: ratios[i])[len(ratios) // 2]
        log(f"pipeline_vs_inprocess {ratios[k]:.2f} pipeline_pages_per_s {b_pps[k]:.2f} "
            f"inprocess_pages_per_s {a_pps[k]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
