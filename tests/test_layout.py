"""The layout of docs/ARCHITECTURE.md, held against the code.

Imports flow one way, from the bottom up: shared plumbing (``common``) → the hall network →
activities → orders and resources → the statistics returns and scoring → the generated reports →
exports and the evaluation API → the site (``portal``). A module may import its own layer or any
layer below, never one above; rooms on the same floor (activities and venues; orders and
resources; returns and scoring) do not import each other. Migrations are history and are left
out; so are tests and benchmarks, which may reach anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 800

# Module prefix → (floor, room). The longest prefix wins, so ``activities.orders`` is not
# ``activities``.
ROOMS: dict[str, tuple[int, str]] = {
    "common": (0, "common"),
    "network": (1, "network"),
    "activities.residents": (1, "residents"),
    "activities": (2, "activities"),
    "activities.orders": (3, "orders"),
    "activities.resources": (3, "resources"),
    "activities.digital": (3, "digital"),
    "activities.venues": (2, "venues"),
    "evaluation.returns": (4, "returns"),
    "evaluation.scoring": (4, "scoring"),
    "evaluation.reports": (5, "reports"),
    "evaluation": (6, "evaluation"),
    "portal": (7, "portal"),
}
# The project's settings module names every app in INSTALLED_APPS as strings, not imports; the
# Celery app and manage.py only load Django.
SOURCE_DIRS = ("common", "network", "activities", "evaluation", "portal")


def _room(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        found = ROOMS.get(".".join(parts[:n]))
        if found:
            return found
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> list[Path]:
    files = []
    for top in SOURCE_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            files.append(path)
    return files


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (at the top or inside a function), made absolute."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # Each name as a dotted path: ``from evaluation import returns`` reaches the returns
            # room, ``from .models import Hall`` the module's own room.
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def test_the_layer_map_covers_every_source_file():
    unplaced = [str(p.relative_to(ROOT)) for p in _source_files() if not _room(_module_name(p))]
    assert not unplaced


def test_no_module_imports_a_higher_floor_or_a_sibling_room():
    wrong = []
    for path in _source_files():
        floor, room = _room(_module_name(path))
        for lineno, target in _imports(path):
            other = _room(target)
            if other is None or other[1] == room:
                continue
            if other[0] > floor or (other[0] == floor and other[1] != room):
                wrong.append(f"{path.relative_to(ROOT)}:{lineno} ({room}) imports {target}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_plumbing_imports_no_app():
    for path in (ROOT / "common").rglob("*.py"):
        for _lineno, target in _imports(path):
            assert _room(target) in (None, (0, "common")), f"{path.name} imports {target}"


@pytest.mark.parametrize("top", [*SOURCE_DIRS, "bench"])
def test_no_source_file_passes_800_lines(top):
    long = []
    for path in (ROOT / top).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            long.append(f"{path.relative_to(ROOT)}: {lines}")
    assert not long, f"split these files (at most {MAX_LINES} lines each): {long}"
