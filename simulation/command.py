"""The installed `sharelab` command: the CLI loaded with the collector paused, its
objects frozen (kept out of every later collection), then `main`."""

from __future__ import annotations

import gc
import sys


def entry() -> int:
    """Import the CLI with garbage collection off, freeze what is alive, run `main`, and
    freeze again. Importing the engine and its libraries makes some 190,000 objects
    that live as long as the process and no garbage: collecting while they load takes a
    sixth of the import, and every full pass of a run, and those at interpreter exit
    (0.4 s), would go over them again.

    Mesa's model module is imported first: on import it walks the whole call stack
    (`inspect.stack`, for its logger's name), which costs in proportion to the stack's
    depth times the modules loaded, about 0.06 s at the top and 0.2 s from inside the
    CLI's imports."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        import mesa.model  # noqa: F401

        from simulation.cli import main
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":
    sys.exit(entry())
