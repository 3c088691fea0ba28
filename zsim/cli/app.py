"""The command group, its exit codes, and the one place errors become one line and a code.

Exit codes (the README and ``zsim --help`` list them):
0  the run did what the scenario expects (its ``[expect]`` table, or every node it waits for
   finished with nothing stranded);
1  it failed or ended otherwise: one line per cause on stderr (``zsim: NODE: ...``);
2  bad usage or a bad scenario: one line naming the file, the field and the value;
130 / 143  stopped by Ctrl-C / SIGTERM, after writing what finished (marked incomplete).
"""

from __future__ import annotations

import importlib
import signal
import sys

import click

from zsim.cli.common import fail, one_line
from zsim.errors import RunFailed, RunInterrupted, ZsimError

# subcommand -> "module:attribute" of its click command, imported when it is asked for
# (click's documented lazy-loading pattern), so `zsim --help` does not import pandas
SUBCOMMANDS = {
    "run": "zsim.cli.run:run",
    "compare": "zsim.cli.compare:compare",
    "sweep": "zsim.cli.sweep:sweep",
    "calibrate": "zsim.cli.calibrate:calibrate",
    "check-model": "zsim.cli.check_model:check_model",
    "diff": "zsim.cli.diff:diff",
    "report": "zsim.cli.report:report",
    "validate": "zsim.cli.inspect:validate",
    "list": "zsim.cli.inspect:list_scenarios",
    "schema": "zsim.cli.inspect:schema",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when listed or invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # the listing shows each command's first docstring line without importing its module
        rows = [(name, SUMMARIES[name]) for name in SUBCOMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


SUMMARIES = {
    "run": "Run a scenario once (or --reps times) and print its metrics.",
    "compare": "Closed form vs simulation vs live runs, with 95% CIs and verdicts.",
    "sweep": "A parameter grid x replications, each metric summarised with 95% CIs.",
    "calibrate": "Measure this machine on loopback and write a machine profile.",
    "check-model": "Validate the model against live runs: pass/FAIL per row.",
    "diff": "Align a sim run's and a live run's event logs: first divergence, counts.",
    "report": "(Re)build report.html of a run, compare, sweep or check-model directory.",
    "validate": "Check a scenario file: ok, or one line naming the bad field.",
    "list": "The shipped scenarios, one line each.",
    "schema": "The scenario-format reference, generated from the validated model.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: 0 the run did what the scenario expects; 1 it failed or "
                    "ended otherwise (one line per cause on stderr); 2 bad usage or scenario; "
                    "130/143 stopped by Ctrl-C/SIGTERM (what finished is written, marked "
                    "incomplete).")
@click.version_option(package_name="zsim")
def cli() -> None:
    """zsim: simulate ZeroMQ topologies described in scenario files, and check them live.

    FILE is a scenario's path, or the name of a shipped scenario (see `zsim list`).
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure is one line and an exit code, never a traceback."""
    try:
        cli.main(args=argv, prog_name="zsim", standalone_mode=False)
    except click.exceptions.Abort as exc:
        cause = exc.__cause__
        if isinstance(cause, RunInterrupted):
            fail(f"stopped by {signal.Signals(cause.signum).name}; what finished is written, "
                 "marked incomplete", 128 + cause.signum)
        fail("interrupted", 130)
    except RunInterrupted as exc:
        fail(f"stopped by {signal.Signals(exc.signum).name}; what finished is written, "
             "marked incomplete", 128 + exc.signum)
    except click.ClickException as exc:
        exc.message = one_line(exc.message)  # an argument may hold a line break
        exc.show()
        sys.exit(exc.exit_code)
    except RunFailed as exc:
        for line in exc.causes:
            click.echo(f"zsim: {one_line(line)}", err=True)
        sys.exit(exc.exit_code)
    except ZsimError as exc:
        fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)

