"""The exceptions users see: a message naming the file, the field and the fix, or an interruption."""

from __future__ import annotations

import signal


class NeurocalError(Exception):
    """Bad input or a failed stage, with a message written for the person who ran the command.

    The CLI prints ``str(err)`` on one line and exits non-zero; no traceback.
    """


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwind like ``KeyboardInterrupt`` so every ``finally`` block runs.

    A ``BaseException``, not an ``Exception``, for the same reason as ``KeyboardInterrupt``: code
    that catches ``Exception`` to report a bad file must not swallow a request to stop.
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
