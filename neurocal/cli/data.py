"""`neurocal` sub-commands for data: simulate, inspect, plot-event."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
