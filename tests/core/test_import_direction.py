"""Imports point one way: cms -> marketplace (with marketplace.settlement) -> logistics ->
households -> core, with lovepoints beside households (it uses households and core, never the
produce chain). Read from the source (ast), so an import inside a function counts as much as one
at the top of a module; config/, tests/ and bench/ may import anything."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each app of ours and the apps of ours it may import.
MAY_IMPORT = {
    "core": set(),
    "households": {"core"},
    "lovepoints": {"households", "core"},
    "logistics": {"households", "core"},
    "marketplace": {"logistics", "households", "core"},  # marketplace.settlement and .canteens are part of it
    "cms": {"marketplace", "logistics", "lovepoints", "households", "core"},
}
LAYERS = list(MAY_IMPORT)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, relative imports made absolute."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def layer_violations() -> list[str]:
    problems = []
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            for line, name in _imported_modules(path):
                top = name.split(".")[0]
                if top in MAY_IMPORT and top != app and top not in MAY_IMPORT[app]:
                    problems.append(f"{path.relative_to(ROOT)}:{line} ({app}) imports {name} ({app} may not import {top})")
    return problems


def test_no_app_imports_an_app_above_it_not_even_inside_a_function():
    assert layer_violations() == []


def test_every_app_of_ours_has_a_declared_place_in_the_order():
    from django.conf import settings

    ours = {name.split(".")[0] for name in settings.INSTALLED_APPS if (ROOT / name.split(".")[0]).is_dir()}
    assert ours == set(MAY_IMPORT), "declare the new app's place in MAY_IMPORT"


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path, monkeypatch):
    fake_root = tmp_path
    (fake_root / "core").mkdir()
    (fake_root / "core" / "__init__.py").write_text("")
    (fake_root / "core" / "thing.py").write_text("def f():\n    from households.models import Household\n    return Household\n")
    (fake_root / "households").mkdir()
    (fake_root / "households" / "x.py").write_text("import core.money\nfrom .models import Household\n")
    (fake_root / "households" / "reports").mkdir()
    (fake_root / "households" / "reports" / "y.py").write_text("if True:\n    import logistics.models as m\n")
    for app in LAYERS[2:]:
        (fake_root / app).mkdir()
    (fake_root / "lovepoints" / "z.py").write_text("from logistics.models import Lot\nfrom households.models import Village\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake_root)
    problems = layer_violations()
    assert problems == [
        "core/thing.py:2 (core) imports households.models (core may not import households)",
        "households/reports/y.py:2 (households) imports logistics.models (households may not import logistics)",
        "lovepoints/z.py:1 (lovepoints) imports logistics.models (lovepoints may not import logistics)",
    ]
