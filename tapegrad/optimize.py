"""tapegrad.optimize: scipy.optimize.minimize with derivatives from the tape.

`fun` is written with tapegrad ops. Its gradient comes from the same forward pass as its value
(one forward and one backward per evaluation); Newton and trust-region methods also get
Hessian-vector products (a second backward through the recorded gradient). The parameters may be
a tensor, an ndarray, or a dict/list/tuple of them: SciPy sees one float64 vector, `fun` and
`res.x` see the structure of `x0`.
"""
import inspect
import math

import numpy as np
from scipy import optimize as _so

from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad
from .creation import tensor
from ._tensor import Tensor

_GRADIENT_FREE = {"nelder-mead", "powell", "cobyla", "cobyqa"}
_USES_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_USES_HESS = {"dogleg", "trust-exact"}


class _Slot:
    """Where one array of x0 sits in the flat vector, and what to give back to the user."""

    def __init__(self, start, shape, dtype, kind):
        self.start, self.shape, self.dtype, self.kind = start, shape, dtype, kind
        self.stop = start + math.prod(shape)


def _like(seq, items):
    """A list, tuple or namedtuple of the same type as seq holding items."""
    return type(seq)(*items) if hasattr(seq, "_fields") else type(seq)(items)


class _Layout:
    """x0's structure (nested dicts, lists and tuples of tensors, arrays or numbers) and the
    position of each of its arrays in one float64 vector."""

    def __init__(self, x0):
        self.slots, self.size, self._parts = [], 0, []
        self.tree = self._scan(x0, "x0")
        self.x0 = (np.concatenate(self._parts) if self._parts else np.zeros(0))
        del self._parts

    def _scan(self, obj, where):
        if isinstance(obj, dict):
            return {k: self._scan(v, f"{where}[{k!r}]") for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return _like(obj, [self._scan(v, f"{where}[{i}]") for i, v in enumerate(obj)])
        if isinstance(obj, Tensor):
            a, kind = obj.detach().numpy(), "tensor"
            if a.dtype.kind != "f":
                raise TypeError(f"minimize: {where} is a {a.dtype} tensor of shape "
                                f"{list(a.shape)}; parameters must be floating point")
        elif isinstance(obj, (np.ndarray, float, int, np.number)) and not isinstance(obj, bool):
            a, kind = np.asarray(obj), "array" if isinstance(obj, np.ndarray) else "number"
            if a.dtype.kind not in "fiu":
                raise TypeError(f"minimize: {where} is an array of {a.dtype}; parameters "
                                "must be real numbers")
        else:
            raise TypeError(f"minimize: {where} is a {type(obj).__name__}; x0 must be a tensor, "
                            "an ndarray, or a dict/list/tuple of them")
        dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
        slot = _Slot(self.size, a.shape, dtype, kind)
        self.slots.append(slot)
        self.size = slot.stop
        self._parts.append(a.astype(np.float64).ravel())
        return slot

    def build(self, vec, make):
        """x0's structure with each array replaced by make(slot, its piece of vec)."""
        def fill(node):
            if isinstance(node, _Slot):
                return make(node, vec[node.start:node.stop].reshape(node.shape))
            if isinstance(node, dict):
                return {k: fill(v) for k, v in node.items()}
            return _like(node, [fill(v) for v in node])
        return fill(self.tree)

    def restore(self, vec):
        """The user's view of a flat vector: tensors, arrays and numbers in x0's dtypes."""
        def make(slot, piece):
            a = piece.astype(slot.dtype)
            if slot.kind == "tensor":
                return tensor(a)
            return a if slot.kind == "array" else float(a)
        return self.build(np.asarray(vec, dtype=np.float64), make)


class _Objective:
    """fun on flat float64 vectors: its value, its gradient, Hessian-vector products."""

    def __init__(self, fun, layout, args):
        self.fun, self.layout, self.args = fun, layout, args
        self._hess_at = None     # (x, leaves, gradients with their graph) of the last hessp

    def _call(self, x, requires_grad):
        leaves = []

        def make(slot, piece):
            t = tensor(piece, requires_grad=requires_grad)    # a copy SciPy cannot share
            leaves.append(t)
            return t
        params = self.layout.build(np.asarray(x, dtype=np.float64), make)
        f = self.fun(params, *self.args)
        shape = f.shape if isinstance(f, Tensor) else np.shape(f)
        if math.prod(shape) != 1:
            raise ValueError(f"minimize: fun must return a scalar (a single element), got a "
                             f"result of shape {list(shape)}")
        return f, leaves

    def value(self, x):
        with no_grad():
            f, _ = self._call(x, False)
        return _float(f)

    def _gradients(self, x, create_graph):
        with enable_grad():
            f, leaves = self._call(x, True)
            if not (isinstance(f, Tensor) and f.requires_grad):
                return f, leaves, [None] * len(leaves)     # fun does not depend on x
            grads = _grad(f, leaves, allow_unused=True, create_graph=create_graph)
        return f, leaves, grads

    def value_and_grad(self, x):
        f, leaves, grads = self._gradients(x, False)
        return _float(f), self._flat(grads)

    def hessp(self, x, p):
        x = np.asarray(x, dtype=np.float64)
        if self._hess_at is None or not np.array_equal(self._hess_at[0], x):
            self._hess_at = (x.copy(),) + self._gradients(x, True)[1:]
        _, leaves, grads = self._hess_at
        live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
        if not live:
            return np.zeros(self.layout.size)
        ps = [tensor(np.asarray(p, dtype=np.float64)[s.start:s.stop].reshape(s.shape))
              for s in self.layout.slots]
        with enable_grad():
            hv = _grad([grads[i] for i in live], leaves, [ps[i] for i in live],
                       retain_graph=True, allow_unused=True)
        return self._flat(hv)

    def hess(self, x):
        """The full Hessian, one Hessian-vector product per column (for dogleg, trust-exact)."""
        n = self.layout.size
        h = np.stack([self.hessp(x, e) for e in np.eye(n)], axis=1) if n else np.zeros((0, 0))
        return (h + h.T) / 2

    def _flat(self, grads):
        out = np.zeros(self.layout.size)
        for s, g in zip(self.layout.slots, grads):
            if g is not None:
                out[s.start:s.stop] = g.numpy().ravel()
        return out


def _float(f):
    return float(f.item() if isinstance(f, Tensor) else np.asarray(f).reshape(()))


def _user_callback(callback, layout):
    """Hand the user's callback x in x0's structure (both of SciPy's callback conventions)."""
    if callback is None:
        return None
    if set(inspect.signature(callback).parameters) == {"intermediate_result"}:
        def wrapped(intermediate_result):
            res = _so.OptimizeResult(intermediate_result)
            res.x = layout.restore(res.x)
            return callback(intermediate_result=res)
        return wrapped

    def wrapped_xk(xk, *rest):
        return callback(layout.restore(xk), *rest)
    return wrapped_xk


def minimize(fun, x0, args=(), method="L-BFGS-B", bounds=None, constraints=(), tol=None,
             callback=None, options=None):
    """Minimize `fun` with SciPy, derivatives by tapegrad, as scipy.optimize.minimize.

    `fun(x, *args)` returns a scalar tensor; `jac` (and `hessp`/`hess` for the Newton and
    trust-region methods) come from tapegrad. `x0` is a tensor, an ndarray, or a (nested)
    dict/list/tuple of them; `fun` receives float64 tensors in that structure and `res.x` comes
    back in it, in x0's dtypes. `method`, `tol`, `options` and `callback` (which receives x in x0's
    structure) are SciPy's; so are `bounds` and `constraints`, which refer to the flat vector (x0's
    arrays raveled in order).
    """
    layout = _Layout(x0)
    objective = _Objective(fun, layout, tuple(args))
    meth = method.lower() if isinstance(method, str) else method
    kw = dict(args=(), method=method, bounds=bounds, constraints=constraints, tol=tol,
              callback=_user_callback(callback, layout), options=options)
    if meth in _GRADIENT_FREE:
        res = _so.minimize(objective.value, layout.x0, **kw)
    else:
        if meth in _USES_HESSP:
            kw["hessp"] = objective.hessp
        elif meth in _USES_HESS:
            kw["hess"] = objective.hess
        res = _so.minimize(objective.value_and_grad, layout.x0, jac=True, **kw)
    res.x = layout.restore(res.x)
    return res


__all__ = ["minimize"]
