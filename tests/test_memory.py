"""Freed memory goes back to the system between batches."""

from __future__ import annotations

import psutil

from workers.runtime.memory import release_freed_memory


def test_freed_heap_pages_go_back_to_the_system():
    me = psutil.Process()
    pages = [bytearray(512) for _ in range(200_000)]  # ~100 MB of small blocks on the C heap
    pin = bytearray(512)  # allocated above them: free() alone cannot shrink the heap past it
    del pages
    before = me.memory_info().rss
    assert release_freed_memory() is True  # glibc here
    assert me.memory_info().rss < before - 20 * 2**20
    del pin


def test_the_worker_releases_memory_after_every_task():
    from celery import signals

    from workers.runtime.tasks import _release_memory_after_task

    assert _release_memory_after_task in [receiver() for _, receiver in signals.task_postrun.receivers]
