"""The package's layers run one way: a module imports only its own layer and
those below it (the README's architecture table), at module level or inside
a function."""

from __future__ import annotations

import ast
from pathlib import Path

import dualvec

PACKAGE = Path(dualvec.__file__).parent

#: Lowest first; a module may import from its own layer or any earlier one.
LAYERS = [
    ["errors", "progress", "atomic"],
    ["corpus", "scan_kernels", "vocab", "encoded", "datasets", "irdata"],
    ["training"],
    ["vectors"],
    ["store"],
    ["model"],
    ["trainer"],
    ["formats"],
    ["ranking"],
    ["evaluation"],
    ["scale"],
    ["pyterrier"],  # PyTerrier transformers over ranking's indexes and irdata's collections
    ["serve"],
    ["cli", "__main__"],
]
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}
#: Upward imports made on purpose, inside a function: (importer, imported, why).
ALLOWED = {("model", "trainer"): "DualVectors.train_more delegates to the trainer that builds models"}


def _top(module: str) -> str:
    """``dualvec.ranking.bm25`` -> ``ranking``."""
    return module.split(".")[1] if module.count(".") else ""


def _imports(path: Path) -> set[str]:
    """The dualvec modules a file imports, as absolute names."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])  # a module's package; for __init__, the package itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("dualvec"):
                found.add(name)
                if not node.module:  # from . import x
                    found.update(f"{name}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dualvec"))
    return found


def test_every_module_is_in_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    assert tops - {"__init__"} <= set(LAYER_OF), f"modules missing from LAYERS: {tops - set(LAYER_OF) - {'__init__'}}"


def test_no_module_imports_a_higher_layer():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        me = rel.parts[0].removesuffix(".py")
        if me == "__init__":
            continue  # the package's front door re-exports from every layer
        for imported in _imports(path):
            other = _top(imported)
            if other and other != me and LAYER_OF[other] > LAYER_OF[me] and (me, other) not in ALLOWED:
                wrong.append(f"{rel} imports {imported} ({other} is above {me})")
    assert not wrong, "\n".join(wrong)


def test_the_layer_check_sees_relative_and_function_level_imports():
    # The checker itself must find what it is meant to forbid.
    assert "dualvec.training.options" in _imports(PACKAGE / "training" / "__init__.py")
    assert "dualvec.store" in _imports(PACKAGE / "ranking" / "ranker.py")
    assert "dualvec.trainer" in _imports(PACKAGE / "model.py")  # the one allowed upward import, made inside a method


def test_ranking_stages_do_not_import_the_ranker():
    # The seam: stages read the analysed query and the index parts they need (StageIndex);
    # ranker.py imports them, never the reverse (not even for type checking).
    ranking = PACKAGE / "ranking"
    for name in ("stages", "rm3", "expansion", "features", "learned"):
        path = ranking / f"{name}.py"
        if path.exists():
            assert "dualvec.ranking.ranker" not in _imports(path), f"{name}.py imports the ranker"
    assert "dualvec.ranking.stages" in _imports(ranking / "ranker.py")
