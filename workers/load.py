"""Turn what the user named (files, directories, URLs) into inputs, and an input into a RawDocument."""

from __future__ import annotations

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
    """Expand directories recursively into their article files (sorted); keep URLs and files as given."""
    inputs: list[str] = []
    for ref in refs:
        path = Path(ref)
        if not is_url(ref) and path.is_dir():
            found = [
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in CONTENT_TYPES and not p.name.startswith(".")
            ]
            inputs.extend(found)
        else:
            inputs.append(ref)
    return inputs


def load(ref: str, *, fetch: Callable[[str], RawDocument], max_bytes: int) -> RawDocument:
    """Read a local file or fetch a URL; raise SkipInput/PermanentError with a reason otherwise."""
    if is_url(ref):
        return fetch(ref)
    scheme = urlsplit(ref).scheme
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise PermanentError(f"not a file path or http(s) URL: {ref!r}", Reason.invalid_input)
    path = Path(ref)
    if not path.is_file():
        raise SkipInput(f"no such file: {ref}", Reason.not_found)
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise SkipInput(f"unsupported file type {path.suffix or '(none)'}: {ref}", Reason.unsupported_type)
    size = path.stat().st_size
    if size > max_bytes:
        raise PermanentError(f"file is {size} bytes, above the {max_bytes}-byte limit", Reason.too_large)
    data = path.read_bytes()
    return RawDocument(
        input=ref,
        content_type=content_type,
        text=decode_text(data)[0],
    )
