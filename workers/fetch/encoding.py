"""Charset handling shared by the fetcher and the file loader: bytes in, text out, never a crash."""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from schemas import Reason
from workers.errors import PermanentError

try:  # optional: better guesses than the cp1252 fallback for unlabelled pages
    from charset_normalizer import from_bytes as _detect_charsets
except ImportError:  # pragma: no cover - depends on the environment
    _detect_charsets = None  # type: ignore[assignment]

# Charset sniffing looks at the document's head only, as browsers do (they read
# 1 KB; news sites often put <meta charset> after long script blocks, hence 4 KB).
_META_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:+-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_.:+-]+)""", re.I)
_DETECT_BYTES = 64 * 1024  # charset_normalizer is slow on whole pages; a sample is enough
# Binary sniffing: real text has no NUL and almost no C0 controls (ESC stays allowed:
# ISO-2022-JP uses it). 1 % of controls is far above any text page we have seen and far
# below random bytes (~11 %).
_BINARY_SNIFF_BYTES = 8192
_BINARY_CONTROL_RATIO = 0.01
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# First bytes of an XML document in a 16/32-bit encoding without a byte-order mark (XML 1.0,
# Appendix F): `<?` spelled with NULs. Feeds declared UTF-16 are sometimes sent this way.
_WIDE_STARTS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
# Codecs that read ASCII bytes as ASCII (what reaches the label loop as valid UTF-8 is ASCII).
_ASCII_SUPERSETS = ("utf-8", "cp125", "iso8859", "latin", "ascii", "koi8", "mac-")
# WHATWG Encoding Standard: these labels mean windows-1252 in every browser, and pages
# labelled ISO-8859-1 routinely contain cp1252 curly quotes.
_WINDOWS_1252_ALIASES = frozenset({"latin-1", "iso8859-1", "ascii"})


class Decoded(NamedTuple):
    """Decoded text and how its charset was chosen."""

    text: str
    charset: str  # Python codec name
    source: str  # bom, header, xml, meta, detected or fallback


def decode_text(
    data: bytes | bytearray, declared_charset: str | None = None, is_html: bool = True
) -> Decoded:
    """Decode bytes (BOM, valid UTF-8, header/in-document label, detection, cp1252); binary → bad_encoding."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(codec, errors="replace"), codec, "bom")
    for start, codec in _WIDE_STARTS:
        if data.startswith(start):
            return Decoded(data.decode(codec, errors="replace"), codec, "xml")
    if _looks_binary(data[:_BINARY_SNIFF_BYTES]):
        raise PermanentError("binary content served as text", Reason.bad_encoding)
    sniffed = _sniff_declared(data) if is_html else []
    labels = [(c, s) for c, s in ((_codec(declared_charset), "header"), *sniffed) if c]
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and not data.isascii():
        # Valid UTF-8 with non-ASCII bytes is almost never another charset by accident,
        # while UTF-8 pages labelled ISO-8859-1 by a server default are common.
        said_utf8 = bool(labels) and labels[0][0] == "utf-8"
        return Decoded(utf8, "utf-8", labels[0][1] if said_utf8 else "detected")
    for codec, source in labels:
        if utf8 is not None and (codec == "utf-8" or codec.startswith(_ASCII_SUPERSETS)):
            # ASCII text (or UTF-8 said so): the decoded copy in hand is the same; a second
            # decode would hold two copies of a 50 MB sitemap at once
            return Decoded(utf8, codec, source)
        try:
            return Decoded(data.decode(codec), codec, source)
        except UnicodeDecodeError:
            continue  # mislabelled: the next label or detection knows better
    if utf8 is not None:
        return Decoded(utf8, "utf-8", "detected")
    detected = _detect(data)
    if detected:
        return Decoded(data.decode(detected, errors="replace"), detected, "detected")
    return Decoded(data.decode("cp1252", errors="replace"), "cp1252", "fallback")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None  # a made-up label is no information
    if name.startswith(("utf-16", "utf-32")):
        return None  # without a BOM this label is wrong (HTML spec: treat as UTF-8)
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def _sniff_declared(body: bytes | bytearray) -> list[tuple[str | None, str]]:
    head = body[:_META_SNIFF_BYTES]
    found = []
    if match := _XML_ENCODING.match(head):
        found.append((_codec(match.group(1).decode("ascii")), "xml"))
    if match := _META_CHARSET.search(head):
        found.append((_codec(match.group(1).decode("ascii")), "meta"))
    return found


def _looks_binary(sample: bytes | bytearray) -> bool:
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return b"\x00" in sample or controls / len(sample) > _BINARY_CONTROL_RATIO


def _detect(body: bytes | bytearray) -> str | None:
    if _detect_charsets is None:
        return None
    best = _detect_charsets(body[:_DETECT_BYTES]).best()
    return _codec(best.encoding) if best is not None else None
