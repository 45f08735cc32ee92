"""Static checks of the Kibana saved objects in ops/kibana/ (Kibana cannot run here): valid
ndjson, every reference resolves, every field a search, data view or Lens panel uses exists in the
index mappings with a type that panel can aggregate, and the dashboard has the panels it promises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from workers.store import kibana
from workers.store.elastic import load_template
from workers.store.failure_index import FAILURES_INDEX, load_failures_mapping

pytestmark = pytest.mark.unit

FILES = kibana.saved_object_files()
TYPES = {"index-pattern", "search", "dashboard", "lens", "visualization"}
AGGREGATABLE = {"keyword", "date", "integer", "long", "float", "double", "boolean", "ip"}


def _flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec and spec.get("type") in (None, "object"):
            fields.update(_flatten(spec["properties"], f"{path}."))
            continue
        fields[path] = spec.get("type", "object")
        for sub, sub_spec in (spec.get("fields") or {}).items():
            fields[f"{path}.{sub}"] = sub_spec["type"]
    return fields


PAGES_FIELDS = _flatten(load_template("pages")["template"]["mappings"]["properties"])
FAILURE_FIELDS = _flatten(load_failures_mapping()["mappings"]["properties"])


def _objects() -> list[dict[str, Any]]:
    return [obj for path in FILES for obj in kibana.load_saved_objects(path)]


def _by_key() -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["type"], o["id"]): o for o in _objects()}


def _fields_of_data_view(data_view_id: str) -> dict[str, str]:
    title = _by_key()[("index-pattern", data_view_id)]["attributes"]["title"]
    return {"pages": PAGES_FIELDS, FAILURES_INDEX: FAILURE_FIELDS}[title]


def _panels() -> list[dict[str, Any]]:
    dashboard = _by_key()[("dashboard", "gleaner-overview")]
    return json.loads(dashboard["attributes"]["panelsJSON"])


def test_files_are_valid_ndjson_of_saved_objects():
    assert FILES, "no ops/kibana/*.ndjson"
    seen = set()
    for path in FILES:
        lines = path.read_text().splitlines()
        assert lines and all(line.strip() for line in lines), f"{path.name}: blank lines"
        for n, line in enumerate(lines, 1):
            obj = json.loads(line)
            assert isinstance(obj, dict), f"{path.name}:{n}"
            assert obj["type"] in TYPES and obj["id"] and isinstance(obj["attributes"], dict), f"{path.name}:{n}"
            assert isinstance(obj.get("references", []), list)
            assert (obj["type"], obj["id"]) not in seen, f"duplicate {obj['type']}/{obj['id']}"
            seen.add((obj["type"], obj["id"]))
            assert obj["attributes"].get("title"), f"{path.name}:{n} has no title"
            # Objects must be importable by Kibana 9.x: migration versions it knows (<= 9).
            for key in ("coreMigrationVersion", "typeMigrationVersion"):
                if key in obj:
                    assert int(obj[key].split(".")[0]) <= 9


def test_every_reference_resolves():
    objects = _by_key()
    for obj in objects.values():
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in objects, f"{obj['type']}/{obj['id']} -> {ref}"
            assert ref["name"]


def test_data_views_name_the_pages_alias_and_the_failures_index_with_their_time_fields():
    objects = _by_key()
    pages = objects[("index-pattern", kibana.PAGES_DATA_VIEW_ID)]["attributes"]
    assert pages["title"] == "pages"
    assert PAGES_FIELDS[pages["timeFieldName"]] == "date"
    for source_filter in json.loads(pages.get("sourceFilters") or "[]"):
        assert source_filter["value"] in PAGES_FIELDS
    failures = objects[("index-pattern", "gleaner-failures")]["attributes"]
    assert failures["title"] == FAILURES_INDEX and not FAILURES_INDEX.startswith("pages-")
    assert FAILURE_FIELDS[failures["timeFieldName"]] == "date"
    for attrs in (pages, failures):
        for key in ("fields", "fieldFormatMap", "runtimeFieldMap", "typeMeta"):
            json.loads(attrs[key])  # Kibana stores these as JSON strings


def test_saved_searches_use_existing_fields():
    searches = [o for o in _objects() if o["type"] == "search"]
    assert {s["id"] for s in searches} >= {"gleaner-pages-search", "gleaner-failures-search"}
    for s in searches:
        source = json.loads(s["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        ref = next(r for r in s["references"] if r["name"] == source["indexRefName"])
        assert ref["type"] == "index-pattern"
        fields = _fields_of_data_view(ref["id"])
        assert s["attributes"]["columns"], s["id"]
        for column in s["attributes"]["columns"]:
            assert column in fields, f"{s['id']}: column {column} not in the mapping"
        for field, direction in s["attributes"]["sort"]:
            assert fields[field] in AGGREGATABLE and direction in ("asc", "desc")


def test_dashboard_grid_is_valid_and_panel_references_resolve():
    dashboard = _by_key()[("dashboard", "gleaner-overview")]
    attrs = dashboard["attributes"]
    json.loads(attrs["optionsJSON"])
    json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert attrs["timeRestore"] is True and attrs["timeFrom"].startswith("now")
    refs = {r["name"]: r for r in dashboard["references"]}
    panels = _panels()
    ids = [p["panelIndex"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in panels:
        grid = p["gridData"]
        assert grid["i"] == p["panelIndex"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 48 and grid["h"] > 0
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & mine, f"panel {p['panelIndex']} overlaps another"
        cells |= mine
        if "panelRefName" in p:  # by reference
            ref = refs[f"{p['panelIndex']}:{p['panelRefName']}"]
            assert ref["type"] == p["type"]
        else:  # by value: the Lens attributes are in the panel, their references in the dashboard too
            assert p["type"] == "lens"
            lens = p["embeddableConfig"]["attributes"]
            for ref in lens["references"]:
                top = refs[f"{p['panelIndex']}:{ref['name']}"]
                assert (top["type"], top["id"]) == (ref["type"], ref["id"])


def _lens_panels() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, p["embeddableConfig"]["attributes"]) for p in _panels() if p["type"] == "lens"]


def test_lens_panels_use_existing_aggregatable_fields_and_consistent_columns():
    lens_panels = _lens_panels()
    assert lens_panels
    for panel, lens in lens_panels:
        where = f"panel {panel['panelIndex']}"
        assert lens["visualizationType"] in ("lnsXY", "lnsPie", "lnsMetric", "lnsDatatable"), where
        layers = lens["state"]["datasourceStates"]["formBased"]["layers"]
        refs = {r["name"]: r for r in lens["references"]}
        column_ids: set[str] = set()
        for layer_id, layer in layers.items():
            ref = refs[f"indexpattern-datasource-layer-{layer_id}"]
            fields = _fields_of_data_view(ref["id"])
            assert set(layer["columnOrder"]) == set(layer["columns"]), where
            for column_id, column in layer["columns"].items():
                column_ids.add(column_id)
                op, field = column["operationType"], column.get("sourceField")
                if op == "count":
                    assert field == "___records___", where
                    continue
                assert field in fields, f"{where}: {field} not in the mapping"
                kind = fields[field]
                if op == "date_histogram":
                    assert kind == "date", f"{where}: {field} is {kind}"
                else:
                    assert kind in AGGREGATABLE, f"{where}: {op} on {field} ({kind}) cannot aggregate"
                order = column.get("params", {}).get("orderBy", {})
                if order.get("type") == "column":
                    assert order["columnId"] in layer["columns"], where
        vis = lens["state"]["visualization"]
        accessors: list[str] = []
        if lens["visualizationType"] == "lnsXY":
            for layer in vis["layers"]:
                assert layer["layerId"] in layers, where
                accessors += [layer["xAccessor"], *layer["accessors"], *([layer["splitAccessor"]] if "splitAccessor" in layer else [])]
        elif lens["visualizationType"] == "lnsPie":
            for layer in vis["layers"]:
                assert layer["layerId"] in layers, where
                accessors += [*layer["primaryGroups"], *layer["metrics"]]
        elif lens["visualizationType"] == "lnsMetric":
            assert vis["layerId"] in layers, where
            accessors.append(vis["metricAccessor"])
        elif lens["visualizationType"] == "lnsDatatable":
            assert vis["layerId"] in layers, where
            accessors += [column["columnId"] for column in vis["columns"]]
        assert accessors and set(accessors) <= column_ids, f"{where}: accessors {accessors} vs columns {column_ids}"


def test_dashboard_has_the_promised_panels():
    charts = {}
    for _panel, lens in _lens_panels():
        for layer in lens["state"]["datasourceStates"]["formBased"]["layers"].values():
            for column in layer["columns"].values():
                charts.setdefault(lens["title"], set()).add((column["operationType"], column.get("sourceField")))
    used = set().union(*charts.values())
    assert ("date_histogram", "published_at") in used  # pages over time
    for field in ("persons", "organizations", "locations", "domain", "language", "page_type"):
        assert ("terms", field) in used, field  # top persons, organizations, places, sites, languages, page types
    stories = [title for title, cols in charts.items() if ("terms", "cluster_id") in cols]
    assert stories == ["Largest story clusters"]
    by_site = charts["Duplicates by site"]
    assert ("terms", "domain") in by_site and ("count", "___records___") in by_site
    filters = {c.get("filter", {}).get("query") for _p, lens in _lens_panels() if lens["title"] == "Duplicates by site"
               for layer in lens["state"]["datasourceStates"]["formBased"]["layers"].values()
               for c in layer["columns"].values()}
    assert {"duplicate_of:*", "not duplicate_of:*"} <= filters
    failures = [title for title, cols in charts.items() if ("terms", "error") in cols]
    assert failures, "failures by reason"
    searches = [p for p in _panels() if p["type"] == "search"]
    assert searches, "the saved search is on the dashboard"


def test_import_binds_the_alias_and_reports_refused_objects(monkeypatch):
    from workers.config import Settings

    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/status":  # the import waits for Kibana first
            return httpx.Response(200, json={"status": {"overall": {"level": "available"}}})
        assert request.url.path == "/api/saved_objects/_import" and request.url.params["overwrite"] == "true"
        assert request.headers["kbn-xsrf"]
        body = request.content.decode("utf-8", "replace")
        start = body.index("{")
        lines = [json.loads(line) for line in body[start:].splitlines() if line.startswith("{")]
        seen.extend(lines)
        return httpx.Response(200, json={"success": True, "successCount": len(lines)})

    real_client = httpx.Client
    monkeypatch.setattr(kibana.httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(handler), **kw))
    message = kibana.import_saved_objects(Settings(kibana_url="http://kibana:5601", index_alias="news"))
    assert message.startswith(f"imported {len(_objects())} ")
    data_view = next(o for o in seen if o["id"] == kibana.PAGES_DATA_VIEW_ID)
    assert data_view["attributes"]["title"] == "news"

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/status":
            return httpx.Response(200, json={"status": {"overall": {"level": "available"}}})
        return httpx.Response(200, json={"success": False, "successCount": 0, "errors": [
            {"type": "dashboard", "id": "gleaner-overview", "error": {"type": "missing_references"}}]})

    monkeypatch.setattr(kibana.httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(refusing), **kw))
    with pytest.raises(RuntimeError, match="missing_references"):
        kibana.import_saved_objects(Settings(kibana_url="http://kibana:5601"))


def test_failures_mapping_covers_the_failure_document():
    from datetime import datetime, timezone

    from workers.models import FailureRecord
    from workers.store.failure_index import failure_document

    now = datetime.now(timezone.utc)
    record = FailureRecord(id="abc", stage="parse", reason="not a web page", error="binary_content", source="/x.html",
                           url="https://www.example.org/a", collection="c", batch_id="b", attempts=1,
                           first_failed_at=now, last_failed_at=now, payload={"content_z": ""})
    doc = failure_document(record)
    assert set(doc) == set(load_failures_mapping()["mappings"]["properties"])
    assert doc["domain"] == "example.org" and doc["retryable"] is True and "payload" not in doc
    assert load_failures_mapping()["mappings"]["dynamic"] == "strict"


def test_ndjson_files_live_where_setup_reads_them():
    assert all(Path(f).parent == kibana.SAVED_OBJECTS_DIR for f in FILES)
