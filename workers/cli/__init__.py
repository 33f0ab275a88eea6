"""The `kliping` command line: one module per command group; `main` is the entry point."""

from workers.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
