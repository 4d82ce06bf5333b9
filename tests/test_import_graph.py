"""The layers hold: read every import of every module (as source, with `ast`) and check them.

* no cycle between the top-level packages (`orchestration` → `assets` → `bullpen`, and so on);
* the core (`bullpen`) imports no tier, no tool and no framework;
* the pure domain (`bullpen.domain`) imports nothing else of bullpen;
* no test module imports another test module or a conftest: shared helpers live in
  `tests/support`.

Imports inside functions and under `TYPE_CHECKING` count too: a layer that needs another
only for a type still depends on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "bullpen", "assets", "orchestration", "online", "bench", "loadtest", "capacity", "replay",
    "recovery",
)  # fmt: skip
CORE_MAY_NOT_IMPORT = (
    "online", "assets", "orchestration", "bench", "loadtest", "capacity", "replay", "recovery",
    "dagster", "dagster_webserver", "dagster_k8s", "dagster_postgres", "fastapi", "starlette",
    "uvicorn",
)  # fmt: skip


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, absolute names (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_graph(modules: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Top-level package → the other top-level packages of `PACKAGES` it imports."""
    graph: dict[str, set[str]] = {}
    for module, imported in modules.items():
        top = module.split(".")[0]
        targets = {name.split(".")[0] for name in imported} & set(PACKAGES)
        graph.setdefault(top, set()).update(targets - {top})
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle in `graph` as a path that returns to its start, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def _source_modules() -> dict[str, set[str]]:
    return {
        _module_name(path): imports_of(path)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts or path.name != "env.py"
    }


def test_the_checker_finds_cycles_and_none_where_there_is_none() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    graph = package_graph({"assets.x": {"orchestration.resources"}, "orchestration.d": {"assets"}})
    assert find_cycle(graph) in (["assets", "orchestration", "assets"],
                                 ["orchestration", "assets", "orchestration"])  # fmt: skip


def test_no_cycle_between_top_level_packages() -> None:
    graph = package_graph(_source_modules())
    assert find_cycle(graph) is None, graph


def test_the_core_imports_no_tier_tool_or_framework() -> None:
    offences = sorted(
        f"{module} imports {name}"
        for module, imported in _source_modules().items()
        if module.split(".")[0] == "bullpen"
        for name in imported
        if name.split(".")[0] in CORE_MAY_NOT_IMPORT
    )
    assert offences == []


def test_the_pure_domain_imports_no_other_layer_of_the_core() -> None:
    offences = sorted(
        f"{module} imports {name}"
        for module, imported in _source_modules().items()
        if module.startswith("bullpen.domain")
        for name in imported
        if name.startswith("bullpen.") and not name.startswith("bullpen.domain")
    )
    assert offences == []


def test_no_test_module_imports_another_test_module() -> None:
    tests = ROOT / "tests"
    local_names = {path.stem for path in tests.rglob("*.py")} - {"__init__"}
    offences = []
    for path in tests.rglob("*.py"):
        for name in imports_of(path):
            first = name.split(".")[0]
            if name.startswith("tests.") and not name.startswith("tests.support"):
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
            elif first in local_names and first not in ("tests", *PACKAGES):
                offences.append(f"{path.relative_to(ROOT)} imports {name} (a file of tests/)")
    assert offences == []
