"""The root of Backprop Studio's user-facing errors.

``BPStudioError`` means "your input is wrong" (a file, an option, a setting) and carries a message
the user can act on. Every package's error type derives from it (``DataError``, ``EngineError``,
``ModelFileError``, the CLI's ``CLIError``), so each entry point — the CLI, the window and the
training child process — tells a user's mistake from a bug in one way: a ``BPStudioError`` is
shown as a one-line refusal (exit 2, or a dialog); anything else is a bug, reported with details.
Nothing else lives here; this module imports nothing of the project.
"""

from __future__ import annotations


class BPStudioError(Exception):
    """A user-facing error: the message says what is wrong and what to do."""


def is_user_error(exc: BaseException) -> bool:
    """True for an error the user can fix (a ``BPStudioError``), False for a bug."""
    return isinstance(exc, BPStudioError)


__all__ = ["BPStudioError", "is_user_error"]
