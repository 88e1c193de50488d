"""The ``neurocal`` command: one sub-command per stage, each a thin wrapper over a library function.

Sub-commands live in one module per room of the pipeline (``data``, ``train``, ``deploy``) so that
each stage's options sit next to each other; this module only assembles them and turns a
:class:`~neurocal.errors.NeurocalError` into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from neurocal import __version__
from neurocal.errors import NeurocalError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NeurocalError as err:
            click.echo(f"neurocal: error: {err}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("neurocal: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="neurocal")
def main() -> None:
    """neurocal — spiking-network readout of a hadron calorimeter, from simulation to hardware.

    \b
    Typical flow:
      neurocal simulate --events 3000 --out data.h5     # showers → photon frames
      neurocal inspect data.h5                          # what is in a dataset
      neurocal train --data data.h5 --out runs/energy   # snnTorch SNN
      neurocal export runs/energy --out model.nir       # → NIR
      neurocal quantize model.nir --data data.h5 --out bundle/
      neurocal compare --backends golden,lava --bundle bundle/ --data data.h5
    """


def _register() -> None:
    from neurocal.cli import data, demo, deploy, train

    for module in (data, train, deploy, demo):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
