"""The exceptions kohalint raises on purpose.

A parser raises `ParseError` and nothing else for input it cannot read; the
engine turns it into a KL001 finding at `line`/`column`. Anything else that
escapes a check is a bug and becomes KL003.
"""

from __future__ import annotations


class KohalintError(Exception):
    """Base class: a problem kohalint reports to the user without a traceback."""


class ParseError(KohalintError):
    """A file of a kind kohalint reads could not be parsed.

    The message must never quote file content: it may hold a secret.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1,
                 path: "str | None" = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(1, int(line))
        self.column = max(1, int(column))
        self.path = path  # set when the error is in another file than the one parsed


class ConfigError(KohalintError):
    """The configuration (file or flags) is invalid: exit code 2."""
