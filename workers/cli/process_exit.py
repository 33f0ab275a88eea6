"""Leaving the `kliping` process without tearing the interpreter down.

Once a command has returned, CPython's finalisation (clearing every module, freeing every object:
numpy, lxml, pydantic, the language model's tables) costs about 0.1 s of CPU, a sixth of a short
`kliping ingest` (issue 25: first input within 0.5 s). What that teardown does that anyone can see
is done here first: other threads are waited for (else the ordinary exit does it), the atexit
handlers run (logging's flush, `weakref.finalize` callbacks such as the SQLite stores' close), and
stdout and stderr are flushed; then the process ends with os._exit. Only the console script and
`python -m workers.cli` leave this way; `main()` called in a process returns as before.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """End the process with `code`: the ordinary exit when another thread still runs or a stream
    cannot be flushed, else atexit handlers, flushed streams and os._exit (no interpreter teardown)."""
    current = threading.current_thread()
    if any(t is not current and not t.daemon and t.is_alive() for t in threading.enumerate()):
        raise SystemExit(code)  # the ordinary exit waits for them
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed or broken stream: let Python report it as it would
        raise SystemExit(code) from None
    os._exit(code)
