"""``rollback``: start, follow and list rollbacks from a terminal, against AWS or the local emulators.

The runbook's ``./scripts/rollback.sh --environment=production --version=... --confirm``, as a client of the
deployed workflows (one state machine per registered rollback type, ``<stack>-<type suffix>``):

    rollback start TYPE --service S --environment E --reason "..." <the type's own options> [--confirm]
    rollback status [EXECUTION] [--follow]
    rollback list [--status RUNNING]
    rollback history SERVICE
"""

from __future__ import annotations

import sys

import click

from rollback_cli import listing, revert, start, status
from rollback_cli.aws import translated_errors
from rollback_cli.console import RichGroup
from rollback_cli.errors import EXIT_CODES, INTERRUPTED, OK, CliError

EPILOG = f"""\
Without --confirm, start only shows what it would start. Credentials and region come from the usual AWS
settings (profile, environment) unless --region is given. `rollback COMMAND --help` for each command.

{EXIT_CODES}"""


def cli() -> click.Group:
    root = RichGroup(
        "rollback",
        help="Start, follow and list rollbacks of the deployed rollback pipeline (AWS or the emulators).",
        epilog=EPILOG,
        subcommand_metavar="COMMAND [ARGS]...",
    )
    for command in (
        start.start_group(),
        status.command(),
        revert.command(),
        listing.list_command(),
        listing.history_command(),
    ):
        root.add_command(command)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run the command; its exit code (see :mod:`rollback_cli.errors`)."""
    try:
        with translated_errors():
            code = cli().main(args=argv, prog_name="rollback", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        print("Aborted.", file=sys.stderr)
        return INTERRUPTED
    except CliError as error:
        print(f"rollback: {error}", file=sys.stderr)
        return error.exit_code
    return code if isinstance(code, int) else OK


if __name__ == "__main__":
    sys.exit(main())
