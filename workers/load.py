"""Turn what the user named (files, directories, URLs) into inputs, and an input into a RawDocument."""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from schemas import RawDocument, Reason
from workers.errors import PermanentError, SkipInput
from workers.fetch.encoding import decode_text

CONTENT_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "text/html",
}
GZIP_SUFFIX = ".gz"  # page.html.gz, story.txt.gz: read decompressed, the inflated size capped like a file's


def content_type(path: Path) -> str | None:
    """The content type an article file holds (its suffix, under a `.gz` one), None for other files."""
    suffix = path.suffix.lower()
    if suffix == GZIP_SUFFIX:
        suffix = Path(path.stem).suffix.lower()
    return CONTENT_TYPES.get(suffix)


def is_url(ref: str) -> bool:
    """True for http(s) URLs, which are fetched rather than read (the fetcher refuses malformed ones)."""
    try:
        return urlsplit(ref).scheme in ("http", "https")
    except ValueError:  # "http://[::1/x": unbalanced brackets; still meant as a URL, and invalid_input there
        return ref.lstrip().lower().startswith(("http://", "https://"))


def input_key(ref: str) -> str:
    """The one name of an input in the outcome counts: a URL as given, a local path resolved.

    `seeds/x.txt`, `./seeds/../seeds/x.txt` and its absolute path are one input, counted once.
    """
    if is_url(ref) or urlsplit(ref).scheme not in ("", "file"):
        return ref
    try:
        return str(Path(ref).expanduser().resolve())
    except (OSError, RuntimeError):  # a symlink loop, a path the OS refuses: keep it as given
        return ref


def expand_inputs(refs: Iterable[str]) -> list[str]:
    """Expand directories recursively into their article files (sorted); keep URLs and files as given.

    Every entry with an article suffix that is not a directory is kept, whatever it is, so that
    load() gives it an outcome: a dangling link, a FIFO, a link out of the folder end skipped with
    their reason instead of vanishing. A link to a file inside the folder becomes its target.
    """
    inputs: list[str] = []
    for ref in refs:
        path = Path(ref)
        if not is_url(ref) and path.is_dir():
            root = path.resolve()
            for entry in sorted(path.rglob("*")):
                if entry.name.startswith(".") or content_type(entry) is None or entry.is_dir():
                    continue
                inputs.append(_within(entry, root))
        else:
            inputs.append(ref)
    return list(dict.fromkeys(inputs))  # a link and its target in one folder: read once


def _within(entry: Path, root: Path) -> str:
    """A folder entry to read: a link resolving inside the folder as its target, anything else as found."""
    if not entry.is_symlink():
        return str(entry)
    try:
        target = entry.resolve(strict=True)
    except (OSError, RuntimeError):
        return str(entry)  # dangling or a loop: load() says so
    return str(target) if target.is_relative_to(root) else str(entry)


def _refuse_unreadable(path: Path, ref: str) -> None:
    """SkipInput for a path that is no file to read: missing, a dangling link, a link out of its folder.

    A link is followed only to a file in its own folder or below (a folder of articles holding a
    link to /etc/passwd must not read it); name the target itself to read a file elsewhere.
    """
    if not os.path.lexists(path):
        raise SkipInput(f"no such file: {ref}", Reason.not_found)
    if not path.is_symlink():
        return
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError as exc:
        raise SkipInput(f"dangling link: {ref} -> {os.readlink(path)}", Reason.not_found) from exc
    except (OSError, RuntimeError) as exc:
        raise SkipInput(f"unreadable link {ref}: {exc}", Reason.not_found) from exc
    if not target.is_relative_to(path.parent.resolve()):
        raise SkipInput(f"link out of its folder, not read: {ref} -> {target}", Reason.blocked_address)


def _read_regular(path: Path, ref: str, max_bytes: int) -> bytes:
    """The bytes of a regular file; a FIFO, socket or device is skipped, never opened for a blocking read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SkipInput(f"cannot open {ref}: {exc.strerror}", Reason.not_found) from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "socket"
                if stat.S_ISSOCK(info.st_mode)
                else "device"
            )
            raise SkipInput(f"not a regular file ({kind}): {ref}", Reason.unsupported_type)
        if info.st_size > max_bytes:
            raise PermanentError(
                f"file is {info.st_size} bytes, above the {max_bytes}-byte limit", Reason.too_large
            )
        return handle.read(max_bytes + 1)


def load(ref: str, *, fetch: Callable[[str], RawDocument], max_bytes: int) -> RawDocument:
    """Read a local file or fetch a URL; raise SkipInput/PermanentError with a reason otherwise."""
    if is_url(ref):
        return fetch(ref)
    scheme = urlsplit(ref).scheme
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise PermanentError(f"not a file path or http(s) URL: {ref!r}", Reason.invalid_input)
    path = Path(ref)
    _refuse_unreadable(path, ref)
    if path.is_dir():
        raise SkipInput(f"a directory, not a file: {ref}", Reason.unsupported_type)
    kind = content_type(path)
    if kind is None:
        raise SkipInput(f"unsupported file type {path.suffix or '(none)'}: {ref}", Reason.unsupported_type)
    data = _read_regular(path, ref, max_bytes)
    if len(data) > max_bytes:  # grew since it was measured
        raise PermanentError(f"file is above the {max_bytes}-byte limit", Reason.too_large)
    if path.suffix.lower() == GZIP_SUFFIX:
        data = _gunzip(data, max_bytes)
    return RawDocument(
        input=ref,
        content_type=kind,
        text=decode_text(data)[0],
    )


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """A gzip file's content, inflated at most to max_bytes (a small bomb is too_large, not memory)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            inflated = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise PermanentError(f"not a readable gzip file: {exc}", Reason.malformed) from exc
    if len(inflated) > max_bytes:
        raise PermanentError(f"inflates above the {max_bytes}-byte limit", Reason.too_large)
    return inflated
