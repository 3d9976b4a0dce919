"""Time to validate 10,000 apps in 100 files (target: under 2.5 s on 2 cores).

Usage: python bench/validate.py [--apps N] [--files N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from reconciler.manifests.workspace import Options, Workspace


def write_manifests(root: Path, apps: int, files: int) -> None:
    per_file = apps // files
    for f in range(files):
        lines = ["apps:"]
        for i in range(per_file):
            n = f * per_file + i
            kind = ("spa", "regular_web", "native", "m2m")[n % 4]
            lines.append(f"  app-{n:05d}:")
            lines.append(f"    name: App {n}")
            lines.append(f"    description: Generated application number {n}")
            lines.append(f"    type: {kind}")
            if kind == "m2m":
                lines.append("    grant_types: [client_credentials]")
                lines.append("    token_endpoint_auth_method: client_secret_post")
            else:
                host = f"app{n}.${{DOMAIN}}"
                cb = f"https://{host}/callback" if kind != "native" else f"com.example.app{n}://cb"
                method = "client_secret_basic" if kind == "regular_web" else "none"
                lines.append(f'    callbacks: ["{cb}", "https://{host}/cb2"]')
                lines.append(f'    allowed_logout_urls: ["https://{host}/"]')
                if kind == "spa":
                    lines.append(f'    web_origins: ["https://{host}"]')
                lines.append("    grant_types: [authorization_code, refresh_token]")
                lines.append(f"    token_endpoint_auth_method: {method}")
                lines.append(
                    "    refresh_token: {rotation_type: rotating, expiration_type: expiring}"
                )
            lines.append(f"    metadata: {{team: team-{n % 17}, cost_center: cc{n % 5}}}")
        (root / f"apps-{f:03d}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_manifests(root, args.apps, args.files)
        started = time.perf_counter()
        workspace = Workspace.open(Options(paths=(root,), vars=("DOMAIN=example.com",)))
        report = workspace.validate()
        elapsed = time.perf_counter() - started
    assert report.ok, report.diagnostics[:3]
    print(f"validate: {report.apps} apps in {report.files} files: {elapsed:.2f} s (target < 2.5 s)")


if __name__ == "__main__":
    main()
