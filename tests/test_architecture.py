"""The tree keeps its shape: package edges point down, and the core imports pure."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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
    script = (
        "import json, sys\n"
        "import reconciler.core.planner, reconciler.core.render, reconciler.core.risks\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    loaded = set(json.loads(done.stdout))
    io_libraries = {"httpx", "yaml", "jsonschema", "click", "sqlite3", "_sqlite3", "h11"}
    assert loaded & io_libraries == set()
    ours = {name for name in loaded if name.split(".")[0] == "reconciler"}
    outside = {
        name for name in ours if top_level(name) not in {"", "core", "diagnostics", "errors"}
    }
    assert outside == set()
