"""Kliping: the ingestion pipeline (settings, stages, backends, Celery app, command line)."""

__version__ = "0.1.0"
