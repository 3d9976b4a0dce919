"""The pre-commit hook answers at once: `--help` and `validate` load only what they use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import cli, load_serve
from tests.helpers import modules_loaded_by

ROOT = Path(__file__).resolve().parents[1]
#: What a valid repository without keys never needs: the planner's diff, the network,
#: key parsing, the schema errors' describer, the embedded registry.
HEAVY = {"deepdiff", "httpx", "cryptography", "jsonschema", "sqlite3", "_sqlite3"}

RUN_AND_LIST_MODULES = """
import json, sys
from reconciler.cli import main
sys.argv = ["reconciler", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def run_cli(*args: str, cwd: Path) -> tuple[int, str, set[str]]:
    """Exit code, output, and the top-level names of every module the run imported."""
    search_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": search_path},
        check=True,
    )
    *output, last = done.stdout.splitlines()
    result = json.loads(last)
    return result["code"], "\n".join(output) + done.stderr, set(result["modules"])


def top_levels(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def packages_of(modules: set[str]) -> set[str]:
    """Our packages among ``modules``: ``reconciler.core.plan`` -> ``core``."""
    return {name.split(".")[1] for name in modules if name.startswith("reconciler.")}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "reconciler.yaml").write_text(
        "owner: team\nmanifests: [apps]\nenvironments:\n  dev: {vars: {DOMAIN: dev.example.com}}\n"
    )
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(
        "apps:\n"
        "  web:\n"
        "    name: Web\n"
        "    type: spa\n"
        '    callbacks: ["https://${DOMAIN}/cb"]\n'
        "  worker:\n"
        "    name: Worker\n"
        "    type: m2m\n"
        "    metadata: {team: payments}\n"
        "    apis: [{audience: https://ledger.example.com/, scopes: [read:entries]}]\n"
    )
    return tmp_path


def test_help_loads_click_and_no_command(tmp_path: Path) -> None:
    code, output, modules = run_cli("--help", cwd=tmp_path)
    assert code == 0
    assert "validate" in output and "serve" in output
    assert top_levels(modules) & (HEAVY | {"yaml", "fastjsonschema"}) == set()
    commands = {"manifests", "pipeline", "server", "registries", "tenant", "apply", "cimd"}
    assert packages_of(modules) & commands == set()


def test_validate_of_a_valid_repository_loads_no_heavy_library(project: Path) -> None:
    code, output, modules = run_cli("validate", "--env", "dev", cwd=project)
    assert code == 0, output
    assert "valid: 0 errors, 0 warnings in 1 files (2 apps)" in output
    assert top_levels(modules) & HEAVY == set()
    assert packages_of(modules) & {"pipeline", "registries", "tenant", "apply", "server"} == set()


def test_a_key_loads_cryptography_to_check_it_and_nothing_else(examples: Path) -> None:
    code, output, modules = run_cli("validate", str(examples), cwd=examples)
    assert code == 0, output
    assert top_levels(modules) & HEAVY == {"cryptography"}


def test_an_invalid_repository_is_described_in_full(project: Path) -> None:
    (project / "apps" / "web.yaml").write_text(
        "apps:\n  web:\n    name: Web\n    type: spa\n    colour: blue\n    callbacks: yes\n"
    )
    code, output, modules = run_cli("validate", "--env", "dev", cwd=project)
    assert code == 1
    assert "apps/web.yaml:5:5: error[unknown-field]: unknown field 'colour'" in output
    assert "apps/web.yaml:6:16: error[type]: web.callbacks must be a list, not a boolean" in output
    assert "jsonschema" in top_levels(modules)


def test_serve_is_listed_by_its_own_summary_and_runs_as_itself() -> None:
    listed, real = cli.commands["serve"], load_serve()
    assert listed.help == real.help
    assert listed.get_short_help_str() == real.get_short_help_str()
    code, output, _ = run_cli("serve", "--help", cwd=ROOT)
    assert code == 0
    assert "Usage: reconciler serve [OPTIONS]" in output and "--db" in output


def test_a_plan_that_changes_nothing_loads_no_diff_library(project: Path) -> None:
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().split("    apis:")[0])  # the embedded registry has no APIs
    registry = ["--env", "dev", "--registry", "sqlite:registry.db"]
    secrets = ["--secrets-out", "secrets.json"]
    code, output, _ = run_cli("apply", "--auto-approve", *secrets, *registry, cwd=project)
    assert code == 0, output
    code, output, modules = run_cli("plan", "--detailed-exitcode", *registry, cwd=project)
    assert code == 0, output
    assert "deepdiff" not in top_levels(modules)
    web.write_text(web.read_text().replace("name: Web", "name: Web app"))
    code, output, modules = run_cli("plan", "--detailed-exitcode", *registry, cwd=project)
    assert code == 2, output
    assert "name" in output and "Web app" in output
    assert "deepdiff" in top_levels(modules)


def test_the_auth0_backend_loads_no_key_library_until_a_key_is_used(tmp_path: Path) -> None:
    """A management client with a secret (most runs) never parses a key or a JWT."""
    script = (
        "from reconciler.registries.auth0.registry import open_auth0\n"
        "registry = open_auth0('auth0://tenant.example.com', environ={\n"
        "    'AUTH0_CLIENT_ID': 'client', 'AUTH0_CLIENT_SECRET': 'secret'})\n"
        "registry.close()\n"
    )
    modules = modules_loaded_by(script, cwd=tmp_path)
    assert top_levels(modules) & {"jwt", "cryptography"} == set()
