"""Canonical item URLs: one spelling per article, so a feed item is recognised when it comes back.

What merges: scheme and host case, IDN hosts (punycode), a trailing dot on the host, default
ports, dot segments, percent-encoding case and needlessly encoded unreserved characters, an empty
path, the fragment, and click-tracking parameters. Query parameters are sorted by name. What
stays apart: every other query parameter (``id=7`` and ``id=8``, ``?p=123``) and its value, and
the path's case.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import idna

# Parameters that track the click, never identify the article: campaign tags (utm_*, Matomo
# pk_*/mtm_*, AT Internet at_*/xtor, Adobe/Webtrends cmpid/WT.*, Microsoft ocid), ad click ids
# (Google, Facebook, Microsoft, Yandex, TikTok, Twitter), mail tool ids. Taken from the
# parameters publishers' share buttons and ad networks append (and the lists of ClearURLs and
# w3lib's canonicaliser users); anything else (id=, p=, page=, article=) may identify the
# article and is kept.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "wt.", "at_", "__twitter", "_hs", "oly_")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "ttclid",
        "twclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "mkt_tok",
        "vero_id",
        "vero_conv",
        "ref_src",
        "ref_url",
        "spm",
        "share",
        "amp_referrer",
        "xtor",
        "ocid",
        "cmpid",
        "cmp",
        "s_cid",
        "s_kwcid",
        "icid",
        "ito",
        "ncid",
        "sr_share",
        "feed_source",
        "smid",
        "dicbo",
        "guccounter",
        "__tn__",
        "__cft__",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "_branch_match_id",
        "utm",
        "fb_action_ids",
        "fb_action_types",
        "fb_source",
        "fb_ref",
        "action_object_map",
        "action_type_map",
        "action_ref_map",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# bytes outside RFC 3986's allowed set are percent-encoded (a space, non-ASCII, quotes)
_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%\[\]]|%(?![0-9A-Fa-f]{2})")


# Already canonical: lower-case host without port or trailing dot, a path of plain characters,
# no query, no fragment (most sitemap and feed links). The full treatment costs ~10× more.
_PLAIN = re.compile(r"^https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[A-Za-z0-9\-_~!$'()*+,;=:@/.]*)?$")


def is_tracking_param(name: str) -> bool:
    """True for a query parameter that only tracks the visit."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _encode_unsafe(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8"))


def _normalize_escapes(text: str) -> str:
    """Percent-escapes in upper case, unreserved characters decoded, unsafe characters encoded."""

    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_encode_unsafe, text)
    return _PERCENT.sub(_fix_escape, text) if "%" in text else text


def _fix_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else f"%{match.group(1).upper()}"


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: `/a/./b/../c` → `/a/c`."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for n, segment in enumerate(segments):
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if n == len(segments) - 1:
                output.append("")
        elif segment == ".":
            if n == len(segments) - 1:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _host(hostname: str) -> str | None:
    """The host in lower case ASCII (IDN → punycode), without a trailing dot; None when invalid."""
    host = hostname.rstrip(".").lower()
    if not host:
        return None
    if ":" in host:
        return f"[{host}]"
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii")  # IDNA 2003: symbols some old domains use
        except UnicodeError:
            return None


def _query(query: str) -> str:
    """The query without tracking parameters, each kept pair in its original spelling and order."""
    if not query:
        return ""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = pair.split("=", 1)[0]
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if not is_tracking_param(key):
            kept.append((key, _normalize_escapes(pair)))
    # sorted by name (stable: repeated names keep their order), as w3lib does: `b=2&a=1` is `a=1&b=2`
    return "&".join(pair for _, pair in sorted(kept, key=lambda item: item[0]))


def canonicalize(url: str, base: str | None = None) -> str | None:
    """The canonical form of an http(s) URL (relative to `base`), or None when it is not one."""
    text = (url or "").strip()
    if _PLAIN.match(text) and "/." not in text:
        return text if text.count("/") > 2 else text + "/"
    try:
        if base and not text.startswith(("http://", "https://")):  # an absolute link needs no join
            text = urljoin(base, text)
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # "http://[x/1", a port out of range: not a URL we can fetch
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path)) or "/"
    return urlunsplit((scheme, netloc, path, _query(parts.query), ""))
