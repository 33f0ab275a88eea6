"""Continuous monitoring: standing queries (rules), alerts once per story, webhook delivery, spikes."""

from workers.monitor.alerts import Monitor, monitor
from workers.monitor.match import Matcher
from workers.monitor.query import QueryError, parse

__all__ = ["Matcher", "Monitor", "QueryError", "monitor", "parse"]
