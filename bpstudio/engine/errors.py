"""Errors the engine raises for the user to read.

Only `EngineError` lives here: a `ValueError` whose message is one sentence saying what is wrong
(bad configuration, an output/loss pair that does not fit, arrays of the wrong shape) and what
to do.
Divergence during training is *not* an error: `fit` stops and reports it in `History`.
"""

from __future__ import annotations

from bpstudio.errors import BPStudioError


class EngineError(BPStudioError, ValueError):
    """A user-facing configuration or shape error from the engine."""
