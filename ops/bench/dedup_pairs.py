"""Labelled pairs for the near-duplicate benchmark (``make bench-dedup``).

Every body is what the pipeline indexes: each dev page goes through the parse stage
(``workers.stages.parse.parse_page``), whatever the cleaners do today. Copies:

- ``textdump``: the HTML page and the plain-text dump of the same article (ScrapingHub dev, 73 ids);
- generated from a dev article's body (100+ words, 3+ paragraphs): ``boilerplate`` (the menus and
  footers of another site's text dump around it, 10-50 % of its words), ``paragraph_cut`` (one
  paragraph other than the first removed), ``paragraph_added`` (a paragraph of another article
  inserted), ``lead_rewritten`` (the lead replaced by the lead of another article), ``headline`` (a
  headline line on top that differs between the two copies), ``combined`` (boilerplate, a cut
  paragraph and another headline at once). A changed paragraph is at most a quarter of the body.
- ``STRESS_KINDS``, beyond the goal, to say where the method stops: a teaser (the first third) and
  a light rewrite of every sentence.

Each kind of copy gets as many negatives of its own: the copy against the different story most like
its original (same site first, else same topic in its fold). More negatives: ``same_site`` (pages
of one site, most shared vocabulary first), ``same_topic`` (each article with its nearest articles
of other sites in its fold, by TF-IDF) and ``shared_passage`` (a story with a passage of its
neighbour in it, at most a third of either). A pair of pages whose gold texts are near-identical is
not a pair of different stories and is left out (counted).

Every pair carries the fold of its site (``ops.train.datasets.fold_of``), and negatives are drawn
within a fold, so a threshold chosen on four folds is checked on pages of sites it never saw.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops.train.datasets import DevPage, fold_of, scrapinghub_pages, textdump_pages, wcxb_pages  # noqa: E402

VARIANT_KINDS = ("textdump", "boilerplate", "paragraph_cut", "paragraph_added", "lead_rewritten", "headline", "combined")
NEGATIVE_KINDS = ("same_site", "same_topic", "shared_passage")
# Copies the method is not meant to find, measured to say where it stops: the first third of an
# article (a teaser), and every sentence with one word changed (a light rewrite throughout).
STRESS_KINDS = ("excerpt", "edited_sentences")
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_VARIANT_WORDS = 100  # an article shorter than this gets no generated variants
MIN_VARIANT_PARAGRAPHS = 3
PARAGRAPH_SHARE = 0.25  # a cut, added or rewritten paragraph is at most this share of the body's words
LEAD_WORDS = 15  # the lead is the first paragraph of at least this many words


@dataclass(frozen=True)
class Body:
    """One dev page after the parse stage (``body`` None when the stage refused it)."""

    key: str  # "<set>:<page id>"
    site: str
    page_type: str | None
    body: str | None
    title: str | None
    gold: str
    error: str | None = None

    @property
    def fold(self) -> int:
        return fold_of(self.site)


@dataclass(frozen=True)
class Pair:
    kind: str  # one of VARIANT_KINDS (a copy, or that copy against another story) or NEGATIVE_KINDS
    a: str
    b: str | None  # None: one side has no body (the parse stage refused the page)
    a_key: str
    b_key: str
    fold: int
    duplicate: bool


def parse_bodies(pages: Iterable[tuple[str, DevPage, str]]) -> list[Body]:
    """Run every page through the parse stage, as the pipeline does."""
    from workers.models import RawPage
    from workers.errors import PermanentPageError
    from workers.stages.parse import parse_page

    out = []
    for prefix, page, kind in pages:
        key = f"{prefix}:{page.id}"
        try:
            parsed = parse_page(RawPage(content=page.read().encode("utf-8"), source=str(page.path), url=page.url, kind=kind))
            out.append(Body(key, page.site, page.page_type, parsed.extraction.body, parsed.extraction.title, page.gold_body))
        except PermanentPageError as err:
            out.append(Body(key, page.site, page.page_type, None, None, page.gold_body, err.code))
    return out


def dev_pages() -> list[tuple[str, DevPage, str]]:
    return ([("html", p, "html") for p in scrapinghub_pages()] + [("text", p, "text") for p in textdump_pages()]
            + [("wcxb", p, "html") for p in wcxb_pages()])


def load_bodies(cache: Path | None) -> list[Body]:
    """Parsed dev pages; with ``cache``, read from (or written to) that JSON file."""
    if cache and cache.exists():
        return [Body(**row) for row in json.loads(cache.read_text())]
    bodies = parse_bodies(dev_pages())
    if cache:
        cache.write_text(json.dumps([b.__dict__ for b in bodies]))
    return bodies


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def paragraphs(body: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", body) if p.strip()]


def _boilerplate_blocks() -> list[tuple[list[str], list[str], str]]:
    """(header lines, footer lines, site) of every text dump: what surrounds the article in it."""
    blocks = []
    for page in textdump_pages():
        gold = set(words(page.gold_body))
        lines = [ln.strip() for ln in page.read().splitlines() if ln.strip()]
        inside = [i for i, ln in enumerate(lines) if len(words(ln)) >= 8 and set(words(ln)) <= gold]
        if not inside:
            continue
        head = [ln for ln in lines[: inside[0]] if words(ln)]
        foot = [ln for ln in lines[inside[-1] + 1:] if words(ln)]
        if sum(len(words(ln)) for ln in head + foot) >= 50:
            blocks.append((head, foot, page.site))
    return blocks


def _take_words(lines: list[str], budget: int) -> list[str]:
    out, n = [], 0
    for ln in lines:
        if n >= budget:
            break
        out.append(ln)
        n += len(words(ln))
    return out


def _variants(origin: Body, rng: random.Random, others: list[Body], blocks: list) -> dict[str, str]:
    """Generated copies of ``origin``'s body, one per kind it allows (a paragraph that is most of
    the body is not "a paragraph": such a body gets no cut, added or rewritten-lead copy)."""
    body = origin.body or ""
    paras = paragraphs(body)
    sizes = [len(words(p)) for p in paras]
    n_words = sum(sizes)
    cap = PARAGRAPH_SHARE * n_words

    def other() -> Body:
        while True:
            o = rng.choice(others)
            if o.site != origin.site:
                return o

    def with_boilerplate(text: str) -> str:
        head, foot, _site = rng.choice([b for b in blocks if b[2] != origin.site])
        budget = int(n_words * rng.uniform(0.10, 0.50))
        top = _take_words(head[::-1], budget // 2)[::-1]  # the lines just above the article
        bottom = _take_words(foot, budget - sum(len(words(x)) for x in top))
        return "\n".join(top + [text] + bottom)

    def cut() -> list[str] | None:
        choices = [i for i in range(1, len(paras)) if sizes[i] <= cap]
        if not choices:
            return None
        i = rng.choice(choices)
        return paras[:i] + paras[i + 1:]

    def headline() -> str:
        o = other()
        return o.title or paragraphs(o.body or "x")[0][:120]

    out: dict[str, str] = {"boilerplate": with_boilerplate(body)}
    kept = cut()
    if kept:
        out["paragraph_cut"] = "\n\n".join(kept)
        out["combined"] = with_boilerplate(headline() + "\n\n" + "\n\n".join(kept))
    extra = [p for p in paragraphs(other().body or "") if 20 <= len(words(p)) <= cap]
    if extra:
        i = rng.randrange(1, len(paras) + 1)
        out["paragraph_added"] = "\n\n".join(paras[:i] + [rng.choice(extra)] + paras[i:])
    lead = next((i for i, n in enumerate(sizes) if n >= LEAD_WORDS), None)
    if lead is not None and sizes[lead] <= cap:
        for _ in range(20):
            o = paragraphs(other().body or "")
            new = next((p for p in o if len(words(p)) >= LEAD_WORDS), None)
            if new and 0.5 <= len(words(new)) / sizes[lead] <= 2.0:
                out["lead_rewritten"] = "\n\n".join(paras[:lead] + [new] + paras[lead + 1:])
                break
    out["headline"] = headline() + "\n\n" + body
    total, teaser = 0, []
    for p, n in zip(paras, sizes):
        if total >= n_words / 3:
            break
        teaser.append(p)
        total += n
    out["excerpt"] = "\n\n".join(teaser)
    vocabulary = [w for w in words(other().body or "") if len(w) >= 4] or ["word"]
    out["edited_sentences"] = re.sub(r"[^.!?\n]+", lambda m: _edit_one_word(m.group(0), rng, vocabulary), body)
    return out


def _edit_one_word(sentence: str, rng: random.Random, vocabulary: list[str]) -> str:
    spots = [m for m in re.finditer(r"\w{4,}", sentence)]
    if not spots:
        return sentence
    m = rng.choice(spots)
    return sentence[: m.start()] + rng.choice(vocabulary) + sentence[m.end():]


class _Vectors:
    """TF-IDF vectors of bodies (words of 3+ letters seen in 2 to 10 % of them), for hard negatives."""

    def __init__(self, bodies: list[Body]) -> None:
        tfs = [Counter(w for w in words(b.body or "") if len(w) > 2 and not w.isdigit()) for b in bodies]
        df: Counter[str] = Counter()
        for tf in tfs:
            df.update(tf.keys())
        n = len(bodies)
        self.vectors: list[dict[str, float]] = []
        for tf in tfs:
            v = {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in tf.items() if 1 < df[w] <= max(2, n // 10)}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            self.vectors.append({w: x / norm for w, x in v.items()})

    def cosine(self, i: int, j: int) -> float:
        a, b = self.vectors[i], self.vectors[j]
        if len(a) > len(b):
            a, b = b, a
        return sum(x * b.get(w, 0.0) for w, x in a.items())

    def nearest(self, i: int, candidates: list[int], k: int) -> list[int]:
        postings = self._postings()
        scores: Counter[int] = Counter()
        allowed = set(candidates)
        for w, x in self.vectors[i].items():
            for j, y in postings[w]:
                if j in allowed:
                    scores[j] += x * y
        return [j for j, _ in scores.most_common(k)]

    def _postings(self) -> dict[str, list[tuple[int, float]]]:
        if not hasattr(self, "_index"):
            self._index: dict[str, list[tuple[int, float]]] = defaultdict(list)
            for j, v in enumerate(self.vectors):
                for w, y in v.items():
                    self._index[w].append((j, y))
        return self._index


def _shingles(text: str, shingle: int = 5) -> set[str]:
    w = words(text)
    return {" ".join(w[i:i + shingle]) for i in range(max(1, len(w) - shingle + 1))}


class _Pages:
    """The parsed pages negatives are drawn from (HTML and WCXB), with what picks the hard ones."""

    def __init__(self, bodies: list[Body]) -> None:
        self.pages = [b for b in bodies if b.body and not b.key.startswith("text:")]
        self.index = {b.key: i for i, b in enumerate(self.pages)}
        self.folds = [b.fold for b in self.pages]
        self.vectors = _Vectors(self.pages)
        self._gold = [_shingles(b.gold) if b.gold.strip() else set() for b in self.pages]
        self.by_site: dict[str, list[int]] = defaultdict(list)
        self.articles_by_fold: dict[int, list[int]] = defaultdict(list)
        for i, b in enumerate(self.pages):
            self.by_site[b.site].append(i)
            if (b.page_type or "article") == "article":
                self.articles_by_fold[self.folds[i]].append(i)

    def same_gold(self, i: int, j: int) -> bool:
        """Whether two pages' gold texts are near-identical (then they are not different stories)."""
        ga, gb = self._gold[i], self._gold[j]
        return bool(ga and gb) and len(ga & gb) / min(len(ga), len(gb)) >= 0.5

    def hardest(self, i: int, among: list[int] | None = None) -> int | None:
        """The different story most like page ``i``: of its site, else on its topic in its fold."""
        site = [j for j in self.by_site[self.pages[i].site] if j != i and not self.same_gold(i, j)]
        if site and among is None:
            return max(site, key=lambda j: self.vectors.cosine(i, j))
        pool = among if among is not None else self.articles_by_fold[self.folds[i]]
        pool = [j for j in pool if j != i and self.pages[j].site != self.pages[i].site and self.folds[j] == self.folds[i]]
        near = [j for j in self.vectors.nearest(i, pool, 5) if not self.same_gold(i, j)]
        return near[0] if near else None


def build_pairs(bodies: list[Body], *, seed: int = 19, topic_k: int = 3, max_site_pairs: int = 30) -> tuple[list[Pair], dict[str, int]]:
    """All labelled pairs, and counts of what was left out and why.

    Each kind of copy comes with as many negatives of its own: the copy paired with the different
    story most like its original (``_Pages.hardest``), so its precision is measured at even odds."""
    rng = random.Random(seed)
    by_key = {b.key: b for b in bodies}
    pages = _Pages(bodies)
    skipped: Counter[str] = Counter()
    pairs: list[Pair] = []

    def against_hardest(kind: str, origin: Body, copy_key: str, copy: str, among: list[int] | None = None) -> None:
        j = pages.hardest(pages.index[origin.key], among)
        if j is None:
            skipped[f"{kind}: no negative found"] += 1
            return
        other = pages.pages[j]
        pairs.append(Pair(kind, copy, other.body, copy_key, other.key, origin.fold, False))

    scrapinghub = [pages.index[b.key] for b in bodies if b.key.startswith("html:") and b.body]
    for b in bodies:
        if not b.key.startswith("html:"):
            continue
        t = by_key["text:" + b.key.split(":", 1)[1]]
        pairs.append(Pair("textdump", b.body or "", t.body if (b.body and t.body) else None, b.key, t.key, b.fold, True))
        if b.body and t.body:
            against_hardest("textdump", b, t.key, t.body, among=scrapinghub)
    articles = [b for b in bodies if b.body and not b.key.startswith("text:") and (b.page_type or "article") == "article"]
    blocks = _boilerplate_blocks()
    for origin in articles:
        if len(words(origin.body or "")) < MIN_VARIANT_WORDS or len(paragraphs(origin.body or "")) < MIN_VARIANT_PARAGRAPHS:
            skipped["too short for variants"] += 1
            continue
        made = _variants(origin, rng, articles, blocks)
        for kind in VARIANT_KINDS[1:] + STRESS_KINDS:
            if kind not in made:
                skipped[f"{kind}: no paragraph fits"] += 1
                continue
            a = origin.body or ""
            if kind == "headline":  # the original with its own headline line on top
                a = (origin.title or "Headline") + "\n\n" + a
            pairs.append(Pair(kind, a, made[kind], origin.key, f"{origin.key}#{kind}", origin.fold, True))
            if kind not in STRESS_KINDS:
                against_hardest(kind, origin, f"{origin.key}#{kind}", made[kind])
    pairs += _negatives(pages, rng, skipped, topic_k=topic_k, max_site_pairs=max_site_pairs)
    return pairs, dict(skipped)


def _negatives(pages: _Pages, rng: random.Random, skipped: Counter, *, topic_k: int, max_site_pairs: int) -> list[Pair]:
    """Pairs of different stories: of one site (most shared vocabulary first), on one topic (within a
    fold), and a story with a passage of another one in it."""
    out: list[Pair] = []
    seen: set[tuple[int, int, str]] = set()

    def add(kind: str, i: int, j: int, b_text: str | None = None) -> None:
        if (min(i, j), max(i, j), kind) in seen:
            return
        seen.add((min(i, j), max(i, j), kind))
        if pages.same_gold(i, j):
            skipped[f"{kind}: gold texts near-identical"] += 1
            return
        out.append(Pair(kind, pages.pages[i].body or "", b_text or pages.pages[j].body, pages.pages[i].key,
                        pages.pages[j].key, pages.folds[i], False))

    for members in pages.by_site.values():
        site_pairs = [(i, j) for n, i in enumerate(members) for j in members[n + 1:]]
        site_pairs.sort(key=lambda ij: -pages.vectors.cosine(*ij))
        for i, j in site_pairs[:max_site_pairs]:
            add("same_site", i, j)
    for members in pages.articles_by_fold.values():
        for i in members:
            others = [j for j in members if pages.pages[j].site != pages.pages[i].site]
            near = pages.vectors.nearest(i, others, topic_k)
            for j in near:
                add("same_topic", i, j)
            if near:
                passage = _shared_passage(pages.pages[i].body or "", pages.pages[near[0]].body or "", rng)
                if passage:
                    add("shared_passage", i, near[0], passage)
    return out


def _shared_passage(source: str, target: str, rng: random.Random) -> str | None:
    """``target`` with a run of ``source``'s paragraphs in it, at most a third of either text: a
    different story quoting the same background passage."""
    src, tgt = paragraphs(source), paragraphs(target)
    limit = min(len(words(source)), len(words(target))) / 3
    start = rng.randrange(len(src))
    run: list[str] = []
    for p in src[start:]:
        if sum(len(words(x)) for x in run) + len(words(p)) > limit:
            break
        run.append(p)
    if not run or len(tgt) < 2:
        return None
    at = rng.randrange(1, len(tgt))
    return "\n\n".join(tgt[:at] + run + tgt[at:])
