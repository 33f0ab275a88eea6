"""Write workers/data/kibana.ndjson (package data, what `kliping kibana setup` imports): Kliping's Kibana data view, visualizations, saved searches and dashboard.

    python ops/kibana/generate.py            # rewrite the ndjson next to this script
    kliping kibana setup --url URL           # import it into Kibana

The objects are written in the saved-objects export format of Kibana 7.17 (aggregation-based
visualizations, ``migrationVersion`` per type), which every Kibana 8 imports and migrates to its
own format on import; Kibana does not promise to import objects claiming a newer format than it
knows, so this keeps one file valid from 7.17 to the latest 8.x. Because the objects claim the
7.17.0 format, Kibana runs none of the earlier migrations on them: every attribute those migrations
add is written here, as a 7.17 export carries it (Kibana's
src/plugins/visualizations/server/migrations/visualization_saved_object_migrations.ts: 7.11 tables
``showToolbar``; 7.12 area/line/bar ``palette``, ``isVislibVis``, ``detailedTooltip``, axis label
``filter``, series ``circlesRadius``, line/area ``fittingFunction``; 7.14 pies ``palette`` and
``distinctColors``). tests/test_kibana.py checks that
the file equals this script's output, that every field exists in the index template and that every
referenced object is in the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "workers" / "data" / "kibana.ndjson"  # package data
DATA_VIEW_ID = "kliping-articles"  # fixed: dashboards and links refer to it
# The data view reads the write alias, not a pattern: after `kliping es reindex` the old indices keep
# their copies of every article until deleted, and `kliping-articles*` would count each one twice.
DATA_VIEW_TITLE = "kliping-articles"
# The time filter's field: dated_at is published_at, else when Kliping first saw the article, so
# every article has one and undated articles show up in time-filtered panels too.
TIME_FIELD = "dated_at"
PALETTE = {"type": "palette", "name": "kibana_palette"}  # what the 7.12 and 7.14 migrations add
DASHBOARD_ID = "kliping-monitoring"
KIBANA_EXPORT_VERSION = "7.17.3"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
TOP = 10  # bars or rows per "top …" panel: a dashboard, not a report
SENTIMENTS = ("negative", "neutral", "positive")


def _json(value: object) -> str:
    """Compact JSON, as Kibana stores its nested attributes (JSON strings inside JSON)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _search_source(query: str = "", with_index: bool = True) -> dict:
    """The kibanaSavedObjectMeta of an object searching the data view with a KQL query."""
    source = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        source["indexRefName"] = INDEX_REF
    return {"searchSourceJSON": _json(source)}


def _data_view_ref() -> list[dict]:
    """The reference every visualization and saved search has to the data view."""
    return [{"name": INDEX_REF, "type": "index-pattern", "id": DATA_VIEW_ID}]


def data_view() -> dict:
    """The data view on the alias (each article once, whatever indices sit behind it); ``url`` rendered as a link."""
    return {
        "id": DATA_VIEW_ID,
        "type": "index-pattern",
        "migrationVersion": {"index-pattern": "7.11.0"},
        "attributes": {
            "title": DATA_VIEW_TITLE,
            "name": "Kliping articles",
            "timeFieldName": TIME_FIELD,
            "fieldFormatMap": _json(
                {"url": {"id": "url", "params": {"type": "a", "labelTemplate": "{{value}}"}}}
            ),
        },
        "references": [],
    }


def _count() -> dict:
    return {"id": "1", "enabled": True, "type": "count", "params": {}, "schema": "metric"}


def _terms(agg_id: str, field: str, schema: str, size: int = TOP, label: str | None = None) -> dict:
    params = {
        "field": field,
        "size": size,
        "order": "desc",
        "orderBy": "1",
        "otherBucket": False,
        "otherBucketLabel": "Other",
        "missingBucket": False,
        "missingBucketLabel": "Missing",
    }
    if label:
        params["customLabel"] = label
    return {"id": agg_id, "enabled": True, "type": "terms", "params": params, "schema": schema}


def _over_time(agg_id: str = "2") -> dict:
    params = {
        "field": TIME_FIELD,
        "useNormalizedEsInterval": True,
        "interval": "auto",
        "drop_partials": False,
        "min_doc_count": 1,
        "extended_bounds": {},
        "customLabel": "date",
    }
    return {"id": agg_id, "enabled": True, "type": "date_histogram", "params": params, "schema": "segment"}


def _xy_params(chart: str, mode: str) -> dict:
    """The params of an aggregation-based bar or line chart (what the Kibana 7.17 editor saves)."""
    params = {
        "type": chart,
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "grid": {"categoryLines": False},
        "labels": {"show": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "style": {},
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "style": {},
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                "title": {"text": "articles"},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": chart,
                "mode": mode,
                "data": {"label": "articles", "id": "1"},
                "valueAxis": "ValueAxis-1",
                "drawLinesBetweenPoints": True,
                "lineWidth": 2,
                "showCircles": True,
                "circlesRadius": 1,
            }
        ],
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
        "palette": PALETTE,
        "isVislibVis": True,
        "detailedTooltip": True,
    }
    if chart in ("line", "area"):
        params["fittingFunction"] = "linear"
    return params


_TABLE_PARAMS = {
    "perPage": TOP,
    "showPartialRows": False,
    "showMetricsAtAllLevels": False,
    "showTotal": False,
    "totalFunc": "sum",
    "percentageCol": "",
    "showToolbar": True,
}
_PIE_PARAMS = {
    "type": "pie",
    "addTooltip": True,
    "addLegend": True,
    "legendPosition": "right",
    "isDonut": True,
    "labels": {"show": True, "values": True, "last_level": True, "truncate": 100},
    "palette": PALETTE,
    "distinctColors": True,
}
_METRIC_PARAMS = {
    "type": "metric",
    "addTooltip": True,
    "addLegend": False,
    "metric": {
        "percentageMode": False,
        "useRanges": False,
        "colorSchema": "Green to Red",
        "metricColorMode": "None",
        "colorsRange": [{"from": 0, "to": 10000}],
        "labels": {"show": True},
        "invertColors": False,
        "style": {"bgFill": "#000", "bgColor": False, "labelColor": False, "subText": "", "fontSize": 48},
    },
}


def visualization(
    vis_id: str, title: str, vis_type: str, params: dict, aggs: list[dict], description: str
) -> dict:
    """An aggregation-based visualization over the data view."""
    vis_state = {"title": title, "type": vis_type, "params": params, "aggs": aggs}
    return {
        "id": vis_id,
        "type": "visualization",
        "migrationVersion": {"visualization": "7.17.0"},
        "attributes": {
            "title": title,
            "description": description,
            "version": 1,
            "uiStateJSON": "{}",
            "visState": _json(vis_state),
            "kibanaSavedObjectMeta": _search_source(),
        },
        "references": _data_view_ref(),
    }


def saved_search(search_id: str, title: str, query: str = "") -> dict:
    """A saved search (Discover table): newest first, title, outlet, sentiment and the link."""
    return {
        "id": search_id,
        "type": "search",
        "migrationVersion": {"search": "7.9.3"},
        "attributes": {
            "title": title,
            "description": "",
            "hits": 0,
            "version": 1,
            "columns": [
                "title",
                "source.name",
                "source.scope",
                "sentiment.label",
                "dedup.is_canonical",
                "url",
            ],
            "sort": [[TIME_FIELD, "desc"]],
            "kibanaSavedObjectMeta": _search_source(query),
        },
        "references": _data_view_ref(),
    }


def visualizations() -> list[dict]:
    """The monitoring panels."""
    return [
        visualization(
            "kliping-volume-by-source",
            "Article volume over time by source",
            "histogram",
            _xy_params("histogram", "stacked"),
            [_count(), _over_time(), _terms("3", "source.name", "group")],
            "Articles per interval, stacked by outlet",
        ),
        visualization(
            "kliping-reach",
            "Articles, unique stories and copies",
            "metric",
            _METRIC_PARAMS,
            [
                {**_count(), "params": {"customLabel": "articles"}},
                {
                    "id": "2",
                    "enabled": True,
                    "type": "cardinality",
                    "schema": "metric",
                    "params": {"field": "dedup.story_id", "customLabel": "unique stories"},
                },
                {
                    "id": "3",
                    "enabled": True,
                    "type": "sum",
                    "schema": "metric",
                    "params": {"field": "dedup.copy_count", "customLabel": "syndicated copies"},
                },
            ],
            "Totals in the time range",
        ),
        *(
            visualization(
                f"kliping-top-{field}",
                f"Top {field}",
                "table",
                _TABLE_PARAMS,
                [_count(), _terms("2", field, "bucket", label=field)],
                f"Most mentioned {field}",
            )
            for field in ("persons", "organizations", "locations")
        ),
        visualization(
            "kliping-sentiment-over-time",
            "Sentiment over time",
            "line",
            _xy_params("line", "normal"),
            [_count(), _over_time(), _terms("3", "sentiment.label", "group", size=3)],
            "Articles per interval by sentiment label",
        ),
        visualization(
            "kliping-sentiment-by-outlet",
            "Sentiment by outlet",
            "histogram",
            _xy_params("histogram", "stacked"),
            [
                _count(),
                _terms("2", "source.name", "segment"),
                _terms("3", "sentiment.label", "group", size=3),
            ],
            "Sentiment mix of the busiest outlets",
        ),
        visualization(
            "kliping-media-scope",
            "Media scope",
            "pie",
            _PIE_PARAMS,
            [_count(), _terms("2", "source.scope", "segment", size=5)],
            "Lokal, nasional, internasional",
        ),
        visualization(
            "kliping-unique-vs-copies",
            "Unique stories vs copies",
            "pie",
            _PIE_PARAMS,
            [
                _count(),
                _terms(
                    "2", "dedup.is_canonical", "segment", size=2, label="canonical (true) or copy (false)"
                ),
            ],
            "Canonical articles against syndicated copies",
        ),
        visualization(
            "kliping-syndication-reach",
            "Syndication reach: outlets reprinting",
            "table",
            _TABLE_PARAMS,
            [_count(), _terms("2", "dedup.copies.outlet", "bucket", label="outlet carrying copies")],
            "Outlets whose copies were found, counted over their canonical articles",
        ),
    ]


def saved_searches() -> list[dict]:
    """The latest-articles table and one saved search per sentiment."""
    return [
        saved_search("kliping-latest", "Kliping: latest articles"),
        *(
            saved_search(
                f"kliping-sentiment-{label}", f"Kliping: {label} articles", f'sentiment.label : "{label}"'
            )
            for label in SENTIMENTS
        ),
    ]


# (object id, x, y, w, h) on Kibana's 48-column grid.
LAYOUT = [
    ("kliping-volume-by-source", 0, 0, 32, 15),
    ("kliping-reach", 32, 0, 16, 15),
    ("kliping-top-persons", 0, 15, 16, 15),
    ("kliping-top-organizations", 16, 15, 16, 15),
    ("kliping-top-locations", 32, 15, 16, 15),
    ("kliping-sentiment-over-time", 0, 30, 24, 15),
    ("kliping-sentiment-by-outlet", 24, 30, 24, 15),
    ("kliping-media-scope", 0, 45, 16, 15),
    ("kliping-unique-vs-copies", 16, 45, 16, 15),
    ("kliping-syndication-reach", 32, 45, 16, 15),
    ("kliping-latest", 0, 60, 48, 20),
]


def dashboard(objects: list[dict]) -> dict:
    """The monitoring dashboard laying out the panels of LAYOUT."""
    types = {obj["id"]: obj["type"] for obj in objects}
    panels, references = [], []
    for n, (object_id, x, y, w, h) in enumerate(LAYOUT):
        panels.append(
            {
                "version": KIBANA_EXPORT_VERSION,
                "type": types[object_id],
                "panelIndex": str(n + 1),
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(n + 1)},
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{n}",
            }
        )
        references.append({"name": f"panel_{n}", "type": types[object_id], "id": object_id})
    return {
        "id": DASHBOARD_ID,
        "type": "dashboard",
        "migrationVersion": {"dashboard": "7.17.0"},
        "attributes": {
            "title": "Kliping: media monitoring",
            "description": "Volume, entities, sentiment, media scope and syndication",
            "hits": 0,
            "version": 1,
            "panelsJSON": _json(panels),
            "optionsJSON": _json({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
            # Two years: the seed articles (April 2025) show up without touching the time picker.
            "timeRestore": True,
            "timeFrom": "now-2y",
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 60000},
            "kibanaSavedObjectMeta": _search_source(with_index=False),
        },
        "references": references,
    }


def saved_objects() -> list[dict]:
    """Every object, dependencies first (the order Kibana's own exports use)."""
    objects = [data_view(), *visualizations(), *saved_searches()]
    return [{**obj, "coreMigrationVersion": KIBANA_EXPORT_VERSION} for obj in [*objects, dashboard(objects)]]


def render() -> str:
    """The ndjson text: one object per line."""
    return "".join(_json(obj) + "\n" for obj in saved_objects())


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {len(saved_objects())} saved objects to {target}")
