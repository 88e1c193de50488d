"""``neurocal rtl …``: simulate and synthesise the RTL accelerator from the command line."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
