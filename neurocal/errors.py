"""The one exception type users see: a message naming the file, the field and the fix."""

from __future__ import annotations


class NeurocalError(Exception):
    """Bad input or a failed stage, with a message written for the person who ran the command.

    The CLI prints ``str(err)`` on one line and exits non-zero; no traceback.
    """
