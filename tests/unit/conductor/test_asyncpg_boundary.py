"""Only conductor/ may talk to PostgreSQL: no other package imports asyncpg."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("corebus", "scheduler", "node_agent", "schemas", "gateway", "bench")
FORBIDDEN = "asyncpg"


def asyncpg_imports(source: str, filename: str) -> list[int]:
    """Line numbers of `import asyncpg[.x]` / `from asyncpg[.x] import ...` and of
    `importlib.import_module("asyncpg...")` / `__import__("asyncpg...")` calls."""
    lines = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            names = [str(node.args[0].value)] if called in ("import_module", "__import__") else []
        else:
            continue
        if any(n == FORBIDDEN or n.startswith(FORBIDDEN + ".") for n in names):
            lines.append(node.lineno)
    return sorted(lines)


def test_only_the_conductor_imports_asyncpg() -> None:
    offenders = []
    scanned = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            scanned += 1
            for line in asyncpg_imports(path.read_text(encoding="utf-8"), str(path)):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert scanned > 0, f"no Python files found under {ROOT}"
    assert not offenders, "only conductor/ may import asyncpg, found: " + ", ".join(offenders)


def test_the_detector_sees_every_import_form() -> None:
    source = "\n".join(
        [
            "import os",
            "import asyncpg",
            "import asyncpg.pool as p",
            "from asyncpg import Connection",
            "from asyncpg.exceptions import PostgresError",
            "from . import asyncpg",
            "import importlib",
            "importlib.import_module('asyncpg')",
            "__import__('asyncpg.protocol')",
            "import asyncpg_lookalike",
            "def f():",
            "    import asyncpg",
        ]
    )
    assert asyncpg_imports(source, "<test>") == [2, 3, 4, 5, 8, 9, 12]


def test_the_conductor_itself_is_allowed_and_does_import_it() -> None:
    pool = (ROOT / "conductor" / "db" / "pool.py").read_text(encoding="utf-8")
    assert asyncpg_imports(pool, "pool.py")
