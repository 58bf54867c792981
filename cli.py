"""The ``portfolio`` command: a thin shell over the library.

Exit codes: 0 success, 1 a finding (drift, infeasible plan), 2 bad input or usage.
Errors print as one line each, without a traceback unless ``--debug`` is given.
"""
from __future__ import annotations

import functools
import sys
import traceback

import click

from portfolio.errors import InputError


class Finding(Exception):
    """A result the user must act on (exit 1), e.g. an infeasible plan or a regression."""


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def guarded(command):
    """Turn user errors into clear one-line messages and exit codes."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            if debug:
                traceback.print_exc()
            _fail("\n".join(str(p) for p in exc.problems), 2)
        except Finding as exc:
            if debug:
                traceback.print_exc()
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", 130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def main(debug):
    """Schedule and simulate a portfolio of major infrastructure projects."""


@main.command()
@click.argument("target", type=click.Path())
@guarded
def validate(target):
    """Check a scenario's data (or a data folder); list every problem with file, line and column."""
    from scenarios.load import load_target
    from portfolio.summary import validation_summary

    portfolio, settings = load_target(target)
    click.echo(validation_summary(portfolio, settings))


if __name__ == "__main__":
    main()
