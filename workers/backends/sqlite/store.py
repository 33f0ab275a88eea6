"""The embedded store: one SQLite file holding articles (FTS5 search), the dedup index and state.

Each part lives in its own module (schema, connection, articles, dedup, stories, state); this one
puts them together and keeps the names other code imports from here.
"""

from __future__ import annotations

from workers.backends.sqlite.articles import ArticleRows
from workers.backends.sqlite.dedup import DedupRows
from workers.backends.sqlite.schema import SCHEMA_VERSION, utc_key
from workers.backends.sqlite.state import StateRows
from workers.backends.sqlite.stories import StoryRows

__all__ = ["SCHEMA_VERSION", "EmbeddedStore", "utc_key"]


class EmbeddedStore(ArticleRows, DedupRows, StoryRows, StateRows):
    """SQLite implementation of ArticleIndex, DedupIndex and StateStore for the embedded mode."""
