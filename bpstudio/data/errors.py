"""The one error type of the data package.

Every failure while reading, generating or preparing a dataset raises :class:`DataError` with a
single line that names the file (or built-in), the line or column, and what the user can do about
it. The CLI prints that line and exits 2; the GUI shows it in a dialog. No logic beyond that.
"""

from __future__ import annotations

from bpstudio.errors import BPStudioError


class DataError(BPStudioError):
    """A user-facing, one-line message about a dataset problem (file, line/column, what to do)."""

    def __init__(self, message: str) -> None:
        # Keep the message to one line whatever the caller passed in (pandas errors carry newlines).
        super().__init__(" ".join(str(message).split()))
