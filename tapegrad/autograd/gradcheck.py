"""Numerical checks of gradients: float64 central differences against the tape's VJPs."""
import numpy as np

from .._tensor import Tensor, _leaf
from ..engine import grad as _grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when analytical and numerical derivatives differ."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    return [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]


def _numerical(func, inputs, diff, eps):
    """Jacobian columns by central differences: J[k][out_j] for each input entry k."""
    jac = []
    for i in diff:
        x = inputs[i]._data
        cols = []
        for k in np.ndindex(x.shape):     # C order, also through non-contiguous views
            old = x[k]
            x[k] = old + eps
            plus = [o._data.astype(np.float64).copy() for o in _outputs(func, inputs)]
            x[k] = old - eps
            minus = [o._data.astype(np.float64).copy() for o in _outputs(func, inputs)]
            x[k] = old
            cols.append([(p - m).reshape(-1) / (2 * eps) for p, m in zip(plus, minus)])
        jac.append(cols)
    return jac


def _analytical(outs, inputs, diff):
    """Jacobian rows by one VJP per output entry: J[out_j][row r] -> cotangents per input."""
    rows = []
    for j, o in enumerate(outs):
        if not o.requires_grad:
            rows.append(None)
            continue
        per = []
        for r in range(o._data.size):
            seed = np.zeros(o._data.shape, o._data.dtype)
            seed.reshape(-1)[r] = 1
            gs = _grad([o], [inputs[i] for i in diff], [_leaf(seed)], retain_graph=True,
                       allow_unused=True)
            per.append([None if g is None else g._data.reshape(-1) for g in gs])
        rows.append(per)
    return rows


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False):
    """Compare the VJPs of `func` with central differences, as torch.autograd.gradcheck.

    `inputs` is a tensor or a tuple; those that require grad should be float64. The step is `eps`;
    a derivative passes when |analytical - numerical| <= `atol` + `rtol` * |numerical|. Returns
    True, or raises GradcheckError (or returns False with `raise_exception`=False) naming the input
    and output that disagree. `nondet_tol`, `check_undefined_grad` and `fast_mode` are accepted for
    PyTorch's signature.
    """
    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in diff:
        if inputs[i].dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; the check "
                          "is likely to fail from rounding alone")
    outs = _outputs(func, inputs)
    analytical = _analytical(outs, inputs, diff)
    numerical = _numerical(func, inputs, diff, eps)
    for j, o in enumerate(outs):
        for n, i in enumerate(diff):
            num = np.stack([numerical[n][k][j] for k in range(inputs[i]._data.size)], axis=1) \
                if inputs[i]._data.size else np.zeros((o._data.size, 0))
            if analytical[j] is None:
                ana = np.zeros_like(num)
            else:
                ana = np.stack([np.zeros(inputs[i]._data.size) if rows[n] is None else rows[n]
                                for rows in analytical[j]], axis=0) if o._data.size else \
                    np.zeros((0, inputs[i]._data.size))
            if not np.allclose(ana, num, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} with respect to input {i} (shape "
                    f"{list(inputs[i].shape)}),\nnumerical:{num}\nanalytical:{ana}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, fast_mode=False):
    """Check second derivatives of `func` at `inputs`, as torch.autograd.gradgradcheck.

    Runs gradcheck on the function (inputs, v) -> VJP(v), with `grad_outputs` as v (random when
    None). `eps`, `atol`, `rtol` and `raise_exception` are as in gradcheck;
    `gen_non_contig_grad_outputs`, `nondet_tol`, `check_undefined_grad` and `fast_mode` are
    accepted for PyTorch's signature.
    """
    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_leaf(rng.standard_normal(o._data.shape)) for o in outs]
    grad_outputs = [g.detach().requires_grad_(True) for g in _as_tuple(grad_outputs)]
    n = len(inputs)

    def first_order(*args):
        xs, vs = args[:n], args[n:]
        os = [o for o in _outputs(func, xs) if o.requires_grad]
        gs = _grad(os, [xs[i] for i in diff], list(vs)[:len(os)], create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_order, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
