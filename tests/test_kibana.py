"""Kibana saved objects: valid ndjson, only fields the template has, no dangling references; the import command."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from schemas.elastic import template_mappings
from workers.cli.kibana import READER_ROLE, SAVED_OBJECTS
from workers.settings import PROJECT_ROOT, Settings

AGGREGATABLE = {"keyword", "date", "boolean", "integer", "long", "float", "double"}
_KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")


def _objects() -> list[dict]:
    return [
        json.loads(line) for line in SAVED_OBJECTS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _template_fields(properties: dict | None = None, prefix: str = "") -> dict[str, str]:
    """Every field of the index template (subfields too) as dotted path → type."""
    fields = {}
    for name, spec in (properties if properties is not None else template_mappings()["properties"]).items():
        if "properties" in spec:
            fields.update(_template_fields(spec["properties"], f"{prefix}{name}."))
        else:
            fields[f"{prefix}{name}"] = spec["type"]
            fields.update({f"{prefix}{name}.{sub}": s["type"] for sub, s in spec.get("fields", {}).items()})
    return fields


def _decoded(value):
    """`value` with every JSON-in-a-string attribute (visState, searchSourceJSON, …) parsed, recursively."""
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _decoded(json.loads(value))
        except json.JSONDecodeError:
            return value
    return value


def _referenced_fields(obj: dict) -> tuple[set[str], set[str]]:
    """(every field an object names, the fields it aggregates on)."""
    named, aggregated = set(), set()

    def walk(node, key=None):
        if isinstance(node, dict):
            if "field" in node and isinstance(node["field"], str):  # visState agg params
                aggregated.add(node["field"])
            if isinstance(node.get("sourceField"), str):  # Lens columns
                aggregated.add(node["sourceField"])
            query = node.get("query")
            if isinstance(query, dict) and query.get("language") == "kuery":
                named.update(_KQL_FIELD.findall(query.get("query", "")))
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    attributes = _decoded(obj["attributes"])
    walk(attributes)
    named.update(attributes.get("columns", []))
    named.update(field for field, _order in attributes.get("sort", []))
    if obj["type"] == "index-pattern":
        named.add(attributes["timeFieldName"])
        named.update(attributes.get("fieldFormatMap") or {})
    return named | aggregated, aggregated


def test_ndjson_parses_and_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location(
        "kibana_generate", PROJECT_ROOT / "ops" / "kibana" / "generate.py"
    )
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert SAVED_OBJECTS.read_text(encoding="utf-8") == generate.render(), "run python ops/kibana/generate.py"
    objects = _objects()
    assert all({"id", "type", "attributes", "references"} <= set(obj) for obj in objects)
    assert len({(o["type"], o["id"]) for o in objects}) == len(objects)


def test_every_field_exists_in_the_template_and_aggregations_use_aggregatable_ones():
    fields = _template_fields()
    seen = set()
    for obj in _objects():
        named, aggregated = _referenced_fields(obj)
        seen |= named
        assert named <= set(fields), (obj["id"], named - set(fields))
        assert {f for f in aggregated if fields[f] not in AGGREGATABLE} == set(), obj["id"]
    # the walk found what the dashboard is about (guards against a walk that finds nothing)
    assert {
        "dated_at",
        "source.name",
        "persons",
        "organizations",
        "locations",
        "sentiment.label",
        "source.scope",
        "dedup.is_canonical",
        "dedup.copy_count",
        "url",
    } <= seen


def test_every_referenced_object_is_in_the_file():
    objects = _objects()
    present = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, (obj["id"], ref)
        ref_names = {ref["name"] for ref in obj["references"]}
        attributes = _decoded(obj["attributes"])
        for panel in attributes.get("panelsJSON", []):
            assert panel["panelRefName"] in ref_names, (obj["id"], panel)
        source = attributes.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", {})
        if "indexRefName" in source:
            assert source["indexRefName"] in ref_names, obj["id"]


def test_data_view_dashboard_and_saved_searches():
    objects = {(o["type"], o["id"]): o for o in _objects()}
    view = objects[("index-pattern", "kliping-articles")]["attributes"]
    # the alias, not kliping-articles*: indices left by a reindex would count every article twice
    assert view["title"] == Settings().elasticsearch_index and "*" not in view["title"]
    assert view["timeFieldName"] == "dated_at"  # every article has one, dated or not
    dashboard = objects[("dashboard", "kliping-monitoring")]
    on_dashboard = {ref["id"] for ref in dashboard["references"]}
    assert on_dashboard == {oid for (kind, oid) in objects if kind == "visualization"} | {"kliping-latest"}
    for label in ("negative", "neutral", "positive"):
        search = _decoded(objects[("search", f"kliping-sentiment-{label}")]["attributes"])
        assert (
            search["kibanaSavedObjectMeta"]["searchSourceJSON"]["query"]["query"]
            == f'sentiment.label : "{label}"'
        )
    latest = objects[("search", "kliping-latest")]["attributes"]
    assert "url" in latest["columns"] and latest["sort"] == [["dated_at", "desc"]]


# What Kibana's visualization migrations up to 7.17 add (visualization_saved_object_migrations.ts in
# Kibana's repository): objects claiming the 7.17.0 format skip them, so the file must carry it all.
XY_717 = {
    "palette": {"type": "palette", "name": "kibana_palette"},
    "isVislibVis": True,
    "detailedTooltip": True,
}
PIE_717 = {"palette": {"type": "palette", "name": "kibana_palette"}, "distinctColors": True}


def test_visualizations_carry_every_attribute_of_the_7_17_format():
    visualizations = [_decoded(o["attributes"]) for o in _objects() if o["type"] == "visualization"]
    assert {v["visState"]["type"] for v in visualizations} == {"histogram", "line", "metric", "table", "pie"}
    for vis in visualizations:
        params = vis["visState"]["params"]
        if vis["visState"]["type"] in ("histogram", "line"):  # 7.12.0: vislib area/line/bar → vis_type_xy
            assert {k: params.get(k) for k in XY_717} == XY_717, vis["title"]
            assert all("filter" in axis["labels"] for axis in params["categoryAxes"] + params["valueAxes"])
            assert all(series["circlesRadius"] == 1 for series in params["seriesParams"])
            assert (params.get("fittingFunction") == "linear") == (params["type"] == "line")
        elif vis["visState"]["type"] == "pie":  # 7.14.0: vislib pie → vis_type_pie
            assert {k: params.get(k) for k in PIE_717} == PIE_717, vis["title"]
        elif vis["visState"]["type"] == "table":  # 7.11.0: the toolbar on by default
            assert params["showToolbar"] is True


class _KibanaStub(BaseHTTPRequestHandler):
    """Records import requests; answers with the class's canned body."""

    protocol_version = "HTTP/1.1"
    answer: dict
    role_status = 204  # Kibana's role API: 204 created or updated, 404 without security
    received: list

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        payload = json.dumps(self.answer).encode() if self.command == "POST" else b""
        self.send_response(200 if self.command == "POST" else self.role_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_PUT = do_POST  # the role API

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def kibana() -> Iterator[tuple[str, type[_KibanaStub]]]:
    """(URL, handler class) of a local server standing in for Kibana's import API."""
    handler = type(
        "_Stub",
        (_KibanaStub,),
        {"answer": {"success": True, "successCount": 16, "errors": []}, "received": []},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _kliping(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLIPING_")}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.slow
def test_kibana_setup_posts_the_file_with_the_xsrf_header(kibana):
    url, stub = kibana
    done = _kliping("kibana", "setup", "--url", url)
    assert done.returncode == 0, done.stderr
    assert "imported 16 saved objects" in done.stdout
    assert "role kliping_reader is in place" in done.stdout
    [(path, headers, body), (role_path, role_headers, role_body)] = stub.received
    assert role_path == "/api/security/role/kliping_reader" and role_headers["kbn-xsrf"]
    assert json.loads(role_body) == json.loads(READER_ROLE.read_text(encoding="utf-8"))
    assert path == "/api/saved_objects/_import?overwrite=true"
    assert headers["kbn-xsrf"] and headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="kibana.ndjson"' in body
    assert SAVED_OBJECTS.read_bytes() in body


@pytest.mark.slow
def test_kibana_import_fails_on_per_object_errors(kibana):
    url, stub = kibana
    stub.answer = {
        "success": False,
        "successCount": 15,
        "errors": [{"id": "kliping-latest", "type": "search", "error": {"type": "missing_references"}}],
    }
    done = _kliping("kibana", "import", "--url", url)
    assert done.returncode == 1
    assert "search/kliping-latest: missing_references" in done.stderr


def test_kibana_import_sends_basic_auth_when_security_is_on(kibana):
    import base64

    from workers.cli.kibana import import_saved_objects

    url, stub = kibana
    assert import_saved_objects(url, auth=("kliping_admin", "s3cret")) == 16
    [(_path, headers, _body)] = stub.received
    assert headers["authorization"] == "Basic " + base64.b64encode(b"kliping_admin:s3cret").decode()


def test_the_reader_role_is_skipped_when_kibana_has_no_security(kibana):
    from workers.cli.kibana import put_reader_role

    url, stub = kibana
    assert put_reader_role(url, auth=("elastic", "pw")) is True
    stub.role_status = 404
    assert put_reader_role(url) is False
