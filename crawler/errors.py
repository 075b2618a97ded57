"""The exception tree every touthunt package raises from.

    TouthuntError
    ├── ConfigError        config.yaml is missing, unreadable or invalid (names the key and the value)
    ├── StorageError       the database cannot be opened or migrated
    ├── ExportError        an export cannot be written
    └── AccessError        the named user does not exist, is disabled or lacks the role

Commands turn a ``ConfigError`` into exit status 2 and any other ``TouthuntError`` into exit status 1,
always with one clear message and no traceback.
"""

from __future__ import annotations


class TouthuntError(Exception):
    """Base class for errors that end a command with a clear message."""


class ConfigError(TouthuntError):
    """The configuration file is missing, malformed or has an invalid value."""


class StorageError(TouthuntError):
    """The database cannot be opened, migrated or written."""


class ExportError(TouthuntError):
    """A referral export cannot be produced."""


class AccessError(TouthuntError):
    """A command acting for a person (``--as USER``) names no active account with the needed role."""
