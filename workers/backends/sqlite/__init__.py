"""The embedded mode's SQLite store."""
