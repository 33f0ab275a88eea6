"""Several Elasticsearch nodes in KLIPING_ELASTICSEARCH_URL: a dead one does not stop the writes."""

from __future__ import annotations

import socket
import uuid

from tests.support.osmem import set_up_index
from workers.backends.elastic.index import ElasticIndex, make_client
from workers.settings import Settings


def _dead_url() -> str:
    """A loopback URL nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_dead_node_in_the_list_is_skipped(es_url):
    settings = Settings(
        elasticsearch_url=f"{_dead_url()}, {es_url}",  # spaces after the comma are allowed
        elasticsearch_index=f"kliping-test-{uuid.uuid4().hex[:8]}",
        elasticsearch_timeout=30,
    )
    client = make_client(settings)
    assert len(client.transport.node_pool.all()) == 2
    set_up_index(settings)
    index = ElasticIndex(client, settings.elasticsearch_index)
    # The client picks nodes round-robin; each request that meets the dead node is retried on the
    # live one, which then takes everything while the dead one sits out its timeout.
    for _ in range(6):
        index.refresh()
        assert index.count() == 0
    # It did meet the dead node (elastic-transport counts the node's consecutive failures).
    dead = [
        n for n in client.transport.node_pool.all() if n.base_url == settings.elasticsearch_url.split(",")[0]
    ]
    assert client.transport.node_pool._dead_consecutive_failures[dead[0].config] >= 1
