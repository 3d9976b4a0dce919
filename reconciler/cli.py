"""The command line: parse, call one function, render, choose the exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import __version__
from reconciler.diagnostics import render_diagnostics
from reconciler.errors import ManifestError, ReconcilerError
from reconciler.workspace import Options, Workspace

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])

_GLOBAL_OPTIONS = [
    click.option(
        "--registry",
        "registry",
        default=None,
        help="Registry URI (sqlite:PATH, auth0://DOMAIN, dcr+https://ISSUER).",
    ),
    click.option("--env", "env", default=None, help="Environment from reconciler.yaml."),
    click.option(
        "--var", "vars", multiple=True, metavar="K=V", help="Set a variable (repeatable)."
    ),
    click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        help="YAML file of variables (repeatable).",
    ),
    click.option(
        "--config",
        "config",
        default=None,
        type=click.Path(path_type=Path, dir_okay=False),
        help="Settings file (default: the nearest reconciler.yaml).",
    ),
]


def global_options(function: F) -> F:
    """The options every command takes, before or after the subcommand name."""
    for option in reversed(_GLOBAL_OPTIONS):
        function = option(function)
    return function


def options_from(ctx: click.Context, paths: tuple[Path, ...], **given: Any) -> Options:
    """Merge the group's global options with the subcommand's (the subcommand wins)."""
    outer: dict[str, Any] = ctx.obj or {}

    def pick(name: str) -> Any:
        return given.get(name) if given.get(name) is not None else outer.get(name)

    return Options(
        paths=paths,
        config=pick("config"),
        env=pick("env"),
        vars=tuple(outer.get("vars", ())) + tuple(given.get("vars") or ()),
        var_files=tuple(outer.get("var_files", ())) + tuple(given.get("var_files") or ()),
        registry=pick("registry"),
    )


class ReconcilerGroup(click.Group):
    """Maps our errors and click's usage errors onto the documented exit codes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.ClickException as exc:
            exc.show()
            sys.exit(1)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except ManifestError as exc:
            for diagnostic in exc.diagnostics:
                click.echo(str(diagnostic), err=True)
            sys.exit(exc.exit_code)
        except ReconcilerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@global_options
@click.pass_context
def cli(ctx: click.Context, /, **global_values: Any) -> None:
    """OAuth applications as code: validate, plan and apply app manifests."""
    ctx.obj = global_values


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
)
@click.option("--all-envs", is_flag=True, help="Check every environment's variables in one run.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@global_options
@click.pass_context
def validate(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    fmt: str,
    all_envs: bool,
    strict: bool,
    **given: Any,
) -> None:
    """Check manifests against the schema and the OAuth lint rules."""
    workspace = Workspace.open(options_from(ctx, paths, **given))
    report = workspace.validate(all_envs=all_envs, strict=strict)
    summary = {"files": report.files, "apps": report.apps, "environments": report.environments}
    output = render_diagnostics(report.diagnostics, fmt, summary)
    if output:
        click.echo(output)
    ctx.exit(0 if report.ok else 1)


def main() -> None:
    cli.main()
