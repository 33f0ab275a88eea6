"""Content-Encoding undone piece by piece, with a cap on the inflated bytes.

httpx inflates each network read whole before the caller sees a byte: a 1,626-byte brotli body
(1 GiB inflated) or ``Content-Encoding: gzip, gzip`` took 2.2 GB of memory before the size cap
could refuse it. Here the raw body is inflated in pieces of about PIECE bytes (zlib's
``max_length``; brotli's ``output_buffer_limit`` stops at its first buffer growth past it), every decoder of a stacked encoding as well,
and the cap is checked after each piece: a bomb costs the cap plus a piece or two per layer.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

import brotli

from schemas import Reason
from workers.errors import PermanentError

# Largest piece a decoder hands on at once: small next to any size cap, large enough that
# inflating a 5 MB page takes a few hundred calls.
PIECE = 64 * 1024
# Content-Encoding layers accepted on one response: real servers send one; more is an attack.
MAX_LAYERS = 3


class _Zlib:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, gzip: bool):
        self._gzip = gzip
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._inflater.decompress(data, PIECE)
            except zlib.error:
                if self._gzip or self._started:
                    raise
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # deflate without its zlib header
                self._started = True
                continue
            self._started = True
            if out:
                yield out
            data = self._inflater.unconsumed_tail
            if self._inflater.eof or (not data and len(out) < PIECE):
                return


class _Brotli:
    def __init__(self) -> None:
        self._inflater = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._inflater.process(data, output_buffer_limit=PIECE)
        while True:
            if out:
                yield out
            if self._inflater.is_finished() or self._inflater.can_accept_more_data():
                return
            out = self._inflater.process(b"", output_buffer_limit=PIECE)


_Decoder = _Zlib | _Brotli
_DECODERS: dict[str, Callable[[], _Decoder]] = {
    "gzip": lambda: _Zlib(True),
    "x-gzip": lambda: _Zlib(True),
    "deflate": lambda: _Zlib(False),
    "br": _Brotli,
}


def decoders(content_encoding: str | None) -> list[_Decoder]:
    """The decoders to apply, in order, for a Content-Encoding header (unknown codings pass through)."""
    names = [name.strip().lower() for name in (content_encoding or "").split(",")]
    layers = [_DECODERS[name]() for name in reversed(names) if name in _DECODERS]
    if len(layers) > MAX_LAYERS:
        raise PermanentError(
            f"Content-Encoding {content_encoding!r} has more than {MAX_LAYERS} layers", Reason.bad_encoding
        )
    return layers


def _through(layers: list[_Decoder], data: bytes) -> Iterator[bytes]:
    if not layers:
        yield data
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)


def inflate(raw: Iterable[bytes], content_encoding: str | None, limit: int) -> Iterator[bytes]:
    """The decoded body in pieces; PermanentError(too_large) once more than `limit` bytes came out.

    A corrupt encoding is a PermanentError(bad_encoding).
    """
    layers = decoders(content_encoding)
    size = 0
    try:
        for chunk in raw:
            for piece in _through(layers, chunk):
                size += len(piece)
                if size > limit:
                    raise PermanentError(f"body inflates to more than {limit} bytes", Reason.too_large)
                yield piece
    except (zlib.error, brotli.error) as exc:
        raise PermanentError(
            f"bad Content-Encoding {content_encoding!r}: {exc}", Reason.bad_encoding
        ) from exc
