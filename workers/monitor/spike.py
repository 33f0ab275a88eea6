"""Spike detection: is a rule's matching volume in the current hour far above its usual level?

The statistic is a Poisson tail test. Articles matching a rule arrive roughly independently,
so the count of one hour is modelled as Poisson with rate λ = the mean hourly count of the
previous BASELINE_HOURS hours (floored at MIN_RATE, so a rule that was silent all day does not
spike on its first two articles). The current hour is a spike when observing at least that
many matches under λ is very unlikely, P(X ≥ count | λ) < SPIKE_P_VALUE, and the count is at
least MIN_SPIKE_COUNT. The Poisson tail suits the small counts of most rules better than
mean + k·std, whose standard deviation is 0 for a flat or empty history.
"""

from __future__ import annotations

import math

# A day of history: long enough to smooth hour-to-hour noise, short enough to follow a story
# that has been big for a week (tuned by hand on the seeds; no labelled spike data yet).
BASELINE_HOURS = 24
# One false spike in a thousand quiet rule-hours: with 1,000 rules that is about one a
# hour across the fleet at worst, and a real surge (10 articles on a λ=1 rule) gives p ≈ 1e-7.
SPIKE_P_VALUE = 1e-3
# Never call fewer than this many articles a spike, whatever the baseline.
MIN_SPIKE_COUNT = 5
# Rate used for a history of zeros (half an article per hour).
MIN_RATE = 0.5


def poisson_tail(count: int, rate: float) -> float:
    """P(X ≥ count) for X ~ Poisson(rate)."""
    if count <= 0:
        return 1.0
    term = math.exp(-rate)
    below = term
    for k in range(1, count):
        term *= rate / k
        below += term
    return max(0.0, 1.0 - below)


def is_spike(current: int, history: list[int]) -> bool:
    """True when the current hour's count is improbably high given the previous hours' counts."""
    if current < MIN_SPIKE_COUNT:
        return False
    rate = max(MIN_RATE, sum(history) / len(history)) if history else MIN_RATE
    return poisson_tail(current, rate) < SPIKE_P_VALUE


def epoch_hour(timestamp: float) -> int:
    """The hour bucket of a POSIX timestamp."""
    return int(timestamp // 3600)
