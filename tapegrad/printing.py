"""PyTorch-style repr: `tensor([1., 2.], requires_grad=True)`, `tensor(3.5000, grad_fn=<...>)`.

Large tensors are summarised as PyTorch does (more than `threshold` elements: the first and
last `edgeitems` along each axis, `...` between). Only the printed elements are ever read, so
printing costs the same for any size and never materialises an expanded (broadcast) view.
"""
import math

import numpy as np

from .dtypes import get_default_dtype, int64, bool as bool_

_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print, as torch.set_printoptions.

    `profile` ('default', 'short', 'full') sets all options at once; then `precision` (digits after
    the point), `threshold` (elements before summarising with ...), `edgeitems` (elements shown at
    each end when summarising), `linewidth` and `sci_mode` (True/False forces or forbids scientific
    notation, None decides) override single ones.
    """
    if profile is not None:
        _OPTIONS.update(_PROFILES[profile])
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            _OPTIONS[k] = v
    _OPTIONS["sci_mode"] = sci_mode


def _summary(a, edge):
    """The elements that get printed: the first and last `edge` along each long axis, read by
    one fancy index (a small copy, even of a broadcast view)."""
    index = [np.r_[0:edge, n - edge:n] if n > 2 * edge else np.arange(n) for n in a.shape]
    return a[np.ix_(*index)] if index else a


class _Formatter:
    """PyTorch's element style, chosen from the values printed: integers (`3.`), fixed
    (`3.1416`) or scientific (`3.1416e+00`), every element padded to the widest."""

    def __init__(self, a):
        self.kind = a.dtype.kind
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if self.kind == "b":
            self.width = 5 if a.size and not a.all() else 4
        elif self.kind in "iu":
            if a.size:
                self.width = max(len(str(a.min())), len(str(a.max())))
        else:
            self._float_style(a)

    def _float_style(self, a):
        vals = a.astype(np.float64).ravel()
        nz = vals[np.isfinite(vals) & (vals != 0)]
        if not nz.size:
            return
        mags = np.abs(nz)
        lo, hi = mags.min(), mags.max()
        self.int_mode = builtins_bool(np.all(nz == np.ceil(nz)))
        sci = _OPTIONS["sci_mode"]
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci is None else sci
        # the widest string comes from the extremes of each sign (length grows with |v|, or
        # with |exponent| in scientific style)
        pos, neg = nz[nz > 0], nz[nz < 0]
        extremes = [f(s) for s in (pos, neg) if s.size for f in (np.min, np.max)]
        extra = 1 if self.int_mode and not self.sci_mode else 0     # the trailing "."
        self.width = max(len(self._text(v)) + extra for v in extremes)

    def _text(self, v):
        p = _OPTIONS["precision"]
        if self.sci_mode:
            return f"{v:.{p}e}"
        if self.int_mode:
            return f"{v:.0f}"
        return f"{v:.{p}f}"

    def __call__(self, v):
        if self.kind in "biu":
            s = str(v)
        else:
            s = self._text(v)
            if self.int_mode and not self.sci_mode and math.isfinite(v):
                s += "."
        return s.rjust(self.width)


builtins_bool = type(True)


def _vector(a, indent, summarize, fmt):
    edge = _OPTIONS["edgeitems"]
    if summarize and not edge:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        items = ([fmt(v) for v in a[:edge].tolist()] + [" ..."] +
                 [fmt(v) for v in a[-edge:].tolist()])
    else:
        items = [fmt(v) for v in a.tolist()]
    per_line = max(1, int((_OPTIONS["linewidth"] - indent) // (fmt.width + 2)))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, fmt):
    """One bracketed block per leading index, recursively; `...` stands for skipped rows."""
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    n, edge = a.shape[0], _OPTIONS["edgeitems"]
    rows = [*range(edge), None, *range(n - edge, n)] if summarize and n > 2 * edge else range(n)
    parts = ["..." if i is None else _nested(a[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(a, indent):
    summarize = a.size > _OPTIONS["threshold"]
    fmt = _Formatter(_summary(a, _OPTIONS["edgeitems"]) if summarize else a)
    return _nested(a, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    """`, grad_fn=<...>` and the like; a suffix that would pass the line width starts a line."""
    parts = [text]
    width = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if width + len(s) + 2 > _OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            width = indent + len(s)
        else:
            parts.append(", " + s)
            width += len(s) + 2
    return "".join(parts) + ")"


def tensor_repr(t):
    a = t._data
    prefix = "tensor("
    suffixes = []
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != get_default_dtype():
            suffixes.append(f"dtype=torch.{a.dtype}")
    else:
        if not _OPTIONS["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype not in (get_default_dtype(), int64, bool_):
            suffixes.append(f"dtype=torch.{a.dtype}")
        body = _body(a, len(prefix))
    if t._entry is not None:
        suffixes.append(f"grad_fn=<{t._entry.name().rpartition('::')[2]}>")   # CopySlices
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, len(prefix))
