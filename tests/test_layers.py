"""The package's layers run one way: a module imports only its own layer and
those below it (the table in docs/architecture.md), at module level or inside
a function; and no import circle exists anywhere in src/dualvec."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dualvec

PACKAGE = Path(dualvec.__file__).parent
ROOT = PACKAGE.parent.parent

#: The old import paths: shims that forward to the new modules with a DeprecationWarning for one release.
OLD_PATHS = ["corpus", "vocab", "encoded", "scan_kernels", "irdata", "datasets", "trainer"]

#: Lowest first; a module may import from its own layer or any earlier one. An entry is a top-level module or
#: package, or a sub-package's module where one package spans two layers (``training``: the kernels and what
#: runs them below the model, the objectives that build a model above it).
LAYERS = [
    ["errors", "progress", "atomic", "_moved"],
    ["text"],  # one way inside too: TEXT_STEPS
    ["training"],  # options, state, tables, kernels, backends, drivers: arrays only
    ["vectors"],
    ["store"],
    ["model", "projection"],  # projection: 2-D layouts of a model's words (the explorer's map, dualvec.plot)
    ["training.word2vec", "training.contrastive"],  # objectives: a corpus in, a DualVectors out
    ["formats"],
    ["ranking"],
    ["evaluation"],
    ["scale"],
    ["pyterrier"],  # PyTerrier transformers over ranking's indexes and text's collections
    ["serve", "plot"],  # plot: the explorer's map drawn with matplotlib, for notebooks
    ["cli", "__main__"],
    OLD_PATHS,
]
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}
#: The text layer's modules in the order a training text passes through them; each imports only earlier ones.
TEXT_STEPS = ["collections", "sources", "tokenize", "vocab", "scan_kernels", "encoded", "datasets"]


def _unit(module: str) -> str:
    """The LAYERS entry a module belongs to: ``dualvec.training.word2vec`` -> ``training.word2vec``,
    ``dualvec.training.kernels`` -> ``training``, ``dualvec.ranking.bm25`` -> ``ranking``."""
    parts = module.split(".")[1:]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYER_OF:
            return ".".join(parts[:n])
    return ".".join(parts[:1])


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _edges(importer: str, imported: str, modules: set[str]) -> set[str]:
    """The modules that importing ``imported`` from ``importer`` runs: the module itself (or, for ``from m
    import name``, ``m``), and every package above it that ``importer`` is not inside (importing
    ``dualvec.training.options`` from the model first runs ``dualvec/training/__init__.py``). The root
    package is left out: it is the front door that re-exports every layer."""
    while imported not in modules and "." in imported:
        imported = imported.rsplit(".", 1)[0]  # from m import name: the module m
    found = {imported} if imported in modules and imported != "dualvec" else set()
    parts = imported.split(".")
    for n in range(2, len(parts)):
        package = ".".join(parts[:n])
        if package in modules and not (importer == package or importer.startswith(package + ".")):
            found.add(package)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    names = set(modules)
    return {m: {e for imp in _imports(p) for e in _edges(m, imp, names)} - {m} for m, p in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``graph`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_every_module_is_in_a_layer():
    units = {_unit(m) for m in _modules() if m != "dualvec"}
    assert units <= set(LAYER_OF), f"modules missing from LAYERS: {units - set(LAYER_OF)}"


def test_no_module_imports_a_higher_layer():
    wrong = []
    for name, path in _modules().items():
        if name == "dualvec":
            continue  # the package's front door re-exports from every layer
        me = _unit(name)
        for imported in _imports(path):
            other = _unit(imported)
            if other in LAYER_OF and other != me and LAYER_OF[other] > LAYER_OF[me]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {imported} ({other} is above {me})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle_anywhere():
    # Function-level imports count: a circle made lazy is still a circle.
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_a_training_text_never_returns_to_a_module_it_left():
    # dualvec.text's modules in the order a text passes through them: each imports only earlier steps, so
    # following a text from train() to the kernels never climbs back (the text package's docstring).
    text = PACKAGE / "text"
    assert {p.stem for p in text.glob("*.py")} - {"__init__"} == set(TEXT_STEPS)
    wrong = []
    for i, step in enumerate(TEXT_STEPS):
        for imported in _imports(text / f"{step}.py"):
            if imported.startswith("dualvec.text."):
                other = imported.split(".")[2]
                if other in TEXT_STEPS and TEXT_STEPS.index(other) >= i and other != step:
                    wrong.append(f"text/{step}.py imports {imported}")
    assert not wrong, "\n".join(wrong)
    # the word2vec objective reaches the text only through the scan and its types
    w2v = {i for i in _imports(PACKAGE / "training" / "word2vec.py") if i.startswith("dualvec.text.")}
    assert w2v <= {"dualvec.text.encoded", "dualvec.text.sources", "dualvec.text.tokenize", "dualvec.text.vocab"}


def test_the_layer_check_sees_relative_and_function_level_imports():
    # The checker itself must find what it is meant to forbid.
    assert "dualvec.training.options" in _imports(PACKAGE / "training" / "__init__.py")
    assert "dualvec.store" in _imports(PACKAGE / "ranking" / "ranker.py")
    assert "dualvec.training.word2vec" in _imports(PACKAGE / "ranking" / "local.py")  # inside a method
    assert _unit("dualvec.training.word2vec") == "training.word2vec"
    assert _unit("dualvec.training.contrastive_kernels") == "training"
    assert LAYER_OF["training.word2vec"] > LAYER_OF["model"] > LAYER_OF["training"]


def test_the_circle_check_finds_circles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    # importing a sub-module from outside its package runs the package's __init__ first
    modules = {"dualvec.model", "dualvec.training", "dualvec.training.options", "dualvec.training.word2vec"}
    assert _edges("dualvec.model", "dualvec.training.options", modules) == {"dualvec.training.options",
                                                                           "dualvec.training"}
    assert _edges("dualvec.training.word2vec", "dualvec.training.options", modules) == {"dualvec.training.options"}
    assert _edges("dualvec.model", "dualvec.training.options.TrainingParams", modules) >= {"dualvec.training.options"}
    # the model importing the trainer again (as DualVectors.train_more once did) would be found
    graph = _graph()
    graph["dualvec.model"] = graph["dualvec.model"] | {"dualvec.training.word2vec"}
    assert _cycle(graph) is not None


def _old_path_imports(path: Path) -> list[str]:
    old = {f"dualvec.{name}" for name in OLD_PATHS}
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # inside src/dualvec: relative to the file's package
                package = _module_name(path).split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                module = ".".join(package[: len(package) - (node.level - 1)] + ([module] if module else []))
            names = [module] + [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [n for n in names if n in old]
    return found


def test_dualvec_itself_never_imports_the_old_paths():
    files = [p for p in PACKAGE.rglob("*.py") if p.stem not in OLD_PATHS]
    for folder in ("tests", "benchmarks", "docs"):
        files += sorted((ROOT / folder).glob("*.py"))  # not rglob: benchmarks/out may hold whole environments
    wrong = [f"{p}: {n}" for p in files for n in _old_path_imports(p)]
    assert not wrong, "\n".join(wrong)
    assert _old_path_imports(PACKAGE / "corpus.py") == []  # the shims themselves import only _moved
    probe = ROOT / "tests" / "test_layers.py"
    assert _old_path_imports(probe) == []


@pytest.mark.parametrize(("old", "name", "new"), [
    ("corpus", "RegexTokenizer", "dualvec.text.tokenize"), ("corpus", "iter_file_text", "dualvec.text.sources"),
    ("vocab", "Vocabulary", "dualvec.text.vocab"), ("encoded", "scan_corpus", "dualvec.text.encoded"),
    ("scan_kernels", "WordTable", "dualvec.text.scan_kernels"), ("irdata", "read_run", "dualvec.text.collections"),
    ("datasets", "stdlib_docs", "dualvec.text.datasets"), ("trainer", "train", "dualvec.training.word2vec"),
    ("trainer", "train_more", "dualvec.training.word2vec"),
])
def test_old_paths_work_and_warn(old, name, new):
    import importlib

    module = importlib.import_module(f"dualvec.{old}")
    with pytest.warns(DeprecationWarning, match=f"dualvec.{old} is deprecated.*import {name} from {new}"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_ranking_stages_do_not_import_the_ranker():
    # The seam: stages read the analysed query and the index parts they need (StageIndex);
    # ranker.py imports them, never the reverse (not even for type checking).
    ranking = PACKAGE / "ranking"
    for name in ("stages", "rm3", "expansion", "features", "learned"):
        path = ranking / f"{name}.py"
        if path.exists():
            assert "dualvec.ranking.ranker" not in _imports(path), f"{name}.py imports the ranker"
    assert "dualvec.ranking.stages" in _imports(ranking / "ranker.py")
