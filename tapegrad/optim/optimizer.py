"""torch.optim.Optimizer: parameter groups, per-parameter state, and torch's state_dict layout.

Subclasses implement `_update(group)`, which writes new values straight into the parameters'
NumPy arrays (no tape is involved, so no grad mode needs switching) and bumps their versions.
"""
import copy
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np
from scipy.linalg import blas

from ..dtypes import is_floating
from ..grad_mode import enable_grad
from .._tensor import _leaf, Tensor
from ..tape import bump_version


class _Required:
    """Marks a hyper-parameter every parameter group must set (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class of the optimizers (torch.optim.Optimizer): parameter groups and state.

    ``params`` is an iterable of tensors (or of (name, tensor) pairs), or of dicts that define
    parameter groups with their own settings.
    ``defaults`` maps each hyper-parameter to the value a group gets when it does not set it.
    Subclasses keep per-parameter ``state`` (moment buffers, step counts) and
    ``param_groups`` in torch's layout, so state_dict() round-trips with PyTorch.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add ``param_group``, a dict with 'params' and its own hyper-parameters.

        The optimizer's defaults fill the hyper-parameters it leaves out; a parameter already
        in another group raises ValueError, before anything changes.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets changes between runs; "
                            "use a list instead")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. "
                             "Some param names are missing")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__module__}.{type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor (shape "
                                 f"{list(p.shape)}, grad_fn={p.grad_fn.name()}); optimize the "
                                 "leaf it was computed from, or detach() it and requires_grad_()")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "each is updated once per repeat", stacklevel=3)
        taken = set(chain.from_iterable(g["params"] for g in self.param_groups))
        if not taken.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        if any(("param_names" in g) != bool(names) for g in self.param_groups):
            raise ValueError("all optimizer param groups should be with/without names")
        # validated: only now change the group and the optimizer
        param_group["params"] = params
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None if ``set_to_none`` (default), else to 0."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    g.detach_()
                    g.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
        return loss

    def state_dict(self):
        """torch's layout: `{'state': {0: {...}}, 'param_groups': [{..., 'params': [0, 1]}]}`.

        Parameters are numbered in group order; the state's tensors are the live ones, as in torch.
        """
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {index[id(k)] if isinstance(k, Tensor) else k: v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a `state_dict()` (ours or torch's, with tensors or arrays); copies its values.

        Floating state is cast to its parameter's dtype; nothing changes if the layout differs.
        """
        groups = self.param_groups
        saved = state_dict["param_groups"]
        if len(groups) != len(saved):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved)}) than the optimizer ({len(groups)})")
        sizes = [(len(g["params"]), len(s["params"])) for g, s in zip(groups, saved)]
        if any(a != b for a, b in sizes):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             f"the size of optimizer's group (optimizer, loaded): {sizes}")
        by_id = dict(zip(chain.from_iterable(s["params"] for s in saved),
                         chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in by_id:
                p = by_id[k]
                state[p] = {key: _cast(p, key, value) for key, value in v.items()}
            else:
                state[k] = v
        new_groups = []
        for group, s in zip(groups, saved):
            new = copy.deepcopy({k: v for k, v in s.items() if k != "params"})
            for name, default in self.defaults.items():   # checkpoints from older versions
                new.setdefault(name, default)
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _cast(p, key, value):
    """A loaded state value as the optimizer keeps it: array-likes become tensors of their own."""
    if isinstance(value, dict):
        return {k: _cast(p, k, v) for k, v in value.items()}
    if key == "step" and isinstance(value, (int, float)):
        return _leaf(np.array(value, np.float32))
    if not hasattr(value, "__array__"):
        return value
    a = np.asarray(value).copy()    # a copy: the optimizer updates its state in place
    if key != "step" and is_floating(p._data.dtype) and is_floating(a.dtype):
        a = a.astype(p._data.dtype, copy=False)
    return _leaf(a)


def _validate(lr, **nonnegative):
    """torch's constructor checks: the learning rate and the named values must be >= 0."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    for name, value in nonnegative.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name} value: {value}")


def _direction(p, g, weight_decay, maximize):
    """The gradient an update follows: negated to maximize, plus the L2 term weight_decay * p.

    A new array unless neither applies, so the caller must not write into it in that case.
    """
    d = g._data
    if maximize:
        d = np.negative(d)
    if weight_decay != 0:
        t = np.multiply(p._data, weight_decay)
        d = np.add(d, t, out=t)
    return d


def _axpy_(a, x, y):
    """y += a * x in place; through BLAS (no temporary array) for contiguous float arrays.

    BLAS gets slices of at most _AXPY_RUN entries: OpenBLAS splits longer vectors across its
    threads, and those threads then spin beside the NumPy work that follows, which doubled a
    ResNet-18 training step on two cores. One thread streams an axpy as fast anyway.
    """
    axpy = _AXPY.get(y.dtype.char)
    if axpy is not None and x.dtype == y.dtype and x.flags.c_contiguous and \
            y.flags.c_contiguous and y.size:
        x, y = x.reshape(-1), y.reshape(-1)     # views: both are contiguous
        for i in range(0, y.size, _AXPY_RUN):
            axpy(x[i:i + _AXPY_RUN], y[i:i + _AXPY_RUN], a=a)
    else:
        y += np.multiply(x, a, dtype=y.dtype)


_AXPY_RUN = 8192     # OpenBLAS runs axpy on one thread up to 10,000 entries
_AXPY = {"f": blas.saxpy, "d": blas.daxpy}


def _lerp_(a, end, weight):
    """a.lerp_(end, weight) in place, with torch's two-sided formula (exact at both ends)."""
    diff = np.subtract(end, a)
    if abs(weight) < 0.5:
        diff *= weight
        a += diff
    else:
        diff *= 1 - a.dtype.type(weight)
        np.subtract(end, diff, out=a)


def _written(p, st):
    """Bump the versions of a parameter and its state after an update wrote into them."""
    bump_version(p)
    for t in st.values():
        bump_version(t)


def _zeros_like(p):
    return _leaf(np.zeros_like(p._data))


def _step_counter():
    """The per-parameter step count torch keeps: a float32 scalar tensor."""
    return _leaf(np.zeros((), np.float32))


def _check_differentiable(name, differentiable):
    """differentiable=True asks for a step recorded on the tape, which these updates never are."""
    if differentiable:
        raise RuntimeError(f"{name}: differentiable=True is not supported: tapegrad's "
                           "optimizers write the parameters outside the tape; pass "
                           "differentiable=False")
