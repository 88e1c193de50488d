"""`neurocal` sub-commands of the train stage."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
