"""Raw-response retention: fetched RawDocuments kept gzip-compressed for a while.

When the cleaner improves, `kliping reextract` runs clean → store again from these copies
without fetching anything. Only fetched URLs are archived: a local file is its own archive.

Layout: ``<data_dir>/raw/<2 hex>/<sha256 of the input>.json.gz`` holding the RawDocument as
JSON. Writes go to a temporary file in the same folder, then ``os.replace``: a reader (or another
worker fetching the same URL) sees the old copy or the new one, never half of one. The age of an
entry is its file's modification time, so `prune` needs no file to be opened; a re-fetch
overwrites the entry and starts its retention again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from schemas import RawDocument, Reason
from workers.errors import SkipInput
from workers.settings import Settings

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

# Writers prune at most this often per process: a walk over the archive costs one stat per
# entry, which is noise once an hour but not on every fetch.
PRUNE_EVERY_SECONDS = 3600.0
# Level 6 (zlib's default) shrinks news HTML about 5× at a few ms per page; 9 gains little.
GZIP_LEVEL = 6
_SUFFIX = ".json.gz"
_TMP_PREFIX = ".tmp-"
_DAY = 86400.0


@dataclass(frozen=True)
class Entry:
    """One archive file: its input, or why it could not be read."""

    path: Path
    input: str | None = None
    problem: str | None = None


class RawArchive:
    """Fetched RawDocuments on disk, kept `retention_days` (0: archive nothing, prune everything)."""

    def __init__(self, root: Path, retention_days: int) -> None:
        self.root = Path(root)
        self.retention_days = retention_days
        self._last_prune = float("-inf")
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """True when fetched documents are kept at all."""
        return self.retention_days > 0

    def path(self, input_ref: str) -> Path:
        """The archive file of an input (whether it exists or not)."""
        key = hashlib.sha256(input_ref.encode("utf-8")).hexdigest()
        return self.root / key[:2] / f"{key}{_SUFFIX}"

    def put(self, raw: RawDocument) -> Path | None:
        """Archive a fetched document (replacing an older copy); None when disabled or the disk refuses."""
        if not self.enabled:
            return None
        target = self.path(raw.input)
        data = gzip.compress(raw.model_dump_json().encode("utf-8"), compresslevel=GZIP_LEVEL, mtime=0)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a full disk must not fail the ingest: the article itself is fine
            log.warning("cannot archive %s: %s", raw.input, exc)
            return None
        self._prune_now_and_then()
        return target

    def get(self, input_ref: str) -> RawDocument | None:
        """The archived document of an input; None when absent or expired; SkipInput(malformed) when unreadable."""
        path = self.path(input_ref)
        try:
            if self._expired(path.stat().st_mtime, time.time()):
                return None
            return _read(path)
        except FileNotFoundError:  # never archived, or pruned meanwhile
            return None

    def load(self, input_ref: str) -> RawDocument:
        """The archived document of an input, in place of a fetch; SkipInput when there is none."""
        raw = self.get(input_ref)
        if raw is None:
            raise SkipInput(
                f"no archived raw document of {input_ref} (never fetched, or expired)", Reason.not_found
            )
        return raw

    def entries(self, now: datetime | None = None) -> Iterator[Entry]:
        """Every unexpired archive file with its input (or the reason it cannot be read)."""
        at = now.timestamp() if now else time.time()
        for path in sorted(self.root.glob(f"*/*{_SUFFIX}")):
            try:
                if self._expired(path.stat().st_mtime, at):
                    continue
                yield Entry(path, input=_read(path).input)
            except FileNotFoundError:
                continue
            except SkipInput as exc:
                yield Entry(path, problem=exc.describe())

    def prune(self, now: datetime | None = None) -> int:
        """Delete entries older than the retention (and stale temporary files); return how many were deleted."""
        at = now.timestamp() if now else time.time()
        deleted = 0
        for path in self.root.glob("*/*"):
            try:
                mtime = path.stat().st_mtime
                stale_tmp = path.name.startswith(_TMP_PREFIX) and at - mtime > PRUNE_EVERY_SECONDS
                if (path.name.endswith(_SUFFIX) and self._expired(mtime, at)) or stale_tmp:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:  # another worker pruned it first
                continue
        return deleted

    def _expired(self, mtime: float, at: float) -> bool:
        return at - mtime >= self.retention_days * _DAY

    def _prune_now_and_then(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last_prune < PRUNE_EVERY_SECONDS:
                return
            self._last_prune = now
        try:
            deleted = self.prune()
        except OSError as exc:
            log.warning("cannot prune the raw archive %s: %s", self.root, exc)
            return
        if deleted:
            log.info("pruned %d raw documents from %s", deleted, self.root)


def archive_root(settings: Settings) -> Path:
    """Where the raw archive lives: ``data_dir/raw`` (one volume shared by all workers in compose)."""
    return settings.data_dir / "raw"


def raw_archive(settings: Settings) -> RawArchive | None:
    """The configured archive; None when retention is 0 (disabled)."""
    if settings.raw_retention_days <= 0:
        return None
    return RawArchive(archive_root(settings), settings.raw_retention_days)


def _read(path: Path) -> RawDocument:
    """Read one archive file; SkipInput(malformed) when it is damaged."""
    try:
        return RawDocument.model_validate_json(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        raise
    except (OSError, EOFError, zlib.error, ValueError, ValidationError, json.JSONDecodeError) as exc:
        raise SkipInput(
            f"archived raw document {path} is unreadable: {type(exc).__name__}: {exc}", Reason.malformed
        ) from exc
