"""Backends: implementations of workers.ports, one folder per service (sqlite, redis, elastic) plus the raw archive and mode-paired stores.

Backends never import the pipeline or the runtime.
"""
