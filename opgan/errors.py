"""The one base of every error a user can cause (a bad option, file, image or notebook parameter).

`opgan.cli.main` catches `OpganError` alone and prints its message on one line; anything else is
a bug and keeps its traceback.  Each subclass also derives from the built-in exception it stands
for, so callers that catch ``ValueError`` or ``OSError`` keep working.
"""

from __future__ import annotations


class OpganError(Exception):
    """An error in what the user gave opgan; the message says what and where."""


class ConfigError(OpganError, ValueError):
    """Settings that make no sense: an unknown preset, option or model name, an unusable k, a
    device that is not there, a notebook parameter out of range."""
