"""PyTorch-style repr: `tensor([1., 2.], requires_grad=True)`, `tensor(3.5000, grad_fn=<...>)`."""
import numpy as np

from .dtypes import get_default_dtype, int64

_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions."""
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            _OPTIONS[k] = v
    _OPTIONS["sci_mode"] = sci_mode


def _float_formatter(a):
    """Pick PyTorch's float style from the finite values: integral, fixed, or scientific;
    every element is padded to the widest one (signs and nan/inf included)."""
    p = _OPTIONS["precision"]
    values = a[np.isfinite(a)].astype(np.float64)
    finite = np.abs(values)
    sci = _OPTIONS["sci_mode"]
    if finite.size and sci is None:
        big, small = finite.max(), finite[finite > 0].min() if (finite > 0).any() else 0
        sci = big >= 1e8 or (small and big / small > 1000 and small < 1e-4) or \
            (small and big / small > 1e5)
    if finite.size and not sci and np.all(finite == np.round(finite)):
        text = lambda v: f"{v:.0f}."  # noqa: E731
    elif sci:
        text = lambda v: f"{v:.{p}e}"  # noqa: E731
    else:
        text = lambda v: f"{v:.{p}f}"  # noqa: E731
    width = max([len(text(v)) for v in values] +
                [len(_special(v)) for v in a[~np.isfinite(a)].ravel()] + [0])
    return lambda v: (_special(v) or text(v)).rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_array(a, prefix="tensor("):
    if a.dtype.kind == "f":
        fmt = {"float_kind": _float_formatter(a)}
    elif a.dtype.kind == "b":
        width = 5 if not a.all() and a.any() else 0      # PyTorch pads " True" next to "False"
        fmt = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    else:
        fmt = None
    if a.ndim == 0:
        return fmt["float_kind"](a.item()).strip() if fmt and "float_kind" in fmt else \
            (fmt["bool"](a.item()) if fmt else str(a.item()))
    return np.array2string(a, separator=", ", prefix=prefix, formatter=fmt,
                           threshold=_OPTIONS["threshold"], edgeitems=_OPTIONS["edgeitems"],
                           max_line_width=_OPTIONS["linewidth"])


def tensor_repr(t):
    a = t._data
    body = format_array(a)
    extra = []
    if a.size == 0 and a.ndim != 1:
        extra.append(f"size={tuple(a.shape)}")
    if a.dtype not in (get_default_dtype(), int64, np.dtype(bool)):
        extra.append(f"dtype=torch.{a.dtype}")
    if t._entry is not None:
        extra.append(f"grad_fn=<{t._entry.name()}>")
    elif t._rg:
        extra.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extra) + ")"
