"""The ``neurocal`` command: one sub-command per stage, each a thin wrapper over a library function.

Sub-commands live in one module per stage of the pipeline (``data``, ``train``, ``run``) so that
each stage's options sit next to each other; this module only assembles them and decides how a
run ends. Every failure is one line on stderr and a non-zero exit, never a traceback:

====================================================  =====  ===========================================
what happened                                          exit   stderr
====================================================  =====  ===========================================
bad option value (click usage error)                   2      ``neurocal: error: Invalid value for '--x': …``
:class:`~neurocal.errors.NeurocalError`                2      ``neurocal: error: <file>: <field>: <fix>``
a full disk or ``ulimit -f`` not caught closer in      2      ``neurocal: error: <file>: disk full …``
out of memory                                          2      ``neurocal: error: out of memory …``
SIGINT / SIGTERM, SIGHUP                               130 /  ``neurocal: interrupted`` (outputs unchanged)
                                                       143,129
a bug (any other exception)                            70     ``neurocal: internal error: …; rerun with --debug``
====================================================  =====  ===========================================

``neurocal --debug CMD`` lets an unexpected exception through with its traceback, on purpose.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import click

from neurocal import __version__
from neurocal.atomic import DISK_FULL, ignore_stop_signals, install_signal_handlers, late_signal
from neurocal.errors import NeurocalError, Terminated
from neurocal.quoting import printable

EXIT_ERROR = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"neurocal: error: {printable(message)}", err=True)  # one line, even for a path holding a newline
    sys.exit(code)


AS_PROGRAM = False  # set by ``python -m neurocal.cli``; the console script is recognised by its name


def _is_program() -> bool:
    """This process is the ``neurocal`` program (not a test's CliRunner, whose signals must stay as they are)."""
    return AS_PROGRAM or os.path.basename(sys.argv[0]) == "neurocal"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Group(click.Group):
    """The ``neurocal`` group: one-line errors, and sub-commands registered on first use rather than at import, so
    that a room's CLI module may import ``neurocal.cli`` (its options) without a circular import."""

    _registered = False

    @property
    def commands(self) -> dict[str, click.Command]:  # type: ignore[override]
        if not _Group._registered:
            _Group._registered = True
            _register()
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = value

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            result = super().invoke(ctx)
            if _is_program():  # done: a Ctrl-C arriving now must not turn exit 0 into 130
                ignore_stop_signals()
            if late_signal() is not None:
                click.echo("neurocal: interrupted just after the outputs were written; they are whole", err=True)
            return result
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except NeurocalError as err:
            _fail(str(err))
        except KeyboardInterrupt:
            click.echo("neurocal: interrupted; outputs left as they were", err=True)
            sys.exit(130)
        except Terminated as err:
            click.echo(f"neurocal: stopped by {err}; outputs left as they were", err=True)
            sys.exit(128 + err.signum)
        except BrokenPipeError:
            # the reader of our stdout went away (`neurocal inspect x | head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except OSError as err:
            if debug:
                raise
            where = err.filename or "a file"
            if err.errno in DISK_FULL:
                _fail(f"{where}: disk full (no space left or file-size limit reached); free space and rerun")
            if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                _fail(f"{where}: permission denied ({err.strerror}); choose a path you can write")
            _fail(f"{where}: {err.strerror or _one_line(str(err))}")
        except MemoryError:
            if debug:
                raise
            _fail(f"out of memory in 'neurocal {ctx.invoked_subcommand}'; use fewer events or a smaller network")
        except Exception as err:
            if debug:
                raise
            click.echo(f"neurocal: internal error: {type(err).__name__}: {_one_line(str(err))[:300]}; "
                       "rerun with --debug and report it", err=True)
            sys.exit(EXIT_INTERNAL)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """As click's, but a usage error is one line (the option and what is wrong), not a usage block."""
        install_signal_handlers()
        try:
            return super().main(args, prog_name or "neurocal", complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as err:
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("neurocal: interrupted; outputs left as they were", err=True)
            sys.exit(130)
        except click.ClickException as err:
            message = _one_line(err.format_message())
            ctx = getattr(err, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            click.echo(f"neurocal: error: {message}{hint}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:  # during start-up, before a sub-command ran
            click.echo("neurocal: interrupted", err=True)
            sys.exit(130)
        except Terminated as err:
            sys.exit(128 + err.signum)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="neurocal")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an unexpected error (for bug reports).")
def main(debug: bool) -> None:
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


COMMANDS_ENTRY_POINT_GROUP = "neurocal.commands"


def _register() -> None:
    """The spine's own commands, then those the rooms (and other packages) declare in the entry-point group
    ``neurocal.commands`` (``name = "package.module:COMMANDS"``, a list of click commands): the CLI never
    imports a room by name."""
    from importlib.metadata import entry_points

    from neurocal.cli import data, demo, report, run, train

    for module in (data, train, run, demo, report):
        for command in module.COMMANDS:
            main.add_command(command)
    for ep in sorted(entry_points(group=COMMANDS_ENTRY_POINT_GROUP), key=lambda e: e.name):
        for command in ep.load():
            main.add_command(command)
