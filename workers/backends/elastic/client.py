"""The Elasticsearch client Kliping uses, and how its errors become Kliping's (a busy cluster is transient)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from elasticsearch import ApiError, Elasticsearch
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsConnectionTimeout

from schemas import Reason
from workers.errors import BackendUnavailable
from workers.settings import Settings

TRANSIENT_STATUS = {429, 502, 503, 504}
# The client's own immediate retries on a cluster of several nodes (one node: a single retry, for a
# stale keep-alive connection): few, since a task that still fails is retried later, with backoff.
CLIENT_RETRIES = 3
SINGLE_NODE_RETRIES = 1
CLIENT_RETRY_STATUS = (502, 503, 504)

T = TypeVar("T")


def make_client(settings: Settings) -> Elasticsearch:
    """A plain Elasticsearch client from settings (URL list, API key or basic auth, timeouts)."""
    if not settings.elasticsearch_url:
        raise ValueError("KLIPING_ELASTICSEARCH_URL is not set")
    options: dict[str, Any] = {
        "request_timeout": settings.elasticsearch_timeout,
        "retry_on_timeout": True,
        # Not 429: the client would re-send at once into a cluster that said it is overloaded. A
        # refused write raises BackendUnavailable instead and the task retries it with backoff.
        "retry_on_status": CLIENT_RETRY_STATUS,
    }
    if settings.elasticsearch_api_key:
        options["api_key"] = settings.elasticsearch_api_key
    elif settings.elasticsearch_username:
        options["basic_auth"] = (settings.elasticsearch_username, settings.elasticsearch_password or "")
    hosts = [url.strip() for url in settings.elasticsearch_url.split(",") if url.strip()]
    # Retrying at once only helps with another node to try (or a stale keep-alive connection: one retry).
    options["max_retries"] = CLIENT_RETRIES if len(hosts) > 1 else SINGLE_NODE_RETRIES
    return Elasticsearch(hosts, **options)


def translate_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Turn an unreachable or overloaded cluster into BackendUnavailable (a TransientError) so the runner retries."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (EsConnectionError, EsConnectionTimeout) as exc:
            raise BackendUnavailable(f"elasticsearch unavailable: {exc}", Reason.service_unavailable) from exc
        except ApiError as exc:
            if exc.meta.status in TRANSIENT_STATUS:
                raise BackendUnavailable(f"elasticsearch busy: {exc}", Reason.service_unavailable) from exc
            raise

    return wrapper
