"""The command line: parse, call one function, render, choose the exit code."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import __version__
from reconciler.core.color import COLOR_CHOICES, color_wanted
from reconciler.core.comment import COMMENT_BUDGET
from reconciler.diagnostics import Diagnostic, render_diagnostics
from reconciler.errors import InputError, ManifestError, ReconcilerError

if TYPE_CHECKING:
    from reconciler.apply.applier import ApplyReport, ChangeResult
    from reconciler.core.environments import EnvironmentSection
    from reconciler.core.plan import Plan
    from reconciler.manifests.workspace import Options
    from reconciler.pipeline.environments import EnvironmentsRequest
    from reconciler.registries.dcr.registry import DcrRegistry

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])

INTERRUPTED = 130  # Ctrl-C, as a shell reports it: 128 + SIGINT

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
    click.option(
        "--auth0-base-url",
        "auth0_base_url",
        default=None,
        help="Auth0 API base URL, e.g. a custom domain or a local `reconciler serve`.",
    ),
    click.option(
        "--auth0-audience",
        "auth0_audience",
        default=None,
        help="Management API audience (else AUTH0_AUDIENCE, else https://DOMAIN/api/v2/ of "
        "auth0://DOMAIN): the tenant's own domain, also when a custom domain is used.",
    ),
    click.option(
        "--max-rps",
        "max_rps",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Cap on requests per second to the registry.",
    ),
    click.option(
        "--parallelism",
        "parallelism",
        type=click.IntRange(1, 64),
        default=None,
        help="Writes in flight at once (default: 4 for Auth0, 1 otherwise).",
    ),
    click.option(
        "--timeout",
        "timeout",
        type=click.FloatRange(min=0.1),
        default=None,
        help="HTTP read timeout of a registry request, in seconds (default 30).",
    ),
    click.option(
        "--lock-timeout",
        "lock_timeout",
        type=click.FloatRange(min=0),
        default=None,
        help="How long apply waits for another apply's lock or lease (default 600 s).",
    ),
    click.option(
        "--no-lock",
        "no_lock",
        is_flag=True,
        default=None,
        help="Take no apply lock or lease (as terraform -lock=false).",
    ),
    click.option(
        "--color",
        "color",
        type=click.Choice(COLOR_CHOICES),
        default=None,
        help="Colour the text output: auto (on a terminal, unless NO_COLOR is set), "
        "always (CI logs that render ANSI), never.",
    ),
    click.option(
        "--no-color", "no_color", is_flag=True, default=None, help="Same as --color never."
    ),
]


TARGET_OPTION = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="KEY",
    help="Plan only apps whose key matches (repeatable; * and ? globs).",
)


ALL_ENVS_OPTION = click.option(
    "--all-envs",
    is_flag=True,
    help="Every environment of reconciler.yaml, concurrently, in one report; "
    "exit with the worst exit code of them.",
)
PARALLEL_ENVS_OPTION = click.option(
    "--parallel-envs",
    "parallel_envs",
    type=click.IntRange(1, 64),
    help="With --all-envs: environments run at once (each has its own rate limit) "
    "[default: 32, pipeline/environments.py].",
)


def parse_shard(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int] | None:
    """``K/N``: the K-th of N shards, 1 <= K <= N."""
    if value is None:
        return None
    index, slash, count = value.partition("/")
    if slash and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count):
        return int(index), int(count)
    raise click.BadParameter(f"{value!r} is not K/N with 1 <= K <= N (e.g. 2/4)")


SHARD_OPTION = click.option(
    "--shard",
    "shard",
    metavar="K/N",
    default=None,
    callback=parse_shard,
    help="With --all-envs: only every N-th environment from the K-th (a CI matrix of N jobs).",
)


def global_options(function: F) -> F:
    """The options every command takes, before or after the subcommand name."""
    for option in reversed(_GLOBAL_OPTIONS):
        function = option(function)
    return function


def options_from(ctx: click.Context, paths: tuple[Path, ...], **given: Any) -> Options:
    """Merge the group's global options with the subcommand's (the subcommand wins)."""
    from reconciler.manifests.workspace import Options

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
        auth0_base_url=pick("auth0_base_url"),
        auth0_audience=pick("auth0_audience"),
        max_rps=pick("max_rps"),
        parallelism=pick("parallelism"),
        timeout=pick("timeout"),
        lock_timeout=pick("lock_timeout"),
        no_lock=bool(pick("no_lock")),
        targets=tuple(given.get("targets") or ()),
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
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(INTERRUPTED)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                click.echo("Interrupted.", err=True)
                sys.exit(INTERRUPTED)
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except ManifestError as exc:
            for diagnostic in exc.diagnostics:
                click.echo(str(diagnostic), err=True)
            sys.exit(exc.exit_code)
        except ReconcilerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"error: {exc.strerror or exc}{where}", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug: say so plainly, traceback only on request
            if os.environ.get("RECONCILER_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc} "
                "(set RECONCILER_DEBUG=1 for the traceback, and please report it)",
                err=True,
            )
            sys.exit(1)
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
    from reconciler.manifests.workspace import Workspace

    workspace = Workspace.open(options_from(ctx, paths, **given))
    report = workspace.validate(all_envs=all_envs, strict=strict)
    if workspace.config.path is None:
        _refuse_variables_without_settings(report.diagnostics)
    summary = {"files": report.files, "apps": report.apps, "environments": report.environments}
    root = None
    if fmt == "github":
        from reconciler.github import repository_root

        root = repository_root()
    output = render_diagnostics(report.diagnostics, fmt, summary, root=root)
    if output:
        click.echo(output)
    ctx.exit(0 if report.ok else 1)


def _refuse_variables_without_settings(diagnostics: Sequence[Diagnostic]) -> None:
    """Without a reconciler.yaml no variable is defined: say so once, not once per use."""
    undefined = sum(1 for d in diagnostics if d.rule == "undefined-variable")
    if undefined:
        raise InputError(
            f"no reconciler.yaml found in {Path.cwd()} or its parents, so no variable is "
            f"defined ({undefined} uses in the manifests); point at it with "
            "--config path/to/reconciler.yaml (in .pre-commit-config.yaml: "
            "args: [--config, path/to/reconciler.yaml])"
        )


@cli.command("plan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Save the plan (JSON) for `apply PLAN`; with --all-envs, a directory to save "
    "NAME.json in for each environment.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="github: workflow annotations at each app's manifest location.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--locked", is_flag=True, help="Refuse (exit 3) CIMD documents that differ from the lock."
)
@TARGET_OPTION
@click.option(
    "--first-run",
    is_flag=True,
    help="The registry's local state (DCR) does not exist yet: register every app anew.",
)
@click.option(
    "--comment-budget",
    "comment_budget",
    type=click.IntRange(min=1000),
    default=COMMENT_BUDGET,
    show_default=True,
    help="Bytes a --format markdown comment may take; details past it are left out.",
)
@ALL_ENVS_OPTION
@PARALLEL_ENVS_OPTION
@SHARD_OPTION
@global_options
@click.pass_context
def plan_command(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    strict: bool,
    locked: bool,
    first_run: bool,
    comment_budget: int,
    all_envs: bool,
    parallel_envs: int | None,
    shard: tuple[int, int] | None,
    **given: Any,
) -> None:
    """Show what apply would change, without changing anything."""
    from reconciler.core.render import render_markdown
    from reconciler.github import gather_comment_context
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline import plan_exit_code, plan_workspace
    from reconciler.pipeline.environments import (
        DEFAULT_PARALLEL_ENVS,
        EnvironmentsRequest,
        plan_environments,
    )

    workspace = Workspace.open(options_from(ctx, paths, **given))
    refuse_shard_without_all_envs(shard, all_envs)
    if all_envs:
        request = EnvironmentsRequest(
            parallel=parallel_envs or DEFAULT_PARALLEL_ENVS,
            strict=strict,
            locked=locked,
            first_run=first_run,
            detailed_exitcode=detailed_exitcode,
            shard=shard,
        )
        sections = plan_environments(workspace, request)
        shown = f"{shard[0]}/{shard[1]}" if shard else ""
        ctx.exit(show_environments(ctx, given, sections, fmt, out, comment_budget, shown))
    if out is not None and out.is_dir():
        raise InputError(f"-o {out} is a directory: a plan is one file (--all-envs saves many)")
    planned = plan_workspace(
        workspace, Terminal(ctx, given, fmt), strict=strict, locked=locked, first_run=first_run
    )
    plan = planned.plan
    if out is not None:
        write_file(out, plan.to_json())
    color = color_of(ctx, given)
    if fmt == "markdown":
        context = gather_comment_context(
            plan,
            environ=os.environ,
            cwd=Path.cwd(),
            warnings=planned.warnings,
            registry=planned.desired.environment.written_registry,
            budget=comment_budget,
            saved_plan=str(out) if out is not None else "",
        )
        click.echo(render_markdown(plan, context), nl=False)
    else:
        click.echo(render(plan, fmt, color=color), nl=False, color=color)
    ctx.exit(plan_exit_code(plan, detailed=detailed_exitcode))


@cli.command("pull")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing (exit 2 if any).")
@TARGET_OPTION
@global_options
@click.pass_context
def pull_command(
    ctx: click.Context, /, paths: tuple[Path, ...], dry_run: bool, **given: Any
) -> None:
    """Write edits made elsewhere (drift) back into the manifests: only the drifted fields,
    at the app that declares them, every other line as it was."""
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline.pulling import pull_workspace

    workspace = Workspace.open(options_from(ctx, paths, **given))
    pulled = pull_workspace(workspace, Terminal(ctx, given), dry_run=dry_run)
    for edit in pulled.edits:
        if dry_run:
            click.echo(edit.diff(), nl=False)
        else:
            click.echo(f"{edit.name}: pulled {', '.join(edit.fields)}")
    if not pulled.edits and pulled.left:
        click.echo("Nothing pulled: the warnings say what was left as it is, and why.")
    elif not pulled.edits:
        click.echo("Nothing to pull: no field differs only by an edit made elsewhere.")
    ctx.exit(pulled.exit_code)


@cli.command("apply")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--force", is_flag=True, help="Apply even past the safety thresholds.")
@click.option(
    "--secrets-out",
    type=click.Path(path_type=Path),
    help="JSON file (mode 0600) for new client secrets; with --all-envs, a directory "
    "for one NAME.json per environment.",
)
@click.option("--continue-on-error", is_flag=True, help="Go on after a change fails.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--locked", is_flag=True, help="Refuse (exit 3) CIMD documents that differ from the lock."
)
@TARGET_OPTION
@click.option(
    "--first-run",
    is_flag=True,
    help="The registry's local state (DCR) does not exist yet: register every app anew.",
)
@ALL_ENVS_OPTION
@PARALLEL_ENVS_OPTION
@SHARD_OPTION
@global_options
@click.pass_context
def apply_command(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    auto_approve: bool,
    force: bool,
    secrets_out: Path | None,
    continue_on_error: bool,
    strict: bool,
    locked: bool,
    first_run: bool,
    all_envs: bool,
    parallel_envs: int | None,
    shard: tuple[int, int] | None,
    **given: Any,
) -> None:
    """Apply a saved plan (apply PLAN.json), or plan and apply in one run."""
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline import LOCK_NAME, ApplyRequest, apply_workspace
    from reconciler.pipeline.environments import DEFAULT_PARALLEL_ENVS, EnvironmentsRequest

    refuse_shard_without_all_envs(shard, all_envs)
    if all_envs:
        every = EnvironmentsRequest(
            parallel=parallel_envs or DEFAULT_PARALLEL_ENVS,
            strict=strict,
            locked=locked,
            first_run=first_run,
            secrets_dir=secrets_out,
            auto_approve=auto_approve,
            force=force,
            continue_on_error=continue_on_error,
            shard=shard,
        )
        ctx.exit(apply_every_environment(ctx, given, paths, every))
    if secrets_out is not None and secrets_out.is_dir():
        raise InputError(f"--secrets-out {secrets_out} is a directory (--all-envs writes one)")
    saved = saved_plan(paths)
    if saved is not None and given.get("targets"):
        raise InputError(
            f"{saved}: a saved plan keeps the scope it was made with; "
            "plan again with --target instead"
        )
    workspace = Workspace.open(options_from(ctx, () if saved else paths, **given))
    request = ApplyRequest(
        saved=saved,
        secrets_out=secrets_out,
        auto_approve=auto_approve,
        force=force,
        continue_on_error=continue_on_error,
        strict=strict,
        locked=locked,
        first_run=first_run,
    )
    applied = apply_workspace(workspace, request, Terminal(ctx, given))
    if applied.locked_urls:
        click.echo(f"{LOCK_NAME}: recorded {len(applied.locked_urls)} document(s) just registered.")
    ctx.exit(applied.exit_code)


@cli.command("show")
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
)
@global_options
@click.pass_context
def show_command(ctx: click.Context, /, plan_file: Path, fmt: str, **given: Any) -> None:
    """Render a saved plan (its checksum checked, as apply does); the registry is not read."""
    from reconciler.core.plan import Plan

    plan = Plan.from_json(plan_file.read_text("utf-8"), str(plan_file))
    color = color_of(ctx, given)
    click.echo(render(plan, fmt, color=color), nl=False, color=color)


@cli.command("rotate-secret")
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--secrets-out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON file (mode 0600) the new secrets are written to.",
)
@click.option("--auto-approve", is_flag=True, help="Rotate without asking.")
@global_options
@click.pass_context
def rotate_secret_command(
    ctx: click.Context,
    /,
    keys: tuple[str, ...],
    secrets_out: Path,
    auto_approve: bool,
    **given: Any,
) -> None:
    """Replace the client secret of each app KEY (globs allowed) and deliver the new one.

    The old secret stops working at once. A run stopped part way leaves the app marked as
    pending, and the next apply or rotate-secret delivers its secret."""
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline import rotate_secrets

    workspace = Workspace.open(options_from(ctx, (), **given))
    rotated = rotate_secrets(
        workspace, keys, secrets_out, Terminal(ctx, given), auto_approve=auto_approve
    )
    ctx.exit(rotated.exit_code)


@cli.command("lock")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@global_options
@click.pass_context
def lock_command(ctx: click.Context, /, paths: tuple[Path, ...], **given: Any) -> None:
    """Fetch every CIMD document, validate it, and record it in reconciler.lock."""
    from reconciler.cimd.lockfile import LockFile
    from reconciler.cimd.sources import gather_sources
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline import LOCK_NAME, load_desired, update_lock
    from reconciler.pipeline.planning import make_fetcher

    workspace = Workspace.open(options_from(ctx, paths, **given))
    desired = load_desired(workspace)
    path = workspace.config.root / LOCK_NAME
    with make_fetcher(desired.environment.cimd) as fetcher:
        sources = gather_sources(desired.in_scope(), (), fetcher, LockFile(path), strict=True)
    show_warnings(sources.diagnostics)
    written = update_lock(path, list(sources.documents.values()))
    click.echo(f"{LOCK_NAME}: {len(written)} document(s) recorded, {len(sources.errors)} refused.")
    ctx.exit(1 if sources.errors else 0)


@cli.command("export")
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("exported"),
    show_default=True,
)
@click.option(
    "--merge",
    is_flag=True,
    help="Into a folder that holds manifests: write only the apps no manifest declares yet.",
)
@global_options
@click.pass_context
def export_command(ctx: click.Context, /, out: Path, merge: bool, **given: Any) -> None:
    """Write the registry's apps as manifests (no secrets, no stamps), with the APIs and
    connections each may use where the registry holds them, and the tenant's grants for
    every third-party app. A folder that holds manifests is refused, unless --merge."""
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline.adopting import export_workspace

    workspace = Workspace.open(options_from(ctx, (), **given))
    exported = export_workspace(workspace, out, merge=merge)
    for line in exported.skipped:
        click.echo(f"warning: {line}", err=True)
    if exported.declared:
        click.echo(f"Left out {len(exported.declared)} apps declared already.")
    click.echo(f"Exported {len(exported.apps)} apps to {out}/")
    if exported.third_party_apis is not None:
        click.echo(f"The tenant's grants for third-party apps: {exported.third_party_apis}")
    if exported.files:
        written = replace(
            workspace.options, paths=tuple(exported.files), config=workspace.config.path
        )
        report = Workspace.open(written).validate()
        if report.diagnostics:
            show_warnings(report.diagnostics)
        if not report.ok:
            click.echo(
                "The registry holds apps that these rules refuse (the files say what it "
                "holds): fix them before applying.",
                err=True,
            )
            ctx.exit(1)


@cli.command("adopt")
@click.argument("client_ids", nargs=-1, required=True, metavar="CLIENT_ID...")
@click.option(
    "--into",
    "into",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Manifest file the apps are appended to (made if missing).",
)
@click.option("--key", "key", default=None, help="The app key (one CLIENT_ID only).")
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@global_options
@click.pass_context
def adopt_command(
    ctx: click.Context,
    /,
    client_ids: tuple[str, ...],
    into: Path,
    key: str | None,
    dry_run: bool,
    **given: Any,
) -> None:
    """Declare existing apps that no manifest manages in FILE, with `client_id:` so the next
    apply adopts them: only what differs from the defaults, their APIs and connections,
    no secrets."""
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline.adopting import adopt_apps

    workspace = Workspace.open(options_from(ctx, (), **given))
    adopted = adopt_apps(workspace, client_ids, into, key=key, write=not dry_run)
    if dry_run:
        click.echo(adopted.diff(), nl=False)
    for client_id, app_key in adopted.keys.items():
        click.echo(f"{into}: {app_key} adopts {client_id}")
    show_warnings(adopted.warnings)
    if not dry_run:
        click.echo("Run plan to see the adoption: apply stamps the apps, and changes nothing else.")


@cli.group("registry")
def registry_group() -> None:
    """Work on the embedded registry directly (rehearsals, fixtures)."""


@registry_group.command("seed")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@global_options
@click.pass_context
def seed_command(ctx: click.Context, /, file: Path, **given: Any) -> None:
    """Load what exists before reconciler: FILE holds `clients` (Auth0 client objects) and
    optionally `resource_servers`, `client_grants`, `connections` and `tenant_settings`."""
    from reconciler.manifests.workspace import Workspace
    from reconciler.manifests.yamlfile import load_yaml_file
    from reconciler.registries.sqlite import seed_sqlite
    from reconciler.tenant.seeding import SEED_KINDS

    workspace = Workspace.open(options_from(ctx, (), **given))
    environment = workspace.environment()
    source = load_yaml_file(file)
    data = source.data if isinstance(source.data, dict) else None
    lists = [data.get(kind, []) for kind in SEED_KINDS] if data is not None else [None]
    if not all(
        isinstance(items, list) and all(isinstance(i, dict) for i in items) for items in lists
    ):
        raise InputError(
            f"{source.locate(())}: a seed file holds `clients:` (and optionally "
            "`resource_servers:`, `client_grants:`, `connections:`), lists of Auth0 objects"
        )
    seeded = seed_sqlite(environment.registry, data or {})
    added, kept = seeded.added["clients"], seeded.kept["clients"]
    click.echo(f"Seeded {len(added)} apps into {environment.registry} ({len(kept)} already there).")
    for kind in ("resource_servers", "client_grants", "connections"):
        if seeded.added[kind] or seeded.kept[kind]:
            added_count, kept_count = len(seeded.added[kind]), len(seeded.kept[kind])
            label = kind.replace("_", " ")
            click.echo(f"Seeded {added_count} {label} ({kept_count} already there).")
    if seeded.settings is not None:
        settings = ", ".join(f"{name}: {json.dumps(v)}" for name, v in seeded.settings.items())
        click.echo(f"Tenant settings: {settings}.")


class LazyCommand(click.Command):
    """A command another package defines, imported only when it runs (its --help too), so
    that listing it in ``reconciler --help`` loads nothing but its summary."""

    def __init__(self, name: str, load: Callable[[], click.Command], summary: str) -> None:
        super().__init__(name, help=summary, add_help_option=False)
        self.load = load

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self.load().make_context(info_name, args, parent, **extra)


def load_serve() -> click.Command:
    from reconciler.server import serve

    return serve


cli.add_command(
    LazyCommand(
        "serve",
        load_serve,
        "Serve the embedded registry as an Auth0 Management API (clients routes) until Ctrl-C.",
    )
)


@cli.group("dcr")
def dcr_group() -> None:
    """Manage the local state of a dcr+https:// registry (RFC 7592 cannot list clients)."""


def open_dcr_state(ctx: click.Context, given: dict[str, Any]) -> DcrRegistry:
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline import connection_for, open_for
    from reconciler.registries.dcr.registry import DcrRegistry

    workspace = Workspace.open(options_from(ctx, (), **given))
    registry = open_for(workspace.environment(), connection_for(workspace))
    if not isinstance(registry, DcrRegistry):
        raise InputError(f"{registry.uri} is not a dcr+https:// registry")
    return registry


@dcr_group.command("orphans")
@click.option("--dismiss", multiple=True, metavar="ID", help="Forget a reported intent.")
@global_options
@click.pass_context
def dcr_orphans(ctx: click.Context, /, dismiss: tuple[str, ...], **given: Any) -> None:
    """List registrations that were sent but never recorded (clients that may exist)."""
    with closing(open_dcr_state(ctx, given)) as registry, registry.lock():
        if dismiss:
            registry.dismiss_orphans(dismiss)
        for intent in registry.orphans():
            click.echo(f"{intent.id}  {intent.orphan_message()}")


@dcr_group.command("forget")
@click.argument("key")
@global_options
@click.pass_context
def dcr_forget(ctx: click.Context, /, key: str, **given: Any) -> None:
    """Drop KEY from the state (its client, if any, stays on the server)."""
    with closing(open_dcr_state(ctx, given)) as registry, registry.lock():
        registry.forget(key)
    click.echo(f"{key}: no longer in {registry.state.path}; the next apply registers it anew.")


@dcr_group.command("adopt")
@click.argument("key")
@click.argument("client_id")
@click.option("--registration-client-uri", default=None, help="As the server gave it.")
@global_options
@click.pass_context
def dcr_adopt(
    ctx: click.Context,
    /,
    key: str,
    client_id: str,
    registration_client_uri: str | None,
    **given: Any,
) -> None:
    """Manage CLIENT_ID as KEY; its registration access token comes from
    DCR_REGISTRATION_ACCESS_TOKEN (never the command line, which other users can see)."""
    token = os.environ.get("DCR_REGISTRATION_ACCESS_TOKEN")
    if not token:
        raise InputError(
            "set DCR_REGISTRATION_ACCESS_TOKEN to the client's registration access token"
        )
    from reconciler.manifests.workspace import Workspace

    owner = Workspace.open(options_from(ctx, (), **given)).environment().owner
    with closing(open_dcr_state(ctx, given)) as registry, registry.lock():
        registry.adopt(key, client_id, token, registration_client_uri, owner=owner)
    click.echo(f"{key}: managing client {client_id}; plan to see what converging it changes.")


def show_environments(
    ctx: click.Context,
    given: dict[str, Any],
    sections: list[EnvironmentSection],
    fmt: str,
    out: Path | None,
    budget: int,
    shard: str,
) -> int:
    """``plan --all-envs``: save each plan under ``out``, print one report, its exit code."""
    from reconciler.core.environments import (
        distinct_warnings,
        render_environments_github,
        render_environments_json,
        render_environments_markdown,
        render_environments_text,
    )
    from reconciler.github import gather_comment_context, repository_root
    from reconciler.pipeline.environments import worst_exit_code

    code = worst_exit_code([section.exit_code for section in sections])
    if out is not None:
        for section in sections:
            if section.plan is not None:
                write_file(out / f"{section.name}.json", section.plan.to_json())
    show_warnings(distinct_warnings(sections), fmt)
    color = color_of(ctx, given)
    if fmt == "json":
        click.echo(render_environments_json(sections, code), nl=False)
    elif fmt == "markdown":
        contexts = {
            section.name: gather_comment_context(
                section.plan,
                environ=os.environ,
                cwd=Path.cwd(),
                warnings=section.warnings,
                registry=section.registry,
                saved_plan=str(out / f"{section.name}.json") if out is not None else "",
            )
            for section in sections
            if section.plan is not None
        }
        click.echo(
            render_environments_markdown(sections, code, contexts, budget=budget, shard=shard),
            nl=False,
        )
    elif fmt == "github":
        click.echo(render_environments_github(sections, root=repository_root()), nl=False)
    else:
        click.echo(render_environments_text(sections, code, color=color), nl=False, color=color)
    return code


def apply_every_environment(
    ctx: click.Context, given: dict[str, Any], paths: tuple[Path, ...], request: EnvironmentsRequest
) -> int:
    """``apply --all-envs``: one combined plan, one approval, one report."""
    from reconciler.core.environments import distinct_warnings, render_environments_text
    from reconciler.manifests.workspace import Workspace
    from reconciler.pipeline import LOCK_NAME
    from reconciler.pipeline.environments import (
        apply_environments,
        saved_plans_dir,
        saved_plans_in,
        worst_exit_code,
    )

    plans_dir = saved_plans_dir(paths)
    workspace = Workspace.open(options_from(ctx, () if plans_dir else paths, **given))
    saved = saved_plans_in(plans_dir, workspace) if plans_dir is not None else None
    terminal = Terminal(ctx, given)
    color = color_of(ctx, given)
    shown: list[bool] = []

    def show_plans(sections: list[EnvironmentSection]) -> None:
        show_warnings(distinct_warnings(sections))
        code = worst_exit_code([section.exit_code for section in sections])
        click.echo(render_environments_text(sections, code, color=color), nl=False, color=color)
        shown.append(True)

    sections = apply_environments(
        workspace,
        request,
        show_plans=show_plans,
        confirm=terminal.confirm,
        announce=lambda line: click.echo(line, err=True),
        saved=saved,
    )
    code = worst_exit_code([section.exit_code for section in sections])
    if not shown:
        show_warnings(distinct_warnings(sections))
    text = render_environments_text(sections, code, color=color, plans=not shown)
    click.echo(text, nl=False, color=color)
    locked = sum(len(section.locked_urls) for section in sections)
    if locked:
        click.echo(f"{LOCK_NAME}: recorded {locked} document(s) just registered.")
    return code


def render(plan: Plan, fmt: str, *, color: bool) -> str:
    from reconciler.core.render import RENDERERS, render_github, render_text
    from reconciler.github import repository_root

    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "github":
        return render_github(plan, root=repository_root())
    return RENDERERS[fmt](plan)


def color_of(ctx: click.Context, given: dict[str, Any]) -> bool:
    """--color / --no-color, after the subcommand or before it; else auto."""
    outer: dict[str, Any] = ctx.obj or {}
    choice = _color_choice(given) or _color_choice(outer) or "auto"
    return color_wanted(choice, environ=os.environ, is_terminal=is_terminal())


def _color_choice(options: dict[str, Any]) -> str | None:
    color: str | None = options.get("color")
    if not options.get("no_color"):
        return color
    if color not in (None, "never"):
        raise click.UsageError(f"--no-color contradicts --color {color}")
    return "never"


def saved_plan(paths: tuple[Path, ...]) -> Path | None:
    """``apply plan.json``: one argument that is a file holding a saved plan."""
    if len(paths) == 1 and paths[0].suffix == ".json" and paths[0].is_file():
        return paths[0]
    return None


def refuse_shard_without_all_envs(shard: tuple[int, int] | None, all_envs: bool) -> None:
    if shard is not None and not all_envs:
        raise click.UsageError("--shard takes a share of --all-envs: give --all-envs too")


def show_warnings(warnings: list[Diagnostic], fmt: str = "text") -> None:
    """On stderr; under --format github, as annotations on stdout instead."""
    from reconciler.github import repository_root

    if fmt == "github":
        if warnings:
            click.echo(render_diagnostics(warnings, "github", {}, root=repository_root()))
        return
    for warning in warnings:
        click.echo(str(warning), err=True)


class Terminal:
    """The use cases' Console: the plan and the report on stdout, the rest on stderr."""

    def __init__(self, ctx: click.Context, given: dict[str, Any], fmt: str = "text") -> None:
        self.ctx, self.given, self.fmt = ctx, given, fmt

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        show_warnings(list(diagnostics), self.fmt)

    def show_plan(self, plan: Plan) -> None:
        from reconciler.core.render import render_text

        color = color_of(self.ctx, self.given)
        click.echo(render_text(plan, color=color), nl=False, color=color)

    def confirm(self) -> None:
        if not sys.stdin.isatty():
            raise InputError(
                "refusing to apply without confirmation: not a terminal; pass --auto-approve"
            )
        if not click.confirm("Apply these changes?", default=False):
            raise InputError("apply cancelled")

    def progress(self, index: int, total: int, result: ChangeResult) -> None:
        from reconciler.apply.report import progress_line

        click.echo(progress_line(index, total, result), err=True)

    def show_report(self, report: ApplyReport) -> None:
        from reconciler.apply.report import render_report

        click.echo(render_report(report))


def is_terminal() -> bool:
    return sys.stdout.isatty()


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    cli.main()
