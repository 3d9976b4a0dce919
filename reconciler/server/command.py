"""``reconciler serve``: the embedded registry behind the Auth0 Management API routes."""

from __future__ import annotations

import secrets
import ssl
import sys
from pathlib import Path

import click

from reconciler.server.assertions import KEY_ALGORITHMS, rsa_public_key
from reconciler.server.auth import MANAGEMENT_SCOPES
from reconciler.server.control import CONTROL_SECRET_HEADER, is_loopback
from reconciler.server.listener import Server
from reconciler.server.ratelimit import PLAN_RATE_LIMITS, PRESETS, parse_rate_limit
from reconciler.tenant.engine import Tenant
from reconciler.tenant.limits import ENTITIES, NO_LIMITS, PLANS, EntityLimits

__all__ = ["serve", "serve_command"]

DEFAULT_DB = Path(".reconciler/registry.db")
DEFAULT_PORT = 4010


def _rate_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_rate_limit(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command("serve")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file of the embedded registry.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="0: any free port.")
@click.option(
    "--plan",
    type=click.Choice(list(PLANS)),
    help="Auth0 plan to imitate: its entity limits (10 applications on free) and, unless "
    "--rate-limit says otherwise, its rate limit [default: no limits].",
)
@click.option(
    "--rate-limit",
    callback=_rate_limit,
    help=f"Auth0 tier to imitate ({'|'.join(PRESETS)}) or BURST/RATE per second "
    "[default: the --plan's, else off].",
)
@click.option(
    "--retry-after/--no-retry-after",
    default=False,
    show_default=True,
    help="Add Retry-After to a rate-limit 429 (Auth0 documents only x-ratelimit-reset).",
)
@click.option(
    "--control-secret",
    envvar="RECONCILER_SERVE_CONTROL_SECRET",
    help=f"Secret the /__control/ routes require in {CONTROL_SECRET_HEADER} "
    "[env RECONCILER_SERVE_CONTROL_SECRET; default: none on a loopback --host, where "
    "they answer this machine only; generated on any other].",
)
@click.option(
    "--client-id",
    envvar="RECONCILER_SERVE_CLIENT_ID",
    help="Management client id [env RECONCILER_SERVE_CLIENT_ID; default: generated].",
)
@click.option(
    "--client-secret",
    envvar="RECONCILER_SERVE_CLIENT_SECRET",
    help="Management client secret [env RECONCILER_SERVE_CLIENT_SECRET; default: generated].",
)
@click.option(
    "--client-public-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="RECONCILER_SERVE_CLIENT_PUBLIC_KEY",
    help="PEM public key: the management client authenticates with private_key_jwt (client "
    "assertions signed by its private key) instead of a secret "
    "[env RECONCILER_SERVE_CLIENT_PUBLIC_KEY].",
)
@click.option(
    "--client-key-alg",
    type=click.Choice(KEY_ALGORITHMS),
    default="RS256",
    show_default=True,
    help="The algorithm of --client-public-key.",
)
@click.option(
    "--management-scopes",
    default=" ".join(MANAGEMENT_SCOPES),
    help="The scopes the management client is granted, space-separated (default: all of "
    "the clients, credentials, grants, APIs and connections ones).",
)
@click.option(
    "--tenant-domain",
    default=None,
    help="The tenant's own domain, e.g. tenant.eu.auth0.com: tokens must name its Management "
    "API (https://DOMAIN/api/v2/), as at Auth0, and the address served plays a custom "
    "domain (default: the address served).",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="PEM certificate chain: serve https.",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="PEM private key, if not in --tls-cert.",
)
def serve(
    db: Path,
    host: str,
    port: int,
    plan: str | None,
    rate_limit: str | None,
    retry_after: bool,
    control_secret: str | None,
    client_id: str | None,
    client_secret: str | None,
    client_public_key: Path | None,
    client_key_alg: str,
    management_scopes: str,
    tenant_domain: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve the embedded registry as an Auth0 Management API (clients routes) until Ctrl-C."""
    if tls_key is not None and tls_cert is None:
        raise click.UsageError("--tls-key needs --tls-cert")
    if client_public_key is not None and client_secret is not None:
        raise click.UsageError("--client-public-key and --client-secret: give one of them")
    if control_secret is not None and not control_secret.strip():
        raise click.BadParameter("must not be empty", param_hint="--control-secret")
    public_key = client_public_key.read_bytes() if client_public_key is not None else None
    if public_key is not None:
        try:
            rsa_public_key(public_key, client_key_alg)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--client-public-key") from None
    generated_secret = client_secret is None and public_key is None
    client_id = client_id or secrets.token_urlsafe(24)
    if public_key is None:
        client_secret = client_secret or secrets.token_urlsafe(48)
    generated_control = control_secret is None and not is_loopback(host)
    if generated_control:
        control_secret = secrets.token_urlsafe(32)
    limits = PLANS[plan] if plan else NO_LIMITS
    tenant = Tenant(db, limits=limits)
    try:
        server = Server(
            tenant,
            host=host,
            port=port,
            client_id=client_id,
            client_secret=client_secret,
            rate_limit=rate_limit or PLAN_RATE_LIMITS.get(plan or "", "off"),
            ssl_context=_tls_context(tls_cert, tls_key),
            access_log=sys.stderr,
            tenant_domain=tenant_domain,
            client_public_key=public_key,
            client_key_alg=client_key_alg,
            management_scopes=tuple(management_scopes.split()),
            retry_after=retry_after,
            control_secret=control_secret,
        )
        try:
            base_url = server.bind()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        audience = f"https://{tenant_domain}/api/v2/" if tenant_domain else f"{base_url}/api/v2/"
        if public_key is not None:
            credentials = "none: private_key_jwt, client assertions signed by its private key"
        elif generated_secret:
            credentials = f"{client_secret}  (generated; shown only now)"
        else:
            credentials = "the one you gave"
        _announce(base_url, audience, db, client_id, credentials)
        _announce_limits(limits)
        _announce_control(control_secret, generated=generated_control)
        click.echo("Ctrl-C to stop.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        finally:
            server.stop()
    finally:
        tenant.close()


serve_command = serve


def _tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise click.ClickException(f"cannot load the TLS certificate {cert}: {exc}") from exc
    return context


def _announce(base_url: str, audience: str, db: Path, client_id: str, credentials: str) -> None:
    """What the server is, and how its management client gets a token; a generated secret
    is in ``credentials``, so it is shown only now."""
    click.echo(f"Auth0 Management API emulator for {db} listening on {base_url}")
    click.echo(f"  management API: {base_url}/api/v2/  (audience {audience})")
    click.echo(f"  token:          POST {base_url}/oauth/token  grant_type=client_credentials")
    click.echo(f"  client_id:      {client_id}")
    click.echo(f"  client_secret:  {credentials}")


def _announce_limits(limits: EntityLimits) -> None:
    if limits.plan is None:
        return
    held = ", ".join(f"{most:,} {ENTITIES[entity]}" for entity, most in limits.most.items())
    click.echo(f"  plan:           {limits.plan} (at most {held})")


def _announce_control(secret: str | None, *, generated: bool) -> None:
    if secret is None:
        click.echo("  control:        /__control/ open to this machine only (loopback)")
    elif generated:
        click.echo(
            f"  control:        /__control/ with {CONTROL_SECRET_HEADER}: {secret}"
            "  (generated; shown only now)"
        )
    else:
        click.echo(f"  control:        /__control/ with {CONTROL_SECRET_HEADER}: the one you gave")
