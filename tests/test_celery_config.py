"""The Celery app's effective configuration: what kombu's channel and the result backend really got.

Celery and kombu accept any key and silently ignore the ones they do not know (kombu < 5.7 had no
restore-sweep options), so these tests read the settings back from the objects that use them.
"""

from __future__ import annotations

import pytest
from celery.app.defaults import DEFAULTS
from kombu.transport.redis import SentinelChannel

from workers.runtime.celery_app import celery_config, make_app, visibility_timeout
from workers.runtime.redis_conn import (
    BROKER_HEALTH_CHECK_SECONDS,
    REDIS_SOCKET_TIMEOUT,
    broker_url,
    redis_client,
    sentinel_hosts,
)
from workers.settings import Settings

# Read by Celery's Redis result backend through conf.get, but missing from Celery's table of defaults.
READ_OUTSIDE_DEFAULTS = {"redis_backend_health_check_interval"}


def test_every_key_is_one_celery_and_kombu_read():
    config = celery_config(Settings(redis_url="redis://localhost:6379/0", redis_sentinels="s1:26379"))
    assert set(config) - set(DEFAULTS) == READ_OUTSIDE_DEFAULTS
    # The worker's channel-retry options are the Connection's, not the channel's: not in this dict.
    assert set(config["broker_transport_options"]) <= set(SentinelChannel.from_transport_options)


def test_the_apps_broker_channel_and_result_backend_have_the_stated_settings(redis_url, redis_prefix):
    app = make_app(Settings(redis_url=redis_url, redis_prefix=redis_prefix), set_as_current=False)
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert app.conf.worker_enable_soft_shutdown_on_idle is True
    assert app.conf.worker_soft_shutdown_timeout == 10.0
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert channel.socket_timeout == REDIS_SOCKET_TIMEOUT and channel.socket_keepalive is True
        assert channel.health_check_interval == BROKER_HEALTH_CHECK_SECONDS
        # The restore sweep runs ten times per visibility timeout (60 s by default: every 6 s).
        timeout = visibility_timeout(Settings())
        assert channel.visibility_timeout == timeout
        assert (
            channel.unacked_restore_interval == max(1, timeout // 10)
            and channel.unacked_restore_throttle == 1
        )
        kwargs = channel.client.connection_pool.connection_kwargs  # what redis-py connects with
        assert kwargs["socket_timeout"] == REDIS_SOCKET_TIMEOUT and kwargs["socket_keepalive"] is True
        assert kwargs["health_check_interval"] == BROKER_HEALTH_CHECK_SECONDS
        assert channel.client.ping()
    params = app.backend.connparams
    assert params["socket_timeout"] == REDIS_SOCKET_TIMEOUT and params["socket_keepalive"] is True
    assert params["health_check_interval"] == BROKER_HEALTH_CHECK_SECONDS
    assert app.backend.client.ping()


def test_sentinels_configure_broker_results_and_state_client():
    settings = Settings(
        redis_url="redis://:s%3Acret@kliping/3",
        redis_sentinels="10.0.0.1:26380, sentinel-b ,[fd00::2]:26381",
        redis_sentinel_master="prod",
        redis_sentinel_password="sentinel-secret",
    )
    assert settings.redis_configured
    assert sentinel_hosts(settings) == [("10.0.0.1", 26380), ("sentinel-b", 26379), ("fd00::2", 26381)]
    assert broker_url(settings) == (
        "sentinel://:s%3Acret@10.0.0.1:26380/3;sentinel://:s%3Acret@sentinel-b:26379/3;"
        "sentinel://:s%3Acret@[fd00::2]:26381/3"
    )
    app = make_app(settings, set_as_current=False)
    for options in (app.conf.broker_transport_options, app.conf.result_backend_transport_options):
        assert options["master_name"] == "prod"
        assert options["sentinel_kwargs"]["password"] == "sentinel-secret"
    backend = app.backend  # Celery's sentinel backend (it connects on first use)
    assert type(backend).__name__ == "SentinelBackend"
    assert [(h["host"], h["port"]) for h in backend.connparams["hosts"]][:2] == [
        ("10.0.0.1", 26380),
        ("sentinel-b", 26379),
    ]
    assert backend.connparams["db"] == 3 and backend.connparams["password"] == "s:cret"
    pool = redis_client(settings).connection_pool  # the state client follows the master too
    assert pool.service_name == "prod"
    assert pool.connection_kwargs["db"] == 3 and pool.connection_kwargs["password"] == "s:cret"
    assert pool.connection_kwargs["socket_timeout"] == REDIS_SOCKET_TIMEOUT


def test_without_redis_the_state_client_says_what_to_set():
    with pytest.raises(ValueError, match="KLIPING_REDIS_SENTINELS"):
        redis_client(Settings(redis_url=None, redis_sentinels=None))
