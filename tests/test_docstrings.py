"""Every public name has a docstring an API reference can show (issue 14).

For each namespace below (those issue 14 lists, plus the other modules the API reference
documents), every public function, class, method and property must have a docstring whose
first line is a one-line summary ending with a period (then a blank line, if more follows),
and must mention each of its parameters by name, or refer to PyTorch's documentation with
"as in torch.X" (X a dotted name). Public means the names in `__all__` where a module
defines it; else, in a package's `__init__` or a module that only gathers names
(nn.functional), every name not starting with "_", and in any other module the names it
defines itself (not its imports). Submodules, constants, dtype objects, typing aliases and
anything defined outside tapegrad are skipped. A class's docstring describes its
constructor's parameters; its own public methods and properties are checked too (a method
without a docstring of its own may inherit its base's, as Sphinx's autodoc does). A failure
lists every offending name under the file that defines it, so they can be fixed in bulk.
"""
import enum
import importlib
import importlib.util
import inspect
import os
import re

import pytest

import tapegrad

NAMESPACES = ["tapegrad", "Tensor", "nn", "nn.functional", "nn.init", "nn.utils",
              "nn.utils.rnn", "nn.utils.parametrize", "nn.utils.parametrizations", "optim",
              "optim.lr_scheduler", "autograd", "autograd.functional", "utils.data", "io",
              "serialization", "linalg", "special", "optimize", "integrate"]
OPTIONAL = ["viz", "distributed"]       # checked once they exist (other work adds them)

_TORCH_REF = re.compile(r"\bas in `?torch(\.\w+)+", re.IGNORECASE)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tapegrad.__file__)))


def summary_problem(doc):
    """What is wrong with the summary line of `doc` (a cleaned docstring), or None."""
    if not doc or not doc.strip():
        return "no docstring"
    lines = doc.strip().splitlines()
    if not lines[0].rstrip().endswith("."):
        return f"summary line does not end with a period: {lines[0].strip()!r}"
    if len(lines) > 1 and lines[1].strip():
        return "summary is more than one line (a blank line must follow the first)"
    return None


def unmentioned(doc, params):
    """The names in `params` that `doc` neither mentions nor covers with "as in torch.X"."""
    doc = doc or ""
    if _TORCH_REF.search(doc):
        return []
    missing = []
    for p in params:
        words = {p.name}
        if p.kind is p.VAR_POSITIONAL:
            words.add("args")
        elif p.kind is p.VAR_KEYWORD:
            words.add("kwargs")
        if not any(re.search(rf"(?<![\w]){re.escape(w)}(?!\w)", doc) for w in words):
            missing.append(p.name)
    return missing


def _parameters(fn, skip_first):
    """`fn`'s parameters (the first dropped for a method's self), or None if unreadable."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    params = params[1:] if skip_first and params else params
    return [p for p in params if not p.name.startswith("_")]      # private ones are not API


_OURS = ("tapegrad", __name__)      # this file too, for the checker's own tests


def _module_of(obj):
    return getattr(inspect.unwrap(obj), "__module__", None) or ""


def _ours(obj):
    """Whether `obj` was defined in tapegrad (not re-exported from NumPy or the stdlib)."""
    return _module_of(obj).startswith(_OURS)


def _where(obj):
    """(file relative to the checkout, line) of `obj`'s definition (a primitive's forward)."""
    target = inspect.unwrap(obj.fget if isinstance(obj, property) else obj)
    try:
        path = os.path.relpath(inspect.getsourcefile(target), _ROOT)
        return path, inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return "<unknown file>", 0


def _constructor_params(cls):
    """The parameters of `cls(...)` when tapegrad defines its __init__ or __new__, else None."""
    if issubclass(cls, enum.Enum):
        return None                 # members are looked up, not constructed
    for klass in cls.__mro__:
        if "__init__" in vars(klass) or "__new__" in vars(klass):
            if not (klass.__module__ or "").startswith(_OURS):
                return None
            return _parameters(cls, skip_first=False)
    return None


def check_function(fn, skip_first=False, doc=None):
    """The problems of one function's docstring (`doc` if given, else its own)."""
    doc = inspect.getdoc(fn) if doc is None else doc
    problem = summary_problem(doc)
    if problem == "no docstring":
        return [problem]
    problems = [problem] if problem else []
    missing = unmentioned(doc, _parameters(fn, skip_first) or [])
    if missing:
        problems.append("does not mention " + ", ".join(missing))
    return problems


def check_class(cls):
    """The problems of a class docstring, against its constructor's parameters."""
    doc = inspect.cleandoc(cls.__doc__) if cls.__doc__ else None    # never the base class's
    problem = summary_problem(doc)
    if problem == "no docstring":
        return [problem]
    problems = [problem] if problem else []
    missing = unmentioned(doc, _constructor_params(cls) or [])
    if missing:
        problems.append("does not mention constructor parameters " + ", ".join(missing))
    return problems


def check_member(cls, name, member, method_self=True):
    """The problems of one attribute found in `cls.__dict__`, or None if it is not checked."""
    if isinstance(member, property):
        problem = summary_problem(inspect.getdoc(getattr(cls, name)))
        return [problem] if problem else None
    if isinstance(member, staticmethod):
        fn, skip = member.__func__, False
    elif isinstance(member, classmethod):
        fn, skip = member.__func__, True
    elif inspect.isfunction(member) or hasattr(member, "__wrapped__"):
        fn, skip = member, method_self
    else:
        return None
    if not _ours(fn):
        return None
    doc = inspect.getdoc(getattr(cls, name))     # a base class's docstring is inherited
    return check_function(fn, skip, doc) or None


def _api(obj):
    return (inspect.isclass(obj) or inspect.isroutine(obj)) and _ours(obj)


def _public_names(module):
    """The names `module` offers (see this file's docstring), functions and classes only."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
        own = [n for n in names if _api(getattr(module, n)) and
               _module_of(getattr(module, n)) == module.__name__]
        if own and not hasattr(module, "__path__"):
            names = own             # a module with code of its own: its imports are helpers
    return [n for n in names if _api(getattr(module, n, None))]


def _class_members(cls, label):
    """(label.name, member) for the public attributes `cls` itself defines."""
    for name, member in vars(cls).items():
        if not name.startswith("_"):
            yield f"{label}.{name}", cls, name, member


def collect(namespace):
    """{file: [(line, qualified name, problem), ...]} for the offending names of `namespace`."""
    found = {}

    def report(label, obj, problems):
        for p in problems or []:
            path, line = _where(obj)
            found.setdefault(path, []).append((line, label, p))

    if namespace == "Tensor":
        for label, cls, name, member in _class_members(tapegrad.Tensor, "Tensor"):
            report(label, member, check_member(cls, name, member))
        return found
    module = tapegrad if namespace == "tapegrad" else importlib.import_module(
        f"tapegrad.{namespace}")
    for name in _public_names(module):
        obj = getattr(module, name)
        label = f"{namespace}.{name}"
        if inspect.isclass(obj):
            report(label, obj, check_class(obj))
            if obj is tapegrad.Tensor:
                continue            # its members are the "Tensor" namespace
            for mlabel, cls, mname, member in _class_members(obj, label):
                report(mlabel, member, check_member(cls, mname, member))
        else:
            report(label, obj, check_function(obj))
    return found


def format_report(namespace, found):
    """The failure message: each offending name under its file, files in order."""
    count = sum(len(v) for v in found.values())
    lines = [f"{count} docstring problems in {namespace}:"]
    for path in sorted(found):
        lines.append(path)
        lines.extend(f"  {line:5d} {label}: {problem}" for line, label, problem in sorted(found[path]))
    return "\n".join(lines)


@pytest.mark.parametrize("namespace", NAMESPACES + OPTIONAL)
def test_every_public_name_has_a_summary_and_names_its_parameters(namespace):
    if namespace in OPTIONAL and importlib.util.find_spec(f"tapegrad.{namespace}") is None:
        pytest.skip(f"tapegrad.{namespace} does not exist yet")
    found = collect(namespace)
    assert not found, format_report(namespace, found)


# ---- the checker itself must catch what it is meant to catch ----

def _no_doc(x):
    return x


def _long_summary(x):
    """Return x.
    A second sentence that should have been a paragraph of its own."""
    return x


def _no_period(x):
    """Return x"""
    return x


def _forgets_beta(x, alpha, beta=1):
    """Scale `x` by alpha.

    Parameters
    ----------
    x : Tensor
        The input.
    alpha : float
        The factor.
    """
    return x


def _refers_to_torch(input, dim, keepdim=False):
    """Sum over a dimension, as in `torch.sum`."""
    return input


def _good(x, *args, alpha=1, **kwargs):
    """Scale x by alpha; args and kwargs are passed on."""
    return x


class _BadClass:
    """A class whose docstring forgets a constructor parameter.

    Args:
        size: the size.
    """

    def __init__(self, size, bias=True):
        self.size = size

    def forward(self, input, scale):
        """Apply the layer to input."""
        return input

    @property
    def width(self):
        return self.size


def test_the_checker_reports_a_missing_docstring_and_a_bad_summary():
    assert check_function(_no_doc) == ["no docstring"]
    assert "period" in check_function(_no_period)[0]
    assert "more than one line" in check_function(_long_summary)[0]


def test_the_checker_reports_an_unmentioned_parameter():
    assert check_function(_forgets_beta) == ["does not mention beta"]
    assert check_function(_refers_to_torch) == []          # "as in torch.sum" covers them
    assert check_function(_good) == []                     # *args / **kwargs as args / kwargs
    assert unmentioned("Use alphabet.", _parameters(_forgets_beta, False)[1:2]) == ["alpha"]


def test_the_checker_reads_constructors_methods_and_properties():
    assert check_class(_BadClass) == ["does not mention constructor parameters bias"]
    assert check_member(_BadClass, "forward", vars(_BadClass)["forward"]) == [
        "does not mention scale"]                          # self is never asked for
    assert check_member(_BadClass, "width", vars(_BadClass)["width"]) == ["no docstring"]


def test_the_report_names_each_offender_with_its_file():
    found = {}
    for fn in (_no_doc, _forgets_beta):
        path, line = _where(fn)
        for problem in check_function(fn):
            found.setdefault(path, []).append((line, fn.__name__, problem))
    message = format_report("demo", found)
    assert "2 docstring problems in demo:\ntests/test_docstrings.py\n" in message
    assert "_no_doc: no docstring" in message and "_forgets_beta: does not mention beta" in message


def test_public_names_are_the_api_not_the_imports():
    init = _public_names(importlib.import_module("tapegrad.nn.init"))
    assert "xavier_uniform_" in init and "no_grad" not in init and "numpy_rng" not in init
    functional = _public_names(importlib.import_module("tapegrad.nn.functional"))
    assert {"relu", "tanh", "conv2d", "cross_entropy"} <= set(functional)   # an index module
    top = _public_names(tapegrad)
    assert {"exp", "Tensor", "no_grad", "tensor"} <= set(top)
    assert "float32" not in top and "pi" not in top and "nn" not in top     # values, modules
