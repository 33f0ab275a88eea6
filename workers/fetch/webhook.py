"""The HTTP client of webhook delivery: alerts leave through the same address guard as fetching.

An alert POST is an outbound request like a page fetch: http(s) only, and every hop's host
resolved and refused when private, loopback, link-local (169.254.169.254), multicast or reserved,
unless ``fetch_allow_private``. Redirects are followed by hand so that each hop is checked: a 307
or 308 is POSTed again to its target; a 301, 302 or 303 (which would turn the POST into a GET) is
the answer, recorded as a failed delivery. One deadline bounds the whole delivery
(workers.fetch.transport), so a receiver dripping its answer cannot hold a worker.

:func:`check_webhook` is the check `kliping rules add` makes before storing a rule.
"""

from __future__ import annotations

from typing import Any

import httpx

from schemas import Reason
from workers.errors import PermanentError
from workers.fetch.guard import check_address, parse_url
from workers.fetch.transport import client, deadline
from workers.settings import Settings

_REPOSTED = frozenset({307, 308})  # redirects that keep the method and the body


def check_webhook(url: str, settings: Settings) -> httpx.URL:
    """The webhook URL parsed and its address checked; PermanentError or SkipInput saying why it is refused."""
    parsed = parse_url(url)
    check_address(parsed, settings.fetch_allow_private)
    return parsed


class WebhookClient:
    """POSTs JSON through the address guard (thread-safe; one connection pool)."""

    def __init__(self, settings: Settings, timeout: float, http: httpx.Client | None = None):
        self._settings = settings
        self._timeout = timeout
        self._client = http or client(httpx.Timeout(timeout), settings.fetch_allow_private)

    def post(self, url: str, *, json: Any, headers: dict[str, str]) -> httpx.Response:
        """POST `json` to `url`; the answer's status only (its body is never read).

        Raises the guard's SkipInput(blocked_address) or PermanentError(invalid_input) for a URL
        that must not be contacted, httpx errors for a receiver that cannot be reached.
        """
        target = parse_url(url)
        with deadline(2 * self._timeout):
            for _ in range(self._settings.fetch_max_redirects + 1):
                check_address(target, self._settings.fetch_allow_private)
                request = self._client.build_request("POST", target, json=json, headers=headers)
                response = self._client.send(request, stream=True, follow_redirects=False)
                response.close()
                location = response.headers.get("location")
                if response.status_code not in _REPOSTED or not location:
                    return response
                try:
                    target = parse_url(str(target.join(location)))
                except PermanentError as exc:
                    raise PermanentError(
                        f"webhook redirected to an invalid URL: {exc}", Reason.invalid_input
                    ) from exc
        raise PermanentError(
            f"webhook redirected more than {self._settings.fetch_max_redirects} times", Reason.http_error
        )

    def close(self) -> None:
        """Release the connections."""
        self._client.close()

    def __enter__(self) -> WebhookClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
