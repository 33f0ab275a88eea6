"""The kombu workaround: closing a Redis channel with unacknowledged messages after its connection is gone."""

from __future__ import annotations

import pytest
import redis
from kombu import Connection, Queue

from tests.support.redis_server import PrivateRedis
from workers.runtime import kombu_fix


def test_closing_a_channel_whose_connection_is_gone_raises_a_connection_error(tmp_path):
    kombu_fix.install()
    with PrivateRedis(tmp_path / "redis") as server:
        connection = Connection(server.url)
        queue = Queue("t", routing_key="t")
        with connection.Producer() as producer:
            producer.publish({"n": 1}, routing_key="t", declare=[queue])
        channel = connection.default_channel
        assert channel.basic_get("t", no_ack=False) is not None  # delivered, not acknowledged
        server.stop()  # Redis restarts...
        connection.transport.client = None  # ...and Celery's reconnect has already let go of the connection
        with pytest.raises(redis.exceptions.ConnectionError):
            channel._connparams()
        connection.close()  # the restore fails as a connection error, which kombu ignores: no crash
