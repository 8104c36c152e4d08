"""Sphinx configuration of tapegrad's documentation.

Build it from the repository root (warnings as errors, as CI does):

    pip install '.[docs]'
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is autodoc over the public modules; NumPy- and Google-style docstrings are
both read (napoleon). Pages for modules that may not exist yet (`tapegrad.viz`,
`tapegrad.distributed`) are built only when the module is importable.
"""
import importlib
import importlib.util
import inspect
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)     # document this checkout, installed or not
sys.path.insert(0, os.path.join(ROOT, "docs", "_ext"))

import tapegrad  # noqa: E402

project = "tapegrad"
author = "the tapegrad authors"
copyright = "tapegrad authors, MIT license"
release = version = tapegrad.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax",
              "plain_docstrings"]
exclude_patterns = ["_build", "examples"]
templates_path = []
html_theme = "alabaster"
html_theme_options = {"description": "autodiff on a gradient tape, with PyTorch's names",
                      "fixed_sidebar": True}
html_static_path = []

# `name` in the docstrings is code (the docstrings are written in that Markdown-like habit)
default_role = "literal"
nitpicky = False

autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autoclass_content = "both"      # the class docstring and __init__'s
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# Modules whose API page exists only when the module does (other work adds them).
OPTIONAL_PAGES = {"viz": "tapegrad.viz", "distributed": "tapegrad.distributed"}
OPTIONAL_MARK = ".. optional-api-pages"


def _exists(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


PRESENT = [page for page, module in OPTIONAL_PAGES.items() if _exists(module)]
exclude_patterns += [f"api/{page}.rst" for page in OPTIONAL_PAGES if page not in PRESENT]


def _optional_toctree(app, docname, source):
    """List the optional pages that are built in the API index's toctree."""
    if docname == "api/index" and OPTIONAL_MARK in source[0]:
        entries = "".join(f"   {page}\n" for page in PRESENT)
        toctree = f".. toctree::\n   :maxdepth: 1\n\n{entries}" if PRESENT else ""
        source[0] = source[0].replace(OPTIONAL_MARK, toctree)


# The modules that have an API page. A class several of them export (no_grad, Tensor...) is
# documented once, in the shortest-named module that exports it; the others leave it out.
DOCUMENTED = ["tapegrad", "tapegrad.autograd", "tapegrad.autograd.functional", "tapegrad.nn",
              "tapegrad.nn.functional", "tapegrad.nn.init", "tapegrad.optim",
              "tapegrad.optim.lr_scheduler", "tapegrad.utils.data", "tapegrad.io",
              "tapegrad.serialization", "tapegrad.linalg", "tapegrad.special",
              "tapegrad.optimize", "tapegrad.integrate", "tapegrad.models",
              "tapegrad.distributions", "tapegrad.sparse", "tapegrad.profiler",
              "tapegrad.testing"] + [OPTIONAL_PAGES[p] for p in PRESENT]
AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)\n((?:   :.*\n)*)", re.M)


def _home(cls):
    """The documented module with the shortest name that exports class `cls`."""
    exporters = [m for m in DOCUMENTED
                 if cls in vars(importlib.import_module(m)).values()]
    return min(exporters, key=lambda m: m.count("."), default=None)


def _foreign_classes(module):
    """Public classes `module` exports that are documented on another module's page."""
    namespace = vars(importlib.import_module(module))
    return sorted(name for name, obj in namespace.items()
                  if not name.startswith("_") and inspect.isclass(obj)
                  and (obj.__module__ or "").startswith("tapegrad") and _home(obj) != module)


def _exclude_foreign_classes(app, docname, source):
    """Add the classes documented elsewhere to each automodule's :exclude-members:."""
    def rewrite(match):
        module, options = match.group(1), match.group(2)
        if ":imported-members:" not in options:
            return match.group(0)
        given = re.search(r"   :exclude-members:(.*)\n", options)
        names = set(_foreign_classes(module))
        if given:
            names.update(n.strip() for n in given.group(1).split(",") if n.strip())
            options = options.replace(given.group(0), "")
        line = f"   :exclude-members: {', '.join(sorted(names))}\n" if names else ""
        return f".. automodule:: {module}\n{options}{line}"
    source[0] = AUTOMODULE.sub(rewrite, source[0])


def _skip_member(app, what, name, obj, skip, options):
    """Leave out what a module merely imports from elsewhere (submodules, numpy, math...):
    the reference shows tapegrad's own public names."""
    if name.startswith("_"):
        return None
    if inspect.ismodule(obj):
        return True
    if what == "module" and (inspect.isclass(obj) or inspect.isroutine(obj)):
        module = getattr(obj, "__module__", None) or ""
        if not module.startswith("tapegrad"):
            return True
    return None


def setup(app):
    app.connect("source-read", _optional_toctree)
    app.connect("source-read", _exclude_foreign_classes)
    app.connect("autodoc-skip-member", _skip_member)
