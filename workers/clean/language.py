"""Language of an article: py3langid over a restricted set, with an Indonesian/Malay tie-breaker."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import re
import tempfile
import time
from array import array
from functools import lru_cache
from pathlib import Path

import numpy as np
import platformdirs
import py3langid
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

log = logging.getLogger(__name__)

# The languages news reaching an Indonesian monitoring desk is written in. A small set keeps
# short and mixed texts from landing on look-alikes the desk never sees (Acehnese, Tagalog
# dialects, Pidgin); Javanese stays because regional outlets publish in it.
LANGUAGES = (
    "id", "ms", "jv", "en", "nl", "ar", "zh", "ja", "ko", "th", "vi", "tl",
    "fr", "de", "es", "pt", "it", "ru", "hi",
)  # fmt: skip
# Below this many letters there is nothing to decide on (a headline fragment, a number).
MIN_LETTERS = 12
# Enough text for a stable verdict (about 120 words); classifying more only costs time, linearly
# (0.73 ms at 1500 characters, 0.45 ms at 800): the verdicts on the 213 cleaned articles of the
# evaluation data and seeds (aeb, idnews; en, id, pt, ru, de, ko, ja, it) are the same with 600,
# 800, 1000, 1500 and 6000 characters.
SAMPLE_CHARS = 800
# py3langid's normalised confidence under which we answer "unknown" rather than guess.
MIN_CONFIDENCE = 0.3

# The cached files' layout (raised when _write_cached writes something else, so old copies are not read).
_CACHE_LAYOUT = 1
# The files Kliping writes in its cache: langid-<key>.npz and .I.bin, and while writing one of them
# a temporary file named after it (mkstemp's random part, then .tmp).
_CACHE_NAME = re.compile(r"(?P<key>langid-[0-9a-f]{16})\.(?:npz|I\.bin)(?P<temporary>\.[A-Za-z0-9_]+\.tmp)?")
# A temporary file older than this is left by a killed writer (a write takes about a second).
_TEMPORARY_MAX_AGE = 3600

_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|[\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
# Words common in one of Malay and Indonesian and rare in the other (government, new, because,
# after, police, car, company, money, last year…). The character n-gram model confuses the
# two on news text; these cues settle it.
_MALAY_CUES = re.compile(
    r"\b(?:kerajaan|baharu|daripada|akan\s+datang|kerana|iaitu|sahaja|selepas|polis|mahu|kenderaan|syarikat|"
    r"ringgit|rm|bagaimanapun|manakala|tahun\s+lepas|minggu\s+lepas|bulan\s+lepas|kakitangan|pelancongan|"
    r"isnin|khamis|jumaat|lapan|beliau\s+berkata|menteri\s+besar|dewan\s+rakyat|encik|memandangkan|sebarang|"
    r"mengikut|berbanding)\b",
    re.IGNORECASE,
)
_INDONESIAN_CUES = re.compile(
    r"\b(?:pemerintah|karena|yaitu|setelah|polisi|mau|kendaraan|perusahaan|uang|rupiah|rp|sedangkan|tahun\s+lalu|"
    r"minggu\s+lalu|bulan\s+lalu|pegawai|pariwisata|senin|kamis|jumat|delapan|kabupaten|provinsi|kebijakan|"
    r"bisa|kemarin|dpr|bapak|nggak|enggak)\b",
    re.IGNORECASE,
)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or unclear."""
    sample = _NOISE.sub(" ", text[:SAMPLE_CHARS])
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    label, confidence = _identifier().classify(sample)
    if label in ("id", "ms"):
        return _indonesian_or_malay(sample, label)
    return label if confidence >= MIN_CONFIDENCE else None


def _indonesian_or_malay(sample: str, model_label: str) -> str:
    """Settle Indonesian against Malay by word cues; the model decides a tie."""
    malay = len(_MALAY_CUES.findall(sample))
    indonesian = len(_INDONESIAN_CUES.findall(sample))
    if malay == indonesian:
        return model_label
    return "ms" if malay > indonesian else "id"


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """The py3langid model restricted to LANGUAGES, from the local cache when it is there."""
    return load_identifier(Path(platformdirs.user_cache_dir("kliping", appauthor=False)))


def load_identifier(cache_dir: Path) -> LanguageIdentifier:
    """The restricted model: read from `cache_dir`, or built from py3langid's file and cached there.

    py3langid ships its model LZMA-compressed; inflating it costs about half a second at every
    process start (most of `kliping ingest`'s start-up before the first input). The restricted
    arrays are kept uncompressed in the user's cache (no pickle: plain .npy arrays), which load in
    tens of milliseconds. A missing, stale or unreadable cache only means building it again.
    """
    path = cache_dir / f"langid-{_cache_key()}.npz"
    try:
        return _read_cached(path)
    except (OSError, ValueError, KeyError) as error:
        if path.exists():
            log.warning("language model cache %s unreadable (%s): rebuilding it", path, error)
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    try:
        _write_cached(identifier, path)
        _remove_stale(path)
    except OSError as error:  # a read-only home still works, at the slower start
        log.info("language model not cached in %s: %s", cache_dir, error)
    return identifier


def _cache_key() -> str:
    """The cache's name for this model: what it holds, not where py3langid is installed.

    Keyed by py3langid's version and its model file's size (a released version's file never
    changes), the languages kept and the cache's layout; not by the file's path or mtime, which
    differ in every virtualenv and gave each one its own 44 MB copy. Hashing the 4.6 MB file
    would cost ~8 ms at every start for the same answer.
    """
    model = MODEL_DIR / MODEL_FILE
    text = f"{py3langid.__version__}:{model.stat().st_size}:{','.join(LANGUAGES)}:{_CACHE_LAYOUT}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _remove_stale(path: Path) -> None:
    """Remove the copies of other keys (a py3langid version no longer installed, or the per-path
    keys of earlier Kliping versions) and temporary files left by interrupted writes.

    Only Kliping's own names are touched. A process still reading an old copy keeps it: its
    mapping and open files survive the unlink, and one that opens it too late finds it missing
    and builds the model again. Another process writing under another key may lose its copy, not
    its identifier.
    """
    keep = path.name.removesuffix(".npz")
    old_temporary = time.time() - _TEMPORARY_MAX_AGE
    for entry in path.parent.iterdir():
        match = _CACHE_NAME.fullmatch(entry.name)
        if match is None or (match["key"] == keep and not match["temporary"]):
            continue
        with contextlib.suppress(OSError):  # gone already (another process), or not ours to remove
            if match["temporary"] and entry.stat().st_mtime > old_temporary:
                continue  # perhaps being written now
            entry.unlink()
            log.info("removed stale language model cache file %s", entry)


def _write_cached(identifier: LanguageIdentifier, path: Path) -> None:
    """Write the restricted model atomically (a reader never sees half of it): the small arrays as
    .npz, the 39 MB transition table raw beside it (native unsigned ints), to be memory-mapped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nextmove = identifier.tk_nextmove
    if nextmove.itemsize != array("I").itemsize:
        raise OSError(f"transition table of {nextmove.itemsize}-byte entries: not cached")
    for target, write in (
        (path.with_suffix(".I.bin"), nextmove.tofile),
        (
            path,
            lambda out: np.savez(
                out,
                ptc=identifier.nb_ptc,
                pc=identifier.nb_pc,
                classes=np.array(identifier.nb_classes),
                row=np.frombuffer(identifier.tk_row, dtype=f"u{identifier.tk_row.itemsize}"),
                output=np.array(identifier.tk_output, dtype=np.int64),
                nextmove_length=np.array([len(nextmove)]),
            ),
        ),
    ):
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                write(out)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _read_cached(path: Path) -> LanguageIdentifier:
    """The restricted model from the files _write_cached wrote (the .npz last, so it vouches for both).

    The transition table is memory-mapped, not read: a process touches only the pages its texts
    walk, and worker processes share them through the page cache.
    """
    with np.load(path, allow_pickle=False) as data:
        length = int(data["nextmove_length"][0])
        with path.with_suffix(".I.bin").open("rb") as raw:
            mapped = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
        nextmove = memoryview(mapped).cast("I")  # indexes to plain ints, as the array did
        if len(nextmove) != length:
            raise ValueError(f"transition table holds {len(nextmove)} entries, not {length}")
        row = array("H")
        row_array = np.ascontiguousarray(data["row"], dtype=np.uint16)
        row.frombytes(memoryview(row_array).cast("B"))  # type: ignore[arg-type]  # ndarray is a buffer
        return LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            nextmove,
            data["output"].tolist(),
            norm_probs=True,
            tk_row=row,
        )
