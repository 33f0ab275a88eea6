"""The address guard of every outbound request (pages, feeds, robots.txt, webhooks): SSRF protection.

Only absolute http(s) URLs with a valid host pass :func:`parse_url`; :func:`check_address`
resolves the host and refuses it when any of its addresses is private, loopback, link-local,
multicast, reserved or unspecified (unless ``fetch_allow_private``). Callers check every hop of
a redirect chain, so a public URL redirecting to 169.254.169.254 is refused at that hop.

The HTTP client of workers.fetch.transport checks again when it connects, and connects to the
address it checked: a DNS-rebinding host cannot swap in a private address between the two.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import httpx

from schemas import Reason
from workers.errors import PermanentError, SkipInput, TransientError

_HOST_NOT_FOUND = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})
_HOST = re.compile(
    r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$"
)


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True unless the address is private, loopback, link-local, multicast, reserved or unspecified."""
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 wrapped in IPv6 (::ffff:10.0.0.1, 2002:0a00:0001::) reaches the IPv4 host
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public_address(embedded)
    blocked = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not blocked


def parse_url(url: str) -> httpx.URL:
    """Parse an absolute http(s) URL (fragment dropped) or raise PermanentError(invalid_input)."""
    text = url.strip() if isinstance(url, str) else ""
    try:
        parsed = httpx.URL(text)
        port = parsed.port
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise PermanentError(f"not a URL: {url!r} ({exc})", Reason.invalid_input) from exc
    if parsed.scheme not in ("http", "https"):
        raise PermanentError(f"not an http(s) URL: {url!r}", Reason.invalid_input)
    host = parsed.raw_host.decode("ascii").lower()
    if not (_HOST.match(host) or ip_literal(host)) or (port is not None and not 0 < port < 65536):
        raise PermanentError(f"not a valid host in URL: {url!r}", Reason.invalid_input)
    return parsed.copy_with(fragment=None)


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally (127.0.0.1, ::1), None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_address(url: httpx.URL, allow_private: bool) -> None:
    """Refuse a host that resolves to a non-public address (SkipInput(blocked_address)) unless allowed.

    An unknown host is a PermanentError(unreachable), a resolver failure a TransientError.
    """
    if not allow_private:
        public_addresses(url.raw_host.decode("ascii"))


def public_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses of a host, all public, or SkipInput(blocked_address) (errors as check_address)."""
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (UnicodeError, OSError) as exc:
            if isinstance(exc, socket.gaierror) and exc.errno in _HOST_NOT_FOUND:
                raise PermanentError(f"host not found: {host}", Reason.unreachable) from exc
            raise TransientError(f"cannot resolve {host}: {exc}", Reason.unreachable) from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    # every address must be public: one internal A record among public ones is enough to refuse
    blocked = [str(a) for a in addresses if not is_public_address(a)]
    if blocked or not addresses:
        raise SkipInput(f"{host} resolves to a non-public address {blocked}", Reason.blocked_address)
    return addresses
