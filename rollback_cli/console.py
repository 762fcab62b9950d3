"""Where the command writes (rich consoles) and how its help reads (click commands whose help rich renders).

Data (tables, JSON) goes to stdout; messages to stderr. In a terminal both wrap to its width and use colour;
piped, nothing is coloured and table rows are never wrapped, so each stays one line for ``grep`` and ``awk``.
"""

from __future__ import annotations

import inspect
import io
import shutil
import sys
from typing import Any

import click
from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 10_000  # piped output: long rows stay on one line
HELP_WIDTH = 100  # help reads best at most this wide, even in a wide terminal
OPTIONS_PANEL = "Options"


def stdout() -> Console:
    """A console on the current ``sys.stdout`` (looked up on each write, so tests can capture it)."""
    terminal = sys.stdout.isatty()
    return Console(highlight=False, width=None if terminal else PIPE_WIDTH)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else PIPE_WIDTH)


class PanelOption(click.Option):
    """An option shown under a heading of its own in the help; ``needed`` ones are checked by the command
    itself (to name every missing one at once) and marked required in the help."""

    def __init__(self, *args: Any, panel: str = OPTIONS_PANEL, needed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.panel = panel
        self.needed = needed


class DocumentedArgument(click.Argument):
    """A positional argument with a help text (click's have none)."""

    def __init__(self, *args: Any, help: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = help


def missing_options(ctx: click.Context) -> list[str]:
    """The ``needed`` options not given, by their option name."""
    return [
        param.opts[0]
        for param in ctx.command.params
        if isinstance(param, PanelOption) and param.needed and ctx.params.get(param.name or "") in (None, (), "")
    ]


def _help_console(buffer: io.StringIO) -> Console:
    terminal = sys.stdout.isatty()
    width = min(shutil.get_terminal_size((80, 24)).columns, HELP_WIDTH) if terminal else 80
    return Console(
        file=buffer,
        width=width,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        highlight=False,
    )


def _paragraphs(text: str | None) -> list[str]:
    """``text``'s paragraphs (separated by blank lines), each re-flowed to the console's width."""
    return [" ".join(p.split()) for p in inspect.cleandoc(text or "").split("\n\n") if p.strip()]


def _panel(title: str, rows: list[tuple[str, str]]) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold cyan")
    grid.add_column(ratio=1)
    for left, right in rows:
        grid.add_row(Text(left), Text(right))
    return Panel(grid, title=title, title_align="left", box=box.ROUNDED, border_style="dim")


def _option_rows(command: click.Command, ctx: click.Context) -> dict[str, list[tuple[str, str]]]:
    panels: dict[str, list[tuple[str, str]]] = {}
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param.hidden:
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        spec, text = record
        if isinstance(param, PanelOption) and param.needed:
            text = f"{text}  [required]"
        panels.setdefault(getattr(param, "panel", OPTIONS_PANEL), []).append((spec, text))
    return panels


def render_help(command: click.Command, ctx: click.Context) -> str:
    """The help of ``command`` as rich renders it: usage, description, arguments, commands, options, epilog."""
    parts: list[RenderableType] = []
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    parts.append(Text.assemble(("Usage: ", "bold"), (usage, "bold")))
    for paragraph in _paragraphs(command.help):
        parts += [Text(""), Padding(Text(paragraph), (0, 0, 0, 1), expand=False)]
    parts.append(Text(""))
    arguments = [
        (param.human_readable_name, param.help or "")
        for param in command.get_params(ctx)
        if isinstance(param, DocumentedArgument)
    ]
    if arguments:
        parts.append(_panel("Arguments", arguments))
    if isinstance(command, click.Group):
        subcommands = [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)]
        rows = [(name, sub.get_short_help_str(limit=200)) for name, sub in subcommands if sub and not sub.hidden]
        parts.append(_panel(getattr(command, "commands_title", "Commands"), rows))
    for title, rows in _option_rows(command, ctx).items():
        parts.append(_panel(title, rows))
    for paragraph in _paragraphs(command.epilog):
        parts += [Text(""), Text(paragraph, style="dim")]
    buffer = io.StringIO()
    _help_console(buffer).print(Group(*parts))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


class RichCommand(click.Command):
    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write(render_help(self, ctx))


class RichGroup(click.Group):
    command_class = RichCommand
    group_class = type
    commands_title = "Commands"

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write(render_help(self, ctx))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they were added, not sorted
