"""Giving freed memory back to the system between batches of articles."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

# A worker trims after every task (a batch of up to 50 inputs); the embedded runner as often.
RELEASE_EVERY_INPUTS = 50


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "malloc_trim", None)
    except OSError:
        return None


_malloc_trim = _libc_trim()


def release_freed_memory() -> bool:
    """Hand the C heap's free pages back to the system; False where that is not possible.

    The lxml trees of parsed pages are freed after each article, but glibc keeps their pages
    for reuse: measured on a pipeline process, trimming gave back 19-20 MB of RSS each time.
    """
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True
