"""The package's import layers: each module imports only lower layers, at the top of the file.

Read from the source with `ast`, never imported, so a cycle shows up here and not as an
ImportError whose cause depends on line order (docs/style.md, "Layers").
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tapegrad"

# Dotted names under tapegrad; "x.*" covers the subpackage x, its __init__ included.
LAYERS = {
    0: "dtypes printing _convert _types _state threads _malloc cuda accelerator backends.*",
    1: "_tensor",
    2: "tape primitives grad_mode _sources",
    3: "ops.*",
    4: "engine gradients inplace creation linalg.* special creation_new type_info "
       "rng inplace_fills inplace_shape profiler",
    5: "autograd.* viz",
    6: "_methods",
    7: "nn.* optim.* io.* models.* utils.* sparse optimize integrate distributions.* testing "
       "serialization distributed.*",
}
TOP = 8             # tapegrad/__init__.py: may import anything, nothing may import it
FORBIDDEN = [("io", "nn")]      # (importer, imported) subpackages the layer numbers would allow


def layer_of(name):
    """The layer of a dotted module name ("" is tapegrad/__init__.py), or None if unlisted."""
    if name == "":
        return TOP
    for layer, names in LAYERS.items():
        for pattern in names.split():
            if _within(name, pattern[:-2]) if pattern.endswith(".*") else name == pattern:
                return layer
    return None


def _label(layer):
    return {TOP: "top", None: "no layer"}.get(layer, f"L{layer}")


def _path(name, is_package):
    parts = ["tapegrad"] + (name.split(".") if name else [])
    return "/".join(parts) + ("/__init__.py" if is_package else ".py")


def _within(name, package):
    return name == package or name.startswith(package + ".")


def _under_tapegrad(dotted):
    """"tapegrad.ops.shape" -> "ops.shape"; "tapegrad" -> ""."""
    return dotted[len("tapegrad."):] if dotted != "tapegrad" else ""


def _targets(node, name, is_package, modules):
    """The tapegrad modules one import statement names (dotted, "" for the package itself)."""
    if isinstance(node, ast.Import):
        return [_under_tapegrad(a.name) for a in node.names if _within(a.name, "tapegrad")]
    if node.level:      # relative: climb from the module's own package
        base = name.split(".") if name else []
        base = base if is_package else base[:-1]
        base = base[:len(base) - (node.level - 1)] + (node.module.split(".") if node.module else [])
        source = ".".join(base)
    elif node.module and _within(node.module, "tapegrad"):
        source = _under_tapegrad(node.module)
    else:
        return []
    # `from p import m` imports the submodule p.m when there is one, else a name from p itself
    found = [f"{source}.{a.name}".lstrip(".") for a in node.names]
    subs = [f for f in found if f in modules]
    return subs + ([source] if len(subs) < len(found) else [])


def _is_import_guard(stmt):
    """`try: import x` / `except ImportError: x = None`: an optional dependency, still a header."""
    return isinstance(stmt, ast.Try) and all(
        isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmt.body)


def _imports(tree):
    """Yield (import node, after_code, in_function) for every import statement in the module."""
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]     # the docstring
    after_code = False
    for stmt in body:
        header = isinstance(stmt, (ast.Import, ast.ImportFrom)) or _is_import_guard(stmt)
        after_code = after_code or not header
        yield from _nested(stmt, after_code, False)


def _nested(node, after_code, in_function):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node, after_code, in_function
    in_function = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                   ast.Lambda))
    for child in ast.iter_child_nodes(node):
        yield from _nested(child, after_code, in_function)


def check_module(name, source, modules, is_package=False):
    """(problems, same-layer edges) of one module's source; `modules`: every dotted name."""
    path, layer = _path(name, is_package), layer_of(name)
    problems, edges = [], []
    if layer is None:
        problems.append(f"{path}: module {name} has no layer: add it to the table in "
                        "tests/test_layers.py")
    shown = f"{name or 'tapegrad'} ({_label(layer)})"
    for node, after_code, in_function in _imports(ast.parse(source)):
        targets = _targets(node, name, is_package, modules)
        where = f"{path}:{node.lineno}"
        if in_function and targets:
            problems.append(f"{where}: tapegrad import inside a function in {shown} "
                            "hides a cycle: import at the top")
        elif after_code and not in_function:
            problems.append(f"{where}: import after code in {shown}: "
                            "imports go at the top of the file")
        for target in targets:
            problems += _edge_problems(where, name, layer, target)
            if layer_of(target) == layer and target != name and layer not in (None, TOP):
                edges.append((name, target, where))
    return problems, edges


def _edge_problems(where, name, layer, target):
    to = layer_of(target)
    if None in (layer, to) or layer == TOP:
        return []       # an unlisted target is reported as a module of its own
    shown = target or "tapegrad"
    if to > layer:
        return [f"{where}: {name} ({_label(layer)}) imports {shown} ({_label(to)}), "
                "a higher layer"]
    return [f"{where}: {name} ({_label(layer)}) imports {shown} ({_label(to)}), "
            "a forbidden pair" for a, b in FORBIDDEN if _within(name, a) and _within(target, b)]


def cycles(edges):
    """One message per same-layer import cycle (strongly connected set of modules)."""
    graph = {}
    for a, b, where in edges:
        graph.setdefault(a, {}).setdefault(b, where)
    problems, seen = [], set()
    for start in sorted(graph):
        path = _path_back(graph, start)
        if path and not set(path) & seen:
            seen |= set(path)
            steps = " -> ".join(path + [start])
            lines = ", ".join(graph[a][b] for a, b in zip(path, path[1:] + [start]))
            problems.append(f"same-layer import cycle in {_label(layer_of(start))}: "
                            f"{steps} ({lines})")
    return problems


def _path_back(graph, start):
    """The shortest import path from `start` back to itself, as a list of modules, or None."""
    paths, visited = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == start:
                return path
            if nxt not in visited:
                visited.add(nxt)
                paths.append(path + [nxt])
    return None


def violations(sources):
    """Every layer problem of a package given as {dotted name: (source, is_package)}."""
    problems, edges = [], []
    for name, (source, is_package) in sorted(sources.items()):
        found, out = check_module(name, source, set(sources), is_package)
        problems += found
        edges += out
    return problems + cycles(edges)


def read_package(root=ROOT):
    """{dotted name: (source, is_package)} for every .py file under `root`."""
    sources = {}
    for file in sorted(root.rglob("*.py")):
        parts = file.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        sources[name] = (file.read_text(encoding="utf-8"), is_package)
    return sources


def test_the_package_keeps_its_layers():
    problems = violations(read_package())
    assert not problems, "\n".join(problems)


# Deliberate violations: the checker must report each one, naming file, line and both layers.
CLEAN = {
    "": ('"""top."""\nfrom . import ops, engine, nn, io\n', True),
    "dtypes": ('"""L0."""\nimport numpy as np\n', False),
    "tape": ('"""L2."""\nfrom .dtypes import x\n', False),
    "ops": ('"""L3."""\nfrom . import shape, join\n', True),
    "ops.shape": ('"""L3."""\nfrom ..tape import y\n', False),
    "ops.join": ('"""L3."""\nfrom .shape import z\nfrom tapegrad.dtypes import w\n', False),
    "engine": ('"""L4."""\nfrom .ops.shape import z\n\n\ndef f():\n    import numpy\n', False),
    "nn": ('"""L7."""\nfrom . import module\n', True),
    "nn.module": ('"""L7."""\ntry:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n'
                  'from ..engine import e\n', False),
    "io": ('"""L7."""\nfrom .. import engine\n', True),
}

BROKEN = {
    "back-edge": ("ops.shape", '"""L3."""\nfrom ..tape import y\nfrom ..engine import e\n',
                  ["tapegrad/ops/shape.py:3: ops.shape (L3) imports engine (L4)"]),
    "cycle": ("ops.shape", '"""L3."""\nfrom . import join\n',
              ["same-layer import cycle in L3: ops.join -> ops.shape -> ops.join "
               "(tapegrad/ops/join.py:2, tapegrad/ops/shape.py:2)"]),
    "import after code": ("tape", '"""L2."""\nX = 1\nfrom .dtypes import x\n',
                          ["tapegrad/tape.py:3: import after code in tape (L2)"]),
    "nested import after code": ("tape", '"""L2."""\nX = 1\nif X:\n    import os\n',
                                 ["tapegrad/tape.py:4: import after code in tape (L2)"]),
    "import inside a function": ("engine", '"""L4."""\n\n\ndef f():\n    from .tape import t\n',
                                 ["tapegrad/engine.py:5: tapegrad import inside a function "
                                  "in engine (L4)"]),
    "unlisted module": ("helpers", '"""?"""\n',
                        ["tapegrad/helpers.py: module helpers has no layer: add it to the "
                         "table in tests/test_layers.py"]),
    "io imports nn": ("io.x", '"""L7."""\nfrom ..nn import module\n',
                      ["tapegrad/io/x.py:2: io.x (L7) imports nn.module (L7), a forbidden pair"]),
    "importing the top": ("tape", '"""L2."""\nimport tapegrad\n',
                          ["tapegrad/tape.py:2: tape (L2) imports tapegrad (top)"]),
}


def test_checker_passes_a_clean_package():
    assert violations(CLEAN) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_checker_reports_each_violation(case):
    name, source, expected = BROKEN[case]
    problems = violations({**CLEAN, name: (source, name in ("ops", "nn", "io"))})
    for message in expected:
        assert any(p.startswith(message) for p in problems), (message, problems)
