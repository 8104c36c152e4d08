"""torch.testing: `assert_close`, with PyTorch's default tolerances per dtype and its messages."""
import collections.abc

import numpy as np

from . import dtypes
from ._tensor import Tensor

# (rtol, atol) by dtype name, as torch.testing picks them; other dtypes compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}


class _Mismatch(AssertionError):
    """A failed comparison, with the path of the item it occurred at."""

    def __init__(self, text, path=""):
        super().__init__(text)
        self.text, self.path = text, path


def _default_tolerances(*dts):
    pairs = [_TOLERANCES.get(np.dtype(d).name, (0.0, 0.0)) for d in dts]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _pair_kind(actual, expected):
    for kind, types in (("tensor", Tensor), ("array", np.ndarray)):
        if isinstance(actual, types) and isinstance(expected, types):
            return kind
    numbers = (bool, int, float, complex, np.number, np.bool_)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return "scalar"
    if isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        return "mapping"
    seq = (collections.abc.Sequence,)
    if isinstance(actual, seq) and isinstance(expected, seq) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        return "sequence"
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}.")


def _compare(actual, expected, path, opts):
    kind = _pair_kind(actual, expected)
    if kind == "sequence":
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != "
                            f"{len(expected)}", path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{path}[{i}]", opts)
    elif kind == "mapping":
        if set(actual) != set(expected):
            raise _Mismatch(f"The keys of the mappings do not match:\nMissing keys in the actual "
                            f"mapping: {sorted(map(repr, set(expected) - set(actual)))}\n"
                            f"Additional keys in the actual mapping: "
                            f"{sorted(map(repr, set(actual) - set(expected)))}", path)
        for key in expected:
            _compare(actual[key], expected[key], f"{path}[{key!r}]", opts)
    elif kind == "scalar":
        if opts["check_dtype"] and type(actual) is not type(expected):
            raise _Mismatch(f"The (d)types do not match: {type(actual)} != {type(expected)}.",
                            path)
        _values(np.asarray(actual), np.asarray(expected), path, opts, scalar=True)
    else:
        a, e = (actual._data, expected._data) if kind == "tensor" else (actual, expected)
        if a.shape != e.shape:
            show = (lambda t: repr(t.shape)) if kind == "tensor" else (lambda t: str(t.shape))
            raise _Mismatch(f"The values for attribute 'shape' do not match: {show(actual)} != "
                            f"{show(expected)}.", path)
        if opts["check_dtype"] and a.dtype != e.dtype:
            show = dtypes.public if kind == "tensor" else (lambda d: d)
            raise _Mismatch(f"The values for attribute 'dtype' do not match: "
                            f"{show(a.dtype)} != {show(e.dtype)}.", path)
        _values(a, e, path, opts, scalar=kind == "tensor" and a.ndim == 0)


def _values(a, e, path, opts, scalar):
    rtol, atol = opts["rtol"], opts["atol"]
    if rtol is None:
        rtol, atol = _default_tolerances(a.dtype, e.dtype)
    shown = [v.reshape(-1)[0].item() if v.size == 1 else None for v in (a, e)]
    if a.dtype == np.bool_ or e.dtype == np.bool_:
        a, e = a.astype(np.int64), e.astype(np.int64)
    wide = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(e) else np.float64
    a64, e64 = a.astype(wide), e.astype(wide)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(a64 - e64)
        ok = (a64 == e64) | (diff <= atol + rtol * np.abs(e64))
        if opts["equal_nan"]:
            ok |= np.isnan(a64) & np.isnan(e64)
        if ok.all():
            return
        rel = diff / np.abs(e64)
    word = "equal" if rtol == 0 and atol == 0 else "close"
    allowed = (lambda t: f" (up to {t} allowed)") if word == "close" else (lambda t: "")
    if scalar:
        abs_d = int(diff.item()) if a.dtype.kind in "iub" else diff.item()
        raise _Mismatch(f"Scalars are not {word}!\n\nExpected {shown[1]} but got {shown[0]}.\n"
                        f"Absolute difference: {abs_d}{allowed(atol)}\n"
                        f"Relative difference: {rel.item()}{allowed(rtol)}", path)
    bad = ~ok
    abs_d = np.where(bad, np.nan_to_num(diff, nan=np.inf), -1).reshape(-1)
    rel_d = np.where(bad, np.nan_to_num(rel, nan=np.inf), -1).reshape(-1)
    i, j = int(np.argmax(abs_d)), int(np.argmax(rel_d))
    integral = a.dtype.kind in "iub" and e.dtype.kind in "iub"
    worst = diff.reshape(-1)[i]
    worst = int(worst) if integral else float(worst)
    n = int(bad.sum())
    raise _Mismatch(
        f"Tensor-likes are not {word}!\n\nMismatched elements: {n} / {a.size} "
        f"({100 * n / a.size:.1f}%)\n"
        f"Greatest absolute difference: {worst} at index {_index(i, a.shape)}"
        f"{allowed(atol)}\n"
        f"Greatest relative difference: {float(rel.reshape(-1)[j])} at index "
        f"{_index(j, a.shape)}{allowed(rtol)}", path)


def _index(flat, shape):
    return tuple(int(k) for k in np.unravel_index(flat, shape))


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """torch.testing.assert_close: tensors, arrays, numbers, and sequences or mappings of them
    are close (|actual - expected| <= atol + rtol * |expected|), else AssertionError."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'atol' if atol is None else 'rtol'}.")
    opts = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype)
    try:
        _compare(actual, expected, "", opts)
    except _Mismatch as m:
        text = m.text
        if m.path:
            text += f"\n\nThe failure occurred for item {m.path}"
        if msg is not None:
            text = msg(text) if callable(msg) else msg
        raise AssertionError(text) from None

