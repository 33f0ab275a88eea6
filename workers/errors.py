"""Errors as types: transient errors retry, permanent ones quarantine, skips are not failures."""

from __future__ import annotations

from schemas import Reason


class KlipingError(Exception):
    """Base of all pipeline errors; carries a fixed reason."""

    reason: Reason = Reason.internal_error

    def __init__(self, message: str, reason: Reason | None = None):
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    def describe(self) -> str:
        """Reason and message, as recorded in an outcome."""
        return f"{self.reason.value}: {self}"


class SkipInput(KlipingError):
    """The input is not an article (or not ours to take): record `skipped` with the reason."""

    reason = Reason.not_article


class PermanentError(KlipingError):
    """Retrying will not help: quarantine the input as `failed`."""

    reason = Reason.malformed


class TransientError(KlipingError):
    """A retry later may succeed (network, 5xx, a service that is down)."""

    reason = Reason.service_unavailable

    def __init__(self, message: str, reason: Reason | None = None, retry_after: float | None = None):
        super().__init__(message, reason)
        self.retry_after = retry_after


class BackendUnavailable(TransientError):
    """One of Kliping's own services (the index, Redis) is down or overloaded: the input is not at fault.

    The distributed runner retries these for as long as an outage may last (``outage_retry_seconds``),
    not a fixed number of times like a website that is down.
    """
