"""Runtime: wiring (the one place that knows the mode), the embedded runner, Celery app and tasks, producer, health, exporter."""
