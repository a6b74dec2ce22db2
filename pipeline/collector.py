"""Python's automatic garbage collection paused for the length of a run.

Why: a run builds millions of long-lived objects (paragraphs, predictions, quotes, candidates)
and almost no reference cycles, yet every 50,000 allocations the collector traversed the young
ones again, and now and then every object of the run. At 3,000 contributions that was 1.1-1.6 s
of a 12-16 s one-file re-run, and it freed nothing: with collection paused, 517 objects were
left in cycles at the end of such a re-run, and 9,026 after a cold run of 100 contributions
(about 90 per contribution, all freed when the pause ends). Reference counting still frees
everything else at once, so memory does not grow (the same peak either way).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collection_paused() -> Iterator[None]:
    """No automatic collection inside; on leaving, collection is as it was before (a notebook
    calling run_pipeline gets its collector back, enabled or not)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
