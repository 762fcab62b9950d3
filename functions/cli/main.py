"""``rollback``: start, follow and list rollbacks from a terminal, against AWS or the local emulators.

The runbook's ``./scripts/rollback.sh --environment=production --version=v1.0.0-rc.5 --confirm``, as a client of
the deployed workflows (the state machine ``<stack>-kubernetes-app``):

    rollback start kubernetes_app --service skillancer --environment production \\
        --deployment skillancer-web --deployment skillancer-api --version v1.0.0-rc.5 --reason "..." --confirm
    rollback status [EXECUTION] [--follow]
    rollback list [--status RUNNING]
    rollback history SERVICE
"""

from __future__ import annotations

import argparse
import sys

from functions.cli import listing, start, status
from functions.cli.aws import translated_errors
from functions.cli.errors import EXIT_CODES, CliError

EPILOG = f"""\
Without --confirm, start only shows what it would start. Credentials and region come from the usual AWS
settings (profile, environment) unless --region is given. `rollback COMMAND --help` for each command.

{EXIT_CODES}"""


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    aws = common.add_argument_group("where the pipeline runs")
    aws.add_argument("--endpoint-url", metavar="URL", help="Step Functions endpoint, e.g. the local emulators' URL")
    aws.add_argument("--region", help="AWS region (default: from the AWS profile or environment)")
    aws.add_argument(
        "--stack", default="RollbackPipeline", help="stack whose workflows to use (default: RollbackPipeline)"
    )
    common.add_argument(
        "--output", choices=["text", "json"], default="text", help="text for people, json for scripts (default: text)"
    )
    return common


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="rollback",
        description="Start, follow and list rollbacks of the deployed rollback pipeline (AWS or the emulators).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()
    start.add_parser(commands, common)
    status.add_parser(commands, common)
    listing.add_parsers(commands, common)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with translated_errors():
            code: int = args.handler(args)
    except CliError as error:
        print(f"rollback: {error}", file=sys.stderr)
        return error.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
