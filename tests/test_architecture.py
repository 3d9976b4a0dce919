"""The tree keeps its shape: package edges point down, and the core imports pure."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import modules_loaded_by

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"

#: Each layer may import only from the layers before it (and from itself).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"", "diagnostics"}),
    frozenset({"errors"}),
    frozenset({"files"}),
    frozenset({"core"}),
    frozenset({"cimd"}),
    frozenset({"manifests"}),
    frozenset({"tenant"}),
    frozenset({"registries"}),
    frozenset({"apply"}),
    frozenset({"pipeline", "github", "server"}),
    frozenset({"cli"}),
    frozenset({"__main__"}),
)
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def top_level(module: str) -> str:
    """``reconciler.core.plan`` -> ``core``; ``reconciler`` itself -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "reconciler"}


def test_every_package_is_in_a_layer() -> None:
    packages = {top_level(module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert packages <= set(RANK), f"place {sorted(packages - set(RANK))} in LAYERS"


def test_package_edges_point_down() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = top_level(module_name(path))
        for imported in sorted(imports_of(path)):
            target = top_level(imported)
            if target != importer and RANK[target] >= RANK[importer]:
                upward.append(f"{module_name(path)} imports {imported}")
    assert upward == []


def test_no_module_family_shares_a_prefix_at_the_top_level() -> None:
    names = [path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"]
    prefixes = {name.split("_")[0] for name in names if "_" in name}
    assert not {prefix for prefix in prefixes if prefix in names or
                sum(name.startswith(f"{prefix}_") for name in names) > 1}  # fmt: skip


def test_every_package_maps_its_modules_in_its_docstring() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if init.parent == PACKAGE or init.parent.name == "schemas":
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text("utf-8"))) or ""
        modules = sorted(
            path.name
            for path in init.parent.iterdir()
            if (path.suffix == ".py" and path.name != "__init__.py")
            or (path.is_dir() and (path / "__init__.py").exists())
        )
        missing = [name for name in modules if name.removesuffix(".py") not in docstring]
        assert missing == [], f"{init.relative_to(PACKAGE.parent)} does not map {missing}"


def test_the_core_imports_pure() -> None:
    """Importing the planner and the renderers loads no I/O library and no outer package."""
    script = "import reconciler.core.planner, reconciler.core.render, reconciler.core.risks"
    loaded = modules_loaded_by(script, cwd=PACKAGE.parent)
    io_libraries = {"httpx", "yaml", "jsonschema", "click", "sqlite3", "_sqlite3", "h11"}
    assert loaded & io_libraries == set()
    ours = {name for name in loaded if name.split(".")[0] == "reconciler"}
    outside = {
        name for name in ours if top_level(name) not in {"", "core", "diagnostics", "errors"}
    }
    assert outside == set()


#: Registry URI schemes; only the registries package may decide anything by them.
REGISTRY_SCHEMES = ("auth0:", "sqlite:", "dcr+")
#: Modules outside the registries that still branch on a scheme, and why they may.
SCHEME_CHECKS_ALLOWED = {
    # The settings layer sits below the registries: a relative sqlite: path in the
    # settings file is resolved against that file before any registry is opened.
    "reconciler.manifests.config",
}


def outside_registries() -> list[Path]:
    registries = PACKAGE / "registries"
    return [path for path in sorted(PACKAGE.rglob("*.py")) if registries not in path.parents]


def names_a_scheme(node: ast.expr) -> bool:
    """A string literal (or a tuple of them) that begins with a registry scheme."""
    literals = node.elts if isinstance(node, ast.Tuple) else [node]
    return any(
        isinstance(literal, ast.Constant)
        and isinstance(literal.value, str)
        and literal.value.startswith(REGISTRY_SCHEMES)
        for literal in literals
    )


def scheme_checks(tree: ast.AST) -> list[int]:
    """Lines that compare a string with a registry scheme, or test a prefix against one."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            operands = node.args if node.func.attr in ("startswith", "endswith") else []
        elif isinstance(node, ast.MatchValue):
            operands = [node.value]
        else:
            continue
        if any(names_a_scheme(operand) for operand in operands):
            lines.append(node.lineno)
    return lines


def test_nothing_outside_the_registries_looks_up_a_registry_member_by_name() -> None:
    """Optional members have defaults or Protocols in registries/base.py: callers use
    those. Above the registries no module calls getattr or hasattr at all; below them,
    none on anything named a registry."""
    found = []
    for path in outside_registries():
        above = RANK[top_level(module_name(path))] > RANK["registries"]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and node.args
            ):
                continue
            if above or "registry" in ast.unparse(node.args[0]).lower():
                found.append(f"{module_name(path)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def test_only_the_registries_branch_on_a_registry_scheme() -> None:
    """``open_registry`` picks the backend by scheme; every other difference between
    backends is something the backend declares (write_parallelism, preview_cimd, ...)."""
    found = {}
    for path in outside_registries():
        lines = scheme_checks(ast.parse(path.read_text("utf-8")))
        if lines:
            found[module_name(path)] = lines
    unexpected = {name: lines for name, lines in found.items() if name not in SCHEME_CHECKS_ALLOWED}
    assert unexpected == {}
    assert set(found) == SCHEME_CHECKS_ALLOWED, "an allowance no longer needed: drop it"
