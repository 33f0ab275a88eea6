"""osmem-server (an in-memory Elasticsearch-API-compatible server) for tests."""

from __future__ import annotations

import copy

from osmem_server import OsmemClone, OsmemServer


def start_server() -> OsmemServer:
    """Start one osmem-server for the session (no Japanese analysis: Kliping does not need it)."""
    return OsmemServer.start(japanese=False)


def clone(server: OsmemServer) -> OsmemClone:
    """A fresh, empty cluster on its own port, cheap enough for one per test."""
    return server.clone()


# osmem 0.1.6 hands every `stemmer` filter to bleve's snowball stemmers, which know neither
# Indonesian nor possessive_english; an analyzer using one then matches EVERY document for any
# query (measured). Tests on osmem therefore drop those filters from the template: the mappings
# stay identical, only stemming is lost. Indonesian stemming is checked on a live cluster.
OSMEM_UNSUPPORTED_STEMMERS = {"indonesian", "possessive_english"}


def osmem_template(body: dict) -> dict:
    """A copy of an index template body without the token filters osmem cannot run."""
    body = copy.deepcopy(body)
    analysis = body["template"]["settings"]["analysis"]
    dropped = {
        name
        for name, spec in analysis.get("filter", {}).items()
        if spec.get("type") in ("stemmer", "snowball") and spec.get("language") in OSMEM_UNSUPPORTED_STEMMERS
    }
    for name in dropped:
        del analysis["filter"][name]
    for analyzer in analysis.get("analyzer", {}).values():
        analyzer["filter"] = [f for f in analyzer.get("filter", []) if f not in dropped]
    return body


def set_up_index(settings) -> None:
    """What `kliping es setup` does for a deployment (workers only check the alias): on osmem, the template
    without the stemmers it cannot run; on a live cluster (KLIPING_TEST_ELASTICSEARCH_URL), the real one."""
    import os

    from schemas.elastic import index_template
    from workers.backends.elastic.index import ElasticIndex, make_client

    index = ElasticIndex(make_client(settings), settings.elasticsearch_index)
    live = bool(os.environ.get("KLIPING_TEST_ELASTICSEARCH_URL"))
    index.setup(None if live else osmem_template(index_template(settings.elasticsearch_index)))
    index.client.close()
