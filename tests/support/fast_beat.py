"""The production Celery app with beat asking for a feed poll every second instead of every minute.

Only the tick changes (`celery -A tests.support.fast_beat beat`): the schedule entry, its task,
queue and expiry rule are production's, so two of these beats race as two production beats do,
sixty times faster.
"""

from __future__ import annotations

from workers.runtime.celery_app import BEAT_SCHEDULE, app

TICK_SECONDS = 1.0

app.conf.beat_schedule = {
    name: {**entry, "schedule": TICK_SECONDS, "options": {**entry["options"], "expires": TICK_SECONDS}}
    for name, entry in BEAT_SCHEDULE.items()
}
