"""``reconciler serve``: the embedded registry behind the Auth0 Management API routes."""

from __future__ import annotations

import secrets
import ssl
import sys
from pathlib import Path

import click

from reconciler.server.listener import Server
from reconciler.server.ratelimit import PRESETS, parse_rate_limit
from reconciler.tenant.engine import Tenant

__all__ = ["serve", "serve_command"]

DEFAULT_DB = Path(".reconciler/registry.db")
DEFAULT_PORT = 4010


def _rate_limit(ctx: click.Context, param: click.Parameter, value: str) -> str:
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
    "--rate-limit",
    default="off",
    show_default=True,
    callback=_rate_limit,
    help=f"Auth0 tier to imitate ({'|'.join(PRESETS)}) or BURST/RATE per second.",
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
    rate_limit: str,
    client_id: str | None,
    client_secret: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve the embedded registry as an Auth0 Management API (clients routes) until Ctrl-C."""
    if tls_key is not None and tls_cert is None:
        raise click.UsageError("--tls-key needs --tls-cert")
    generated_secret = client_secret is None
    client_id = client_id or secrets.token_urlsafe(24)
    client_secret = client_secret or secrets.token_urlsafe(48)
    tenant = Tenant(db)
    try:
        server = Server(
            tenant,
            host=host,
            port=port,
            client_id=client_id,
            client_secret=client_secret,
            rate_limit=rate_limit,
            ssl_context=_tls_context(tls_cert, tls_key),
            access_log=sys.stderr,
        )
        try:
            base_url = server.bind()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        _announce(base_url, db, client_id, client_secret if generated_secret else None)
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


def _announce(base_url: str, db: Path, client_id: str, generated_secret: str | None) -> None:
    click.echo(f"Auth0 Management API emulator for {db} listening on {base_url}")
    click.echo(f"  management API: {base_url}/api/v2/  (audience {base_url}/api/v2/)")
    click.echo(f"  token:          POST {base_url}/oauth/token  grant_type=client_credentials")
    click.echo(f"  client_id:      {client_id}")
    if generated_secret is not None:
        click.echo(f"  client_secret:  {generated_secret}  (generated; shown only now)")
    else:
        click.echo("  client_secret:  the one you gave")
    click.echo("Ctrl-C to stop.")
