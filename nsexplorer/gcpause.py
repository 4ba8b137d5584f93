"""The cyclic garbage collector paused while a pass builds many small, acyclic values.

Discovery, the netlink reads and the JSON encoding each make tens of thousands of
tuples, dicts and model objects that refcounting alone frees. The collector's passes
over that growing heap cost as much as the work itself (measured: the netlink read,
the encoding, and 2-3 ms of a 35 ms `list` pass), so each pauses it. It is turned back
on only if this turned it off: the TUI keeps it off during its start-up on its own.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
