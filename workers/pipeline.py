"""The order of the stages, written once and used by both runners (embedded and Celery).

load/fetch → clean → (unchanged?) → dedupe → enrich (or reuse the canonical's) → story → index → monitor
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from schemas import (
    Article,
    CopyRef,
    Dedup,
    DedupMethod,
    FailedInput,
    InputResult,
    Outcome,
    RawDocument,
    Reason,
    utcnow,
)
from workers import enrich as enrichment  # its stage modules load at the first article to enrich
from workers.clean import clean
from workers.dedupe import Verdict, assign_story, dedupe, fingerprint, verify
from workers.errors import KlipingError, SkipInput, TransientError
from workers.load import is_url, load
from workers.observe import MetricsSink, Stage, Trace, bind_article, finish, resumed, stage, tracing
from workers.ports import ArticleIndex, DedupIndex, StateStore, add_copy_ref
from workers.settings import Settings
from workers.sources import SourceRegistry

if TYPE_CHECKING:
    from workers.backends.archive import RawArchive
    from workers.monitor import Monitor

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Everything the stages need from the outside world, injected by the runner."""

    settings: Settings
    registry: SourceRegistry
    index: ArticleIndex
    dedup: DedupIndex
    state: StateStore
    fetch: Callable[[str], RawDocument]
    monitor: Monitor | None = None  # standing rules → alerts; None: no monitoring
    archive: RawArchive | None = None  # fetched pages kept for `reextract`; None: not kept
    metrics: MetricsSink | None = None  # outcome/latency counters (Redis when distributed); None: not counted


def archive_fetched(archive: RawArchive | None, input_ref: str, raw: RawDocument) -> None:
    """Keep a copy of what was fetched for a URL input (local files are their own archive)."""
    if archive is not None and is_url(input_ref):
        archive.put(raw)


def failed_id(input_ref: str) -> str:
    """Deterministic quarantine id of an input (a replay overwrites, never duplicates)."""
    return hashlib.sha1(input_ref.encode("utf-8")).hexdigest()[:16]


def process(input_ref: str, ctx: Context) -> InputResult:
    """Run one input through every stage; transient errors propagate for the runner to retry."""
    return complete(prepare(input_ref, ctx), ctx)


@dataclass
class Prepared:
    """An input loaded and cleaned (its article), or already at its outcome (skipped, failed).

    ``prepare`` then ``complete`` is ``process`` in two steps, so that a runner holding several
    inputs can look all their articles up at once in between (one mget for a batch, not one each).
    """

    input_ref: str
    trace: Trace
    seconds: float  # spent so far on this input
    article: Article | None = None
    result: InputResult | None = None


def prepare(input_ref: str, ctx: Context) -> Prepared:
    """Load and clean one input; transient errors propagate."""
    with tracing(input_ref, failed_id(input_ref)) as trace:  # every log line names the input and stage
        started = time.perf_counter()
        try:
            with stage(Stage.load):
                raw = load(input_ref, fetch=ctx.fetch, max_bytes=ctx.settings.max_file_bytes)
                archive_fetched(ctx.archive, input_ref, raw)
            with stage(Stage.clean):
                article = clean(raw, ctx.registry)
            bind_article(article.id)
            return Prepared(input_ref, trace, time.perf_counter() - started, article=article)
        except TransientError:
            raise
        except Exception as exc:
            result = _outcome_of_error(input_ref, exc, ctx)
        return Prepared(input_ref, trace, time.perf_counter() - started, result=result)


def complete(prepared: Prepared, ctx: Context) -> InputResult:
    """Decide a prepared input's outcome (dedupe, enrich, index), record, log and count it."""
    with resumed(prepared.trace) as trace:
        started = time.perf_counter()
        result = prepared.result
        if result is None:
            assert prepared.article is not None
            try:
                result = store(prepared.article, ctx)
            except TransientError:
                raise
            except Exception as exc:
                result = _outcome_of_error(prepared.input_ref, exc, ctx)
        result.seconds = round(prepared.seconds + time.perf_counter() - started, 4)
        ctx.state.record(result)
        finish(trace, result, ctx.metrics)
    return result


def _outcome_of_error(input_ref: str, exc: Exception, ctx: Context) -> InputResult:
    """The outcome of an input its stages refused: skipped (not an article) or failed (quarantined)."""
    if isinstance(exc, SkipInput):
        return InputResult(input=input_ref, outcome=Outcome.skipped, reason=exc.describe())
    if isinstance(exc, KlipingError):  # PermanentError included
        return fail(input_ref, exc.reason, str(exc), ctx.state)
    # a bug or a pathological input must not stop the batch
    log.error("unexpected error on %s", input_ref, exc_info=exc)
    detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    return fail(input_ref, Reason.internal_error, detail, ctx.state)


def fail(input_ref: str, reason: Reason, error: str, state: StateStore, attempts: int = 1) -> InputResult:
    """Quarantine an input and return its `failed` outcome."""
    state.quarantine(
        FailedInput(id=failed_id(input_ref), input=input_ref, reason=reason, error=error, attempts=attempts)
    )
    first_line = error.splitlines()[0] if error else ""
    return InputResult(input=input_ref, outcome=Outcome.failed, reason=f"{reason.value}: {first_line}")


def give_up(input_ref: str, exc: TransientError, ctx: Context, attempts: int) -> InputResult:
    """Quarantine an input whose transient error outlasted its retries; record, log and count the outcome."""
    with tracing(input_ref, failed_id(input_ref)) as trace:
        result = fail(input_ref, exc.reason, str(exc), ctx.state, attempts=attempts)
        ctx.state.record(result)
        finish(trace, result, ctx.metrics)
    return result


def store(article: Article, ctx: Context) -> InputResult:
    """Dedupe, enrich and index a cleaned article; decide its outcome."""
    with stage(Stage.index):
        existing = ctx.index.get(article.id)
    if existing is not None and existing.content_hash == article.content_hash:
        if ctx.monitor is not None:  # a first run may have died between its index write and the monitor
            ctx.monitor.observe(existing, rerun=True)
        canonical_id = existing.dedup.canonical_id if existing.dedup else existing.id
        return InputResult(
            input=article.input, outcome=Outcome.unchanged, id=article.id, canonical_id=canonical_id
        )
    if existing is not None:  # changed content: still first seen when it was first stored
        article.settle_dates(first_seen=existing.first_seen_at)

    with stage(Stage.dedupe):
        verdict = dedupe(article, ctx.dedup)
        canonical = ctx.index.get(verdict.canonical_id) if verdict.is_copy else None
    if verdict.is_copy:
        # The canonical may still be in another worker's enrich step: the copy is then enriched
        # itself, stored as a copy all the same, and linked when the canonical is stored (link_group).
        with stage(Stage.enrich):
            article = (
                enrichment.reuse_enrichment(article, canonical)
                if canonical is not None
                else enrichment.enrich(article, ctx.registry)
            )
        article.dedup = Dedup(
            canonical_id=verdict.canonical_id,
            is_canonical=False,
            story_id=canonical.dedup.story_id if canonical is not None and canonical.dedup else None,
            method=verdict.method,
            similarity=verdict.similarity,
        )
        article.indexed_at = utcnow()
        with stage(Stage.index):
            ctx.index.put(article)
            linked = settle_copy(article, ctx.index, canonical)
        # A copy of an alerted story is attached to its alert, never re-sent. A copy whose canonical is
        # not stored yet (another process is enriching it) knows no story: the canonical's own monitor
        # step raises or attaches the story's alert (an alert here would be a second one, issue 18).
        if ctx.monitor is not None and linked:
            with stage(Stage.monitor):
                ctx.monitor.observe(article)
        return InputResult(
            input=article.input, outcome=Outcome.copy, id=article.id, canonical_id=verdict.canonical_id
        )

    with stage(Stage.enrich):
        article = enrichment.enrich(article, ctx.registry)
    window = timedelta(days=ctx.settings.story_window_days)
    article.dedup = existing.dedup if existing is not None else None  # a re-run keeps its copies
    article.indexed_at = utcnow()
    # Story id, copies, and stored members (a displaced canonical and its copies) follow the group.
    with stage(Stage.index):
        article = link_group(article, verdict, ctx.index, ctx.dedup, window)
    if ctx.monitor is not None:
        with stage(Stage.monitor):
            ctx.monitor.observe(article)
    return InputResult(input=article.input, outcome=Outcome.indexed, id=article.id, canonical_id=article.id)


def settle_copy(article: Article, index: ArticleIndex, canonical: Article | None = None) -> bool:
    """Link a stored copy and its canonical: the canonical lists the copy, the copy takes its story.

    `canonical` as read before the copy's write; None: read it now (after the write), since the
    canonical's link_group may have run meanwhile and missed the copy. False: canonical not stored yet.
    """
    assert article.dedup is not None
    if canonical is None:
        canonical = index.get(article.dedup.canonical_id)
        if canonical is not None and canonical.dedup and article.dedup.story_id != canonical.dedup.story_id:
            article.dedup.story_id = canonical.dedup.story_id
            index.put(article)
    if canonical is None:
        return False
    index.add_copy(canonical.id, CopyRef(id=article.id, outlet=article.source.name, url=article.url))
    return True


def settle_late_copies(canonical: Article, index: ArticleIndex, dedup: DedupIndex) -> int:
    """Settle the stored copies of a just-flushed canonical that registered after link_group read its group; how many.

    link_group reads the group again after its write, so a copy registered later finds the canonical
    stored. A batch's writes become visible only at its flush, after that read: a copy in another
    worker's batch can register in between, find no canonical, and be flushed unlinked. Called after
    the canonical's flush, this closes the gap; a copy whose own batch has not flushed yet finds the
    canonical stored when it settles after that flush.
    """
    assert canonical.dedup is not None
    known = {ref.id for ref in canonical.dedup.copies}
    settled = 0
    for member in dedup.members(canonical.id):
        if member.article_id in known:
            continue
        copy = index.get(member.article_id)
        if copy is not None and copy.dedup is not None and not copy.dedup.is_canonical:
            settled += settle_copy(copy, index)
    return settled


def link_group(
    article: Article, verdict: Verdict, articles: ArticleIndex, index: DedupIndex, window: timedelta
) -> Article:
    """Set a canonical's dedup fields from its group, store it, and point every stored member at it.

    Idempotent: a retry after a crash finds the same members and leaves them pointing here.
    """
    members = index.members(article.id)
    stored = {m.article_id: articles.get(m.article_id) for m in members}
    if verdict.replaces and verdict.replaces not in stored:
        stored[verdict.replaces] = articles.get(verdict.replaces)
    known = [article.dedup] if article.dedup else []  # a re-run keeps its story
    known += [a.dedup for a in stored.values() if a and a.dedup]
    story_id = next((dedup.story_id for dedup in known if dedup.story_id), None)
    previous = article.dedup.copies if article.dedup else []
    copies = {ref.id: ref for ref in previous}
    copies.update({m.article_id: CopyRef(id=m.article_id, outlet=m.outlet, url=m.url) for m in members})
    article.dedup = Dedup(
        canonical_id=article.id,
        story_id=story_id or assign_story(article, index, window),
        copies=list(copies.values()),
        copy_count=len(copies),
    )
    articles.put(article)
    # Read the group again after our write: a copy registered meanwhile either shows up here, or
    # registered after this read and so finds this article stored (the copy path re-reads it).
    for late in index.members(article.id):
        if late.article_id not in copies:
            ref = CopyRef(id=late.article_id, outlet=late.outlet, url=late.url)
            articles.add_copy(article.id, ref)
            add_copy_ref(article, ref)  # as stored: the monitor attaches it to the story's alert
            members.append(late)
    stored.update(
        {m.article_id: articles.get(m.article_id) for m in members if stored.get(m.article_id) is None}
    )
    own = None  # computed only when a member needs re-pointing: most canonicals have none
    by_id = {m.article_id: m for m in members}
    for member_id, member in stored.items():
        if member is None or member_id == article.id:
            continue
        if (
            member.dedup
            and not member.dedup.is_canonical
            and member.dedup.canonical_id == article.id
            and member.dedup.story_id == article.dedup.story_id
        ):
            continue
        if own is None:
            own = fingerprint(article)
        match = verify(by_id.get(member_id) or fingerprint(member), own)
        member.dedup = Dedup(
            canonical_id=article.id,
            is_canonical=False,
            story_id=article.dedup.story_id,
            method=match.method if match else DedupMethod.near,
            similarity=match.similarity if match else None,
        )
        articles.put(member)
    return article
