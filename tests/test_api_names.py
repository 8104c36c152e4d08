"""PyTorch's everyday names, and their parameter names, exist in tapegrad (tests/api/torch_api.py).

A name that is neither in tapegrad nor in MISSING fails; so does a MISSING name that now
exists (and a "signature differs" entry whose signature now agrees), so the list stays true.
Where PyTorch's signature is readable (`inspect.signature`, or the first line of a built-in's
docstring), its positional-or-keyword parameters must come first in tapegrad's, in order.
"""
import importlib
import inspect
import re

import pytest

import tapegrad
from tests.api.torch_api import MISSING, NAMES

DIFFERS = "signature differs"


def resolve(root, name):
    """The object `name` ("torch.nn.Linear") names under `root` (torch or tapegrad), else None."""
    obj, path = root, [root.__name__]
    for part in name.split(".")[1:]:
        path.append(part)
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:      # a submodule not imported by its package (torch.utils.benchmark)
                obj = importlib.import_module(".".join(path))
            except ImportError:
                return None
    return obj


def _is_method(name):
    return name.startswith("torch.Tensor.")


_TYPES = {"int", "float", "bool", "str", "Tensor"}      # a docstring naming a type, not a name


def _from_docstring(obj, short):
    """PyTorch's built-ins carry their signature as the docstring's first line:
    `add(input, other, *, alpha=1, out=None) -> Tensor`."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    m = re.match(rf"(?:\w+\.)*{re.escape(short)}\((.*?)\)\s*(->|$)", doc)
    if m is None:
        return None
    params, depth, token = [], 0, ""
    for ch in m.group(1).replace("\\", "") + ",":
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch != "," or depth:
            token += ch
            continue
        token, token_ = token.split("=")[0].split(":")[0].strip(), token
        if token in ("*", "") or token.startswith("**"):
            break
        if token != "/":
            kind = "var" if token.startswith("*") else "posonly" if token in _TYPES else "pos"
            params.append((token.lstrip("*"), kind))
        token = ""
    return params


def _from_schemas(torch, short, method):
    """The positional parameters of each overload of the ATen operator `short` (the names
    PyTorch's Python bindings accept, which its docstrings do not always show)."""
    get = getattr(torch._C, "_jit_get_schemas_for_operator", None)
    try:
        schemas = get(f"aten::{short}") if get else []
    except RuntimeError:
        return []
    found = []
    for schema in schemas:
        args = [a for a in schema.arguments if not a.kwarg_only]
        names = [a.name for a in args]
        if schema.overload_name.endswith("out") or "self" not in names:
            continue       # out= variants and TorchScript-only overloads (mul.int(a, b))
        if method:     # the tensor is `self` wherever it stands (where(condition, self, other))
            names = [n for n in names if n != "self"]
        found.append([("input" if n == "self" else n, "pos") for n in names])
    return found


# the ATen operators behind torch.linalg.det & co. are linalg_det & co.
_ATEN_PREFIX = {"torch.linalg": "linalg_", "torch.special": "special_", "torch.fft": "fft_"}

_KINDS = {inspect.Parameter.POSITIONAL_ONLY: "posonly",
          inspect.Parameter.POSITIONAL_OR_KEYWORD: "pos",
          inspect.Parameter.VAR_POSITIONAL: "var"}


def params(obj, drop_self):
    """[(name, kind)] of the parameters a call may pass by position, or None if unreadable."""
    if not callable(obj):
        return None
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        if p.kind not in _KINDS or p.name.startswith("_"):
            break          # keyword-only from here, or PyTorch's private parameters
        out.append((p.name, _KINDS[p.kind]))
    return out[1:] if drop_self and out else out


def torch_params(torch, obj, name):
    """Each list of positional parameters PyTorch accepts for `name` (one per overload)."""
    method = _is_method(name)
    ps = params(obj, method and inspect.isfunction(obj))
    if ps is not None:
        return [] if ps[:1] == [("args", "var")] else [ps]     # (*args, **kwargs): unreadable
    if not callable(obj):
        return []
    short = name.rsplit(".", 1)[1]
    found = _from_schemas(torch, _ATEN_PREFIX.get(name.rsplit(".", 1)[0], "") + short, method)
    doc = _from_docstring(obj, short)
    # a method's docstring sometimes names its parameters as no binding accepts them
    return found if method and found else found + ([doc] if doc is not None else [])


def difference(theirs, ours):
    """Why tapegrad's positional parameters do not start with PyTorch's, or None."""
    for i, (name, kind) in enumerate(theirs):
        if i >= len(ours):
            return f"lacks parameter {name!r} (at position {i})"
        our_name, our_kind = ours[i]
        if our_kind == "var":
            return None          # takes the rest by position
        if kind == "var":
            return f"takes *{name}, tapegrad takes {our_name!r}"
        if kind != "posonly" and name != our_name:
            return f"parameter {i} is {name!r}, tapegrad's is {our_name!r}"
    return None


def signature_difference(torch, name, ours):
    """Why tapegrad's `name` fits none of PyTorch's overloads, or None."""
    theirs = resolve(torch, name)
    if theirs is None or isinstance(theirs, type(torch)):
        return None
    our_params = params(ours, _is_method(name))
    overloads = torch_params(torch, theirs, name)
    if our_params is None or not overloads:
        return None
    reasons = [difference(ps, our_params) for ps in overloads]
    return None if None in reasons else reasons[0]


def test_the_list_is_large_and_has_no_duplicates():
    assert len(NAMES) >= 500 and len(set(NAMES)) == len(NAMES)
    assert set(MISSING) <= set(NAMES), sorted(set(MISSING) - set(NAMES))


def test_every_listed_name_exists_or_is_listed_missing():
    absent = [n for n in NAMES if resolve(tapegrad, n) is None and n not in MISSING]
    assert not absent, f"not in tapegrad and not in MISSING: {absent}"


def test_missing_is_true():
    """A name built since it was listed missing leaves MISSING (unless its signature differs)."""
    present = [n for n, why in MISSING.items()
               if not why.startswith(DIFFERS) and resolve(tapegrad, n) is not None]
    assert not present, f"in MISSING but present in tapegrad now: {present}"
    gone = [n for n, why in MISSING.items()
            if why.startswith(DIFFERS) and resolve(tapegrad, n) is None]
    assert not gone, f"listed as '{DIFFERS}' but absent: {gone}"


def test_parameter_names_match_torch():
    torch = pytest.importorskip("torch")
    wrong, agree = [], []
    for name in NAMES:
        ours = resolve(tapegrad, name)
        if ours is None:
            continue
        why = signature_difference(torch, name, ours)
        listed = MISSING.get(name, "").startswith(DIFFERS)
        if why and not listed:
            wrong.append(f"{name}: {why}")
        elif listed and not why:
            agree.append(name)
    assert not wrong, "parameter names differ from PyTorch's:\n" + "\n".join(wrong)
    assert not agree, f"listed as '{DIFFERS}' but the signatures agree now: {agree}"


def test_the_checker_sees_a_wrong_name():
    """The comparison itself: a renamed, a missing and a keyword-only parameter are caught."""
    def good(input, other, alpha=1): ...
    def renamed(x, other): ...
    def short(input): ...
    def keyword_only(input, *, other): ...
    def varargs(*args, **kwargs): ...
    theirs = [("input", "pos"), ("other", "pos")]
    assert difference(theirs, params(good, False)) is None
    assert difference(theirs, params(varargs, False)) is None
    assert "'input'" in difference(theirs, params(renamed, False))
    assert "lacks parameter 'other'" in difference(theirs, params(short, False))
    assert "lacks" in difference(theirs, params(keyword_only, False))


def test_docstring_signatures_are_read():
    class Builtin:
        """
        randint(low=0, high, size, \\*, generator=None) -> Tensor
        """
    assert _from_docstring(Builtin, "randint") == [("low", "pos"), ("high", "pos"),
                                                   ("size", "pos")]
    Builtin.__doc__ = "zeros(*size, *, out=None, dtype=None) -> Tensor"
    assert _from_docstring(Builtin, "zeros") == [("size", "var")]
    Builtin.__doc__ = "cat(tensors, dim=0, *, out=None) -> Tensor"
    assert _from_docstring(Builtin, "cat") == [("tensors", "pos"), ("dim", "pos")]


def test_inputs_by_pytorchs_keyword_names():
    """`torch.exp(input=x)`, `torch.matmul(input=a, other=b)`: inputs by name record as usual."""
    x = tapegrad.ones(2, 2, requires_grad=True)
    tapegrad.exp(input=x).sum().backward()
    assert x.grad.tolist() == tapegrad.exp(x).tolist()
    assert tapegrad.matmul(input=x, other=x).shape == (2, 2)
    assert tapegrad.swapaxes(x, axis0=0, axis1=1).requires_grad
    with pytest.raises(TypeError, match="multiple values for argument 'input'"):
        tapegrad.exp(x, input=x)
