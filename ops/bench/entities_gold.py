#!/usr/bin/env python3
"""Entities against human gold: the CoNLL++ dev stories (../shared/bench/entities-dev/conll),
scored by the shared scorer (../shared/tools/entity_gold_score.py), Gleaner vs plain spaCy.

Prints typed P/R/F1, canonical (one-to-one) typed F1, ORG typed recall, real things split into
several entities, wrong merges, top errors, and the stable ids: the share of PER/ORG/LOC entities
with an external id (ISO 3166 / GeoNames) and its precision against the gold's Wikidata links.
The gold carries Wikidata ids, the place data ISO and GeoNames ids, and no offline table here maps
one onto the other; precision is therefore measured as agreement: an external id counts as right
when the gold id it meets most often is the gold id of this entity and, the other way round, that
gold id meets this external id most often (one id per real thing, one real thing per id).

``--cv``: the stage's tunable settings (``workers/stages/entities/rules.py``) chosen by 5-fold
cross-validation grouped by story (each Reuters story in one fold; ``--group topic`` groups by the
headline's topic, "SOCCER", "CRICKET", ..., which keeps every results table of a sport in one
fold), against the fit (the best settings on all stories) and the shipped settings. The Reuters
text is for evaluation only: nothing here trains or writes a shipped file.

    .venv/bin/python ops/bench/entities_gold.py [--cv] [--group story|topic] [--top 12] [--json OUT]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path[:0] = [p for p in (str(HERE.parent), str(HERE.parents[2])) if p not in sys.path]
from common import REPO, shared_dir  # noqa: E402

FOLDS = 5
#: Settings tried by --cv (each a field of rules.Rules); "off" values switch a rule off.
GRID: dict[str, list[Any]] = {
    "common_word_share": [0.6, 0.75, 0.9, 1.01],
    "min_score_lines": [2, 3, 5, 10**9],
    "table_vote_weight": [1, 2],
    "person_city_population": [100_000, 10**15],
}


# ----------------------------------------------------------------------------- data and systems


def scorer():
    tools = shared_dir() / "tools"
    if str(tools) not in sys.path:
        sys.path.insert(0, str(tools))
    import entity_gold_score

    return entity_gold_score


class CachedNER:
    """The model's spans of each text computed once, so every setting reuses the same NER."""

    def __init__(self, nlp: Any) -> None:
        self.nlp, self.lang, self.max_length, self.meta = nlp, nlp.lang, nlp.max_length, nlp.meta
        self.cache: dict[str, list[tuple[str, str, int, int]]] = {}

    def pipe(self, texts, batch_size: int = 32):
        texts = list(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for t, doc in zip(todo, self.nlp.pipe(todo, batch_size=batch_size)):
            self.cache[t] = [(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]
        for t in texts:
            yield _Doc([_Span(*x) for x in self.cache[t]])


class _Span:
    __slots__ = ("text", "label_", "start_char", "end_char")

    def __init__(self, text: str, label: str, start: int, end: int) -> None:
        self.text, self.label_, self.start_char, self.end_char = text, label, start, end


class _Doc:
    def __init__(self, ents: list[_Span]) -> None:
        self.ents = ents


def run_gleaner(ner: Any, docs: list[dict], settings: Any = None) -> list[list[dict]]:
    from workers.stages.entities import EntityInput, extract_entities_batch, rules

    shipped = rules.RULES
    if settings is not None:
        rules.RULES = settings
    try:
        pages = [EntityInput(d["_title"], d["_body"], (), "en") for d in docs]
        res = extract_entities_batch(ner, pages, batch_size=16)
    finally:
        rules.RULES = shipped
    return [[{"id": e.id, "name": e.name, "label": e.label, "aliases": list(e.aliases)} for e in ents]
            for ents in res]


# ----------------------------------------------------------------------------- figures


def summary(r: dict) -> dict[str, float]:
    c = r["counts"]
    return {
        "typed_p": r["typed"]["p"], "typed_r": r["typed"]["r"], "typed_f1": r["typed"]["f"],
        "canonical_f1": r["typed_1to1"]["f"], "org_typed_r": r["per_type"].get("ORG", {}).get("typed", {}).get("r", 0.0),
        "split": c.get("split", 0), "merged_wrongly": c.get("merged_wrongly", 0),
    }


def line(name: str, s: dict[str, float]) -> str:
    return (f"{name:<22} {s['typed_p']:>6.3f} {s['typed_r']:>6.3f} {s['typed_f1']:>6.3f} {s['canonical_f1']:>9.3f} "
            f"{s['org_typed_r']:>6.3f} {s['split']:>6} {s['merged_wrongly']:>7}")


HEADER = f"{'system':<22} {'P':>6} {'R':>6} {'F1':>6} {'canonical':>9} {'ORG R':>6} {'splits':>6} {'merges':>7}"


def external_ids(S: Any, docs: list[dict], out: list[list[dict]]) -> dict[str, Any]:
    """Share of PER/ORG/LOC entities with an external id; agreement with the gold's links."""
    from workers.stages.entities.ids import EXTERNAL_PREFIXES

    n = n_ext = n_loc = n_loc_ext = 0
    pairs: list[tuple[str, str, str, str]] = []  # (external id, gold link, system name, doc)
    unlinked = 0
    for d, ents in zip(docs, out):
        gidx: dict[str, list[dict]] = defaultdict(list)
        for g in d["entities"]:
            for f in g["norms"]:
                gidx[f].append(g)
        for e in ents:
            lab = S.LABEL_MAP.get(e["label"])
            if lab not in S.SCOPE:
                continue
            n += 1
            ext = e["id"].startswith(EXTERNAL_PREFIXES)
            n_ext += ext
            if lab == "LOC":
                n_loc += 1
                n_loc_ext += ext
            if not ext:
                continue
            forms = {S.norm(e["name"])} | {S.norm(a) for a in e["aliases"]}
            hits = {g["id"]: g for f in forms for g in gidx.get(f, []) if g["type"] in S.SCOPE}
            links = sorted({link for g in hits.values() for link in g["links"]})
            if len(links) == 1:
                pairs.append((e["id"], links[0], e["name"], d["id"]))
            else:
                unlinked += 1
    by_ext: dict[str, Counter] = defaultdict(Counter)
    by_link: dict[str, Counter] = defaultdict(Counter)
    for ext, link, _, _ in pairs:
        by_ext[ext][link] += 1
        by_link[link][ext] += 1
    agree = [p for p in pairs if by_ext[p[0]].most_common(1)[0][0] == p[1] and by_link[p[1]].most_common(1)[0][0] == p[0]]
    wrong = [p for p in pairs if p not in agree]
    return {
        "entities": n, "with_external_id": n_ext, "share": n_ext / n if n else 0.0,
        "loc_entities": n_loc, "loc_with_external_id": n_loc_ext, "loc_share": n_loc_ext / n_loc if n_loc else 0.0,
        "checked_pairs": len(pairs), "not_checkable": unlinked,
        "precision": len(agree) / len(pairs) if pairs else 0.0, "distinct_ids": len(by_ext),
        "disagreements": [f"{doc}: {name} {ext} ~ gold {link} (gold {link} mostly = {by_link[link].most_common(1)[0][0]}; "
                          f"{ext} mostly = gold {by_ext[ext].most_common(1)[0][0]})" for ext, link, name, doc in wrong],
    }


def merges_by_links(S: Any, docs: list[dict], out: list[list[dict]]) -> dict[str, Any]:
    """The scorer's wrong merges (a system entity matching 2+ gold entities through different
    forms) split by what the gold's links say: the gold entities carry different links (a wrong
    merge by the gold's reading), they share a link (one thing by the gold's own links, typed apart:
    "Chicago" as LOC linked to the Chicago White Sox), or at least one of them carries none (the gold
    left a short form, an acronym or a variant unclustered; whether the merge is wrong needs reading
    the story)."""
    disagree: list[str] = []
    same_link: list[str] = []
    unlinked: list[str] = []
    for d, ents in zip(docs, out):
        gold = [g for g in d["entities"] if g["type"] in S.SCOPE]
        gidx: dict[str, list[dict]] = defaultdict(list)
        for g in gold:
            for f in g["norms"]:
                gidx[f].append(g)
        for e in ents:
            if S.LABEL_MAP.get(e["label"]) not in S.SCOPE:
                continue
            forms = {S.norm(e["name"])} | {S.norm(a) for a in e["aliases"]}
            forms.discard("")
            hits = {g["id"]: g for f in forms for g in gidx.get(f, [])}
            if len(hits) < 2 or any(all(f in g["norms"] for g in hits.values()) for f in forms):
                continue
            text = f"{d['id']}: {e['name']} = " + " + ".join(g["name"] for g in hits.values())
            links = [set(g["links"]) for g in hits.values()]
            if all(links) and not set.intersection(*links):
                disagree.append(text)
            elif all(links):
                same_link.append(text)
            else:
                unlinked.append(text)
    return {"links_disagree": disagree, "same_link": same_link, "a_form_unlinked": unlinked}


def splits_by_kind(S: Any, docs: list[dict], out: list[list[dict]]) -> dict[str, list[str]]:
    """The scorer's splits (a gold entity matched by 2+ system entities) by why: a system entity
    matches it only through a form the gold also gives another entity ("Texas" the state and the
    Texas Rangers; untyped matching counts both), the gold joins its forms only through their link
    (no string rule of the gold's clustering joins "Abu Ammar" and "Yasser Arafat", nor "Baghdad"
    linked as Iraq), or the gold's string rules join them too (the stage missed a join it could
    make)."""
    out_kinds: dict[str, list[str]] = {"shared_form": [], "link_only": [], "string_rules": []}
    for d, ents in zip(docs, out, strict=True):
        gold = [g for g in d["entities"] if g["type"] in S.SCOPE]
        gidx: dict[str, list[dict]] = defaultdict(list)
        for g in d["entities"]:
            for f in g["norms"]:
                gidx[f].append(g)
        sforms = [({S.norm(e["name"])} | {S.norm(a) for a in e["aliases"]}) - {""}
                  for e in ents if S.LABEL_MAP.get(e["label"]) in S.SCOPE]
        names = [e["name"] for e in ents if S.LABEL_MAP.get(e["label"]) in S.SCOPE]
        for g in gold:
            hits = [i for i, fs in enumerate(sforms) if fs & set(g["norms"])]
            if len(hits) < 2:
                continue
            text = f"{d['id']}: {g['name']} ({g['type']}) <- " + " | ".join(names[i] for i in hits)
            via = [fs & set(g["norms"]) for fs in (sforms[i] for i in hits)]
            if any(all(len(gidx[f]) > 1 for f in v) for v in via):
                out_kinds["shared_form"].append(text)
                continue
            # the gold's clustering again on this entity's forms, without links
            ments = [{"text": f, "type": g["type"], "link": None} for f in g["forms"]]
            S.cluster_gold(ments)
            groups = {m["entity"] for m in ments if S.norm(m["text"]) in set().union(*via)}
            kind = "link_only" if len(groups) > 1 else "string_rules"
            out_kinds[kind].append(text)
    return out_kinds


def cut_to_gold_clusters(S: Any, docs: list[dict], out: list[list[dict]]) -> list[list[dict]]:
    """``out`` with each scorer-counted wrong merge cut into one entity per gold entity its forms
    match (forms matching none stay with the first piece): what the figures would be if the stage
    joined only what the gold's clustering joins. For reading the merge count, never shipped."""
    cut: list[list[dict]] = []
    for d, ents in zip(docs, out, strict=True):
        gidx: dict[str, list[dict]] = defaultdict(list)
        for g in d["entities"]:
            if g["type"] in S.SCOPE:
                for f in g["norms"]:
                    gidx[f].append(g)
        new: list[dict] = []
        for e in ents:
            forms = [e["name"], *e["aliases"]]
            hits = {g["id"]: g for f in forms for g in gidx.get(S.norm(f), [])}
            if len(hits) < 2 or any(all(S.norm(f) in g["norms"] for g in hits.values()) for f in forms):
                new.append(e)
                continue
            pieces: dict[int, list[str]] = defaultdict(list)
            first = min(hits)
            for f in forms:
                gs = gidx.get(S.norm(f), [])
                pieces[gs[0]["id"] if gs else first].append(f)
            new += [{**e, "name": fs[0], "aliases": fs[1:]} for fs in pieces.values()]
        cut.append(new)
    return cut


def top_errors(r: dict, k: int) -> list[str]:
    out = ["top false positives: " + "; ".join(f"{a} x{n}" for a, n in r["top_fp"][:k]),
           "top misses: " + "; ".join(f"{a} x{n}" for a, n in r["top_fn"][:k]),
           "type confusions (system->gold): " + "; ".join(
               f"{a} x{n} e.g. " + ", ".join(x for x, _ in ex[:3]) for a, n, ex in r["type_confusions"][:5]),
           "splits e.g.: " + " || ".join(r["split_examples"][:k]),
           "wrong merges e.g.: " + " || ".join(r["merged_wrongly_examples"][:k])]
    return out


# ----------------------------------------------------------------------------- cross-validation


def group_of(doc: dict, how: str) -> str:
    if how == "topic":
        title = (doc.get("_title") or "").strip()
        head = re.split(r"\s+-\s+|:", title, maxsplit=1)[0] if " - " in title or ":" in title else "NEWS"
        return head.upper().strip() or "NEWS"
    return doc["id"]


def fold_of(group: str) -> int:
    return int.from_bytes(hashlib.sha1(group.encode()).digest()[:4], "big") % FOLDS


def cross_validate(S: Any, ner: Any, docs: list[dict], how: str) -> dict[str, Any]:
    from workers.stages.entities.rules import Rules

    names = list(GRID)
    configs = [Rules(**dict(zip(names, values))) for values in itertools.product(*GRID.values())]
    outputs = [run_gleaner(ner, docs, cfg) for cfg in configs]
    folds = [fold_of(group_of(d, how)) for d in docs]
    held_out: list[list[dict] | None] = [None] * len(docs)
    chosen = []
    for k in range(FOLDS):
        train = [i for i, f in enumerate(folds) if f != k]
        test = [i for i, f in enumerate(folds) if f == k]
        if not test:
            continue
        best = max(range(len(configs)), key=lambda c: S.score([docs[i] for i in train], [outputs[c][i] for i in train])["typed"]["f"])
        chosen.append(best)
        for i in test:
            held_out[i] = outputs[best][i]
    fit_scores = [S.score(docs, o)["typed"]["f"] for o in outputs]
    fit = max(range(len(configs)), key=lambda c: fit_scores[c])
    cv = S.score(docs, held_out)  # type: ignore[arg-type]
    return {
        "group": how, "configs": len(configs), "groups": len(set(group_of(d, how) for d in docs)),
        "cv": summary(cv), "fit": summary(S.score(docs, outputs[fit])),
        "fit_settings": dataclasses.asdict(configs[fit]),
        "chosen_per_fold": [dataclasses.asdict(configs[c]) for c in chosen],
    }


# ----------------------------------------------------------------------------- main


def gold_report(top: int = 12, cv: bool = False, group: str = "story") -> tuple[list[str], dict[str, Any]]:
    """The human-gold section of ``make bench-entities`` (lines to print, figures)."""
    S = scorer()
    gold_dir = shared_dir() / "bench" / "entities-dev" / "conll"
    if not (gold_dir / "gold").is_dir():
        return ["human gold: n/a (no ../shared/bench/entities-dev/conll)"], {}
    from workers.config import Settings
    from workers.stages.entities import load_ner

    model = Settings().spacy_model
    docs = S.load_gold([gold_dir], "all")
    nlp = load_ner(model)
    ner = CachedNER(nlp)
    t0 = time.process_time()
    out = run_gleaner(ner, docs)
    cpu = time.process_time() - t0
    r_g = S.score(docs, out, top)
    r_s = S.score(docs, S.run_spacy(docs, REPO, model, merge=False), top)
    lines = [f"human gold: {len(docs)} CoNLL++ dev stories ({gold_dir}), model {model}, document level, PER/ORG/LOC",
             HEADER, "-" * len(HEADER), line("gleaner", summary(r_g)), line("plain spaCy", summary(r_s))]
    figures: dict[str, Any] = {"gleaner": summary(r_g), "spacy": summary(r_s), "cpu_s_first_run": round(cpu, 1)}
    for kind in ("prose", "list"):
        sel = [i for i, d in enumerate(docs) if d.get("kind") == kind]
        if sel:
            rk = S.score([docs[i] for i in sel], [out[i] for i in sel])
            lines.append(line(f"gleaner, {kind} ({len(sel)})", summary(rk)))
            figures[f"gleaner_{kind}"] = summary(rk)
    lines.append("goals: typed F1 >= 0.75, canonical >= 0.73, ORG typed R >= 0.5, splits <= 15, wrong merges <= 2")
    lines += top_errors(r_g, top)
    def examples(items: list[str]) -> str:
        return " || ".join(items[:top])

    def counted(kinds: dict[str, list[str]], parts: list[tuple[str, str]]) -> str:
        return "; ".join(f"{len(kinds[key])} {what} ({examples(kinds[key])})" for key, what in parts)

    breakdowns = [
        ("merges_by_links", merges_by_links, "wrong merges by the gold's links", [
            ("links_disagree", "join gold entities with different links"),
            ("same_link", "join gold entities that share a link and differ in type"),
            ("a_form_unlinked", "join a gold entity with a form the gold left unlinked and unclustered")]),
        ("splits_by_kind", splits_by_kind, "splits by why", [
            ("shared_form", "through a form the gold also gives another entity"),
            ("link_only", "joined in the gold only by its links"),
            ("string_rules", "the gold's string rules join too")]),
    ]
    for name, breakdown, label, parts in breakdowns:
        figures[name] = kinds = breakdown(S, docs, out)
        lines.append(f"{label}: " + counted(kinds, parts))
    cut = summary(S.score(docs, cut_to_gold_clusters(S, docs, out)))
    figures["cut_to_gold_clusters"] = cut
    lines.append(f"the same output with each of those merges cut into one entity per gold entity: typed F1 "
                 f"{cut['typed_f1']:.3f}, canonical {cut['canonical_f1']:.3f}, splits {cut['split']}, merges "
                 f"{cut['merged_wrongly']} (the scorer's F1s barely see the merges; only their count moves)")
    ids = external_ids(S, docs, out)
    figures["ids"] = ids
    lines.append(f"ids: {ids['with_external_id']}/{ids['entities']} PER/ORG/LOC entities have an external id "
                 f"({ids['share']:.1%}; places {ids['loc_with_external_id']}/{ids['loc_entities']} = {ids['loc_share']:.1%}); "
                 f"agreement with the gold's Wikidata links {ids['precision']:.3f} on {ids['checked_pairs']} linked "
                 f"entities ({ids['distinct_ids']} ids; {ids['not_checkable']} without one gold link)")
    if ids["disagreements"]:
        lines.append("  id disagreements: " + examples(ids["disagreements"]))
    if cv:
        res = cross_validate(S, ner, docs, group)
        figures["cv"] = res
        lines += [f"cross-validation: {FOLDS} folds grouped by {group} ({res['groups']} groups), "
                  f"{res['configs']} settings of rules.py tried per fold", HEADER,
                  line("gleaner CV (held out)", res["cv"]), line("gleaner fit (best)", res["fit"]),
                  line("gleaner shipped", summary(r_g)),
                  f"fit settings: {res['fit_settings']}",
                  "chosen per fold: " + "; ".join(json.dumps(c) for c in res["chosen_per_fold"])]
    return lines, figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", action="store_true", help="cross-validate the settings of rules.py")
    ap.add_argument("--group", default="story", choices=["story", "topic"])
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    lines, figures = gold_report(a.top, a.cv, a.group)
    print("\n".join(lines))
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
