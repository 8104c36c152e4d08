"""torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp and vhp, built on `grad`.

Return structures follow PyTorch: a single Tensor where the user gave (or the function
returned) a single Tensor, tuples where they were tuples. Forward-mode products use the
double-vjp trick: the VJP u -> J^T u is linear in u, so differentiating it w.r.t. u gives J v.
"""
from contextlib import nullcontext

import numpy as np

from .._tensor import Tensor, _leaf
from ..engine import grad as _grad
from ..grad_mode import enable_grad
from ..ops.join import stack

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRICT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward mode "
                         "AD.",
}

_NOT_RG = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
               "must be computed in a differentiable manner from the input when running in "
               "strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
}


def _as_tuple(inp, arg_name, fn_name):
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            what = f"the value at index {i} has" if is_tuple else f"the given {arg_name} has"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {what} type {type(el)}.")
    return is_tuple, items


def _preprocess(xs, create_graph, need_graph):
    """Fresh tensors to differentiate with respect to; linked to the originals with create_graph."""
    return tuple(x.reshape(x.shape) if create_graph and x._requires_grad
                 else x.detach().requires_grad_(need_graph) for x in xs)


def _postprocess(res, create_graph):
    if create_graph:
        return res
    return tuple(_postprocess(r, False) if isinstance(r, tuple) else r.detach() for r in res)


def _unpack(res, to_unpack):
    """PyTorch's _tuple_postprocess: undo the tuple wrapping of single inputs / outputs."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(r[0] for r in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")


def _check_requires_grad(xs, kind, strict):
    if not strict:
        return
    for i, x in enumerate(xs):
        if x is None:
            raise RuntimeError(_STRICT["back"].format(i=i))
        if not x._requires_grad:
            raise RuntimeError(_NOT_RG[kind].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """`grad` over the outputs that require grad; None for every input when there are none."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o._requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                 retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _fill_in_zeros(grads, refs, strict, stage):
    res = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT[stage].format(i=i))
            g = _leaf(np.zeros_like(r._data))
        res.append(g)
    return tuple(res)


def _need_v(v, inputs, fn_name, create_graph, is_inputs_tuple):
    if v is not None:
        v = _preprocess(_as_tuple(v, "v", fn_name)[1], create_graph, False)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0]._data.size != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J), as torch.autograd.functional.vjp.

    `func` takes the tensor or tuple `inputs`; `v` has the shape of its output (it may be omitted
    for a one-element output). With `create_graph` the result is itself recorded, so it can be
    differentiated again. With `strict`, an output independent of an input raises instead of giving
    zeros.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v = _preprocess(_as_tuple(v, "v", "vjp")[1], create_graph, False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grads, inputs, strict, "back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v) by the double-vjp trick, as torch.autograd.functional.jvp.

    `func` takes the tensor or tuple `inputs`; `v` has their shape (it may be omitted for a
    one-element input). With `create_graph` the result is itself recorded, so it can be
    differentiated again. With `strict`, an output independent of an input raises instead of giving
    zeros.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, True)
        v = _need_v(v, inputs, "jvp", create_graph, is_inputs_tuple)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # the VJP is linear in u, so u's value never matters; zeros keep it finite
        us = tuple(_leaf(np.zeros_like(o._data)).requires_grad_(o._requires_grad) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with enable_grad() if create_graph else nullcontext():
        grads = _autograd_grad(grad_inputs, us, v, create_graph=create_graph)
        res = _fill_in_zeros(grads, outputs, strict, "back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_outputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`, as torch.autograd.functional.jacobian.

    With `strategy` 'reverse-mode' one backward per output element, with 'forward-mode' one per
    input element (through the double-vjp trick); `vectorize` is accepted and gives the same
    result. With `create_graph` the result is itself recorded, so it can be differentiated again.
    With `strict`, an output independent of an input raises instead of giving zeros.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    if strict and strategy == "forward-mode":
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                           '`strategy="forward-mode"` are not supported together (yet). Please '
                           'either set `strict=False` or `strategy="reverse-mode"`.')
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if strategy == "reverse-mode":
            jac = _jacobian_rows(outputs, inputs, create_graph, strict)
        else:
            jac = _jacobian_columns(outputs, inputs, create_graph)
    return _unpack(_postprocess(jac, create_graph), (is_outputs_tuple, is_inputs_tuple))


def _one_hot(a, j):
    seed = np.zeros(a.shape, a.dtype)
    seed.reshape(-1)[j] = 1
    return _leaf(seed)


def _jacobian_rows(outputs, inputs, create_graph, strict):
    """J[i][k] of shape out_i.shape + x_k.shape, one backward per element of out_i."""
    jac = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        for j in range(out._data.size):
            vj = _autograd_grad((out,), inputs, (_one_hot(out._data, j),), create_graph,
                                retain_graph=True)
            for k, g in enumerate(vj):
                if g is None and strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {k}. This is not allowed in "
                                       "strict mode.")
                if g is not None and strict and create_graph and not g._requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in "
                                       "strict mode when create_graph=True.")
                rows[k].append(g)
        jac.append(tuple(_assemble(r, out, x, create_graph, 0) for r, x in zip(rows, inputs)))
    return tuple(jac)


def _jacobian_columns(outputs, inputs, create_graph):
    """J[i][k] one input element at a time: J e = d<u, J e>/du, through u -> J^T u."""
    us = tuple(_leaf(np.zeros_like(o._data)).requires_grad_(o._requires_grad) for o in outputs)
    grad_inputs = _autograd_grad(outputs, inputs, us, create_graph=True)
    cols = [[[] for _ in inputs] for _ in outputs]
    for k, (x, gk) in enumerate(zip(inputs, grad_inputs)):
        for e in range(x._data.size):
            if gk is None or not gk._requires_grad:
                got = (None,) * len(us)
            else:
                got = _autograd_grad((gk,), us, (_one_hot(gk._data, e),), create_graph,
                                     retain_graph=True)
            for i, g in enumerate(got):
                cols[i][k].append(g)
    return tuple(tuple(_assemble(c, out, x, create_graph, -1) for c, x in zip(cols[i], inputs))
                 for i, out in enumerate(outputs))


def _assemble(parts, out, x, create_graph, axis):
    """Stack rows (axis 0) or columns (axis -1) into out.shape + x.shape; None parts are zeros."""
    shape = tuple(out.shape) + tuple(x.shape)
    if not create_graph or all(p is None for p in parts):
        n = out._data.size if axis == 0 else x._data.size
        m = x._data.size if axis == 0 else out._data.size
        a = np.zeros((n, m), x._data.dtype)
        for j, p in enumerate(parts):
            if p is not None:
                a[j] = p._data.reshape(-1)
        return _leaf((a if axis == 0 else a.T).reshape(shape))
    like = x if axis == 0 else out
    parts = [_leaf(np.zeros_like(like._data)) if p is None else p for p in parts]
    return stack(parts, axis if axis == 0 else like.ndim).reshape(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar `func` at `inputs`, as torch.autograd.functional.hessian.

    The gradient is recorded once, then differentiated one row (or column) at a time.
    `create_graph` and `strict` are as in `jacobian`; `vectorize` is accepted and
    `outer_jacobian_strategy` is the `strategy` of the outer Jacobian.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def jac_func(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out._data.size != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        jac = _fill_in_zeros(_autograd_grad((out,), inp, create_graph=True), inp, False, "back")
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph, strict, vectorize, outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_grad(func, inputs, v, create_graph, strict, fn_name):
    """Shared front of vhp/hvp: preprocessed inputs and v, the output, its recorded gradient."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _preprocess(inputs, create_graph, True)
        v = _need_v(v, inputs, fn_name, create_graph, is_inputs_tuple)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              fn_name)
        _check_requires_grad(outputs, "outputs", strict)
        if is_outputs_tuple:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if outputs[0]._data.size != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                               "contain a single element")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar `func`, as torch.autograd.functional.vhp.

    `v` has the shape of `inputs`. With `create_graph` the result is itself recorded, so it can be
    differentiated again. With `strict`, an output independent of an input raises instead of giving
    zeros.
    """
    is_inputs_tuple, inputs, v, outputs, jac = _scalar_grad(func, inputs, v, create_graph,
                                                            strict, "vhp")
    with enable_grad() if create_graph else nullcontext():
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grads, inputs, strict, "double_back")
    return (_postprocess(outputs, create_graph)[0],
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar `func`, as torch.autograd.functional.hvp.

    `v` has the shape of `inputs`. By the double-vjp trick, not as (v^T H)^T: the two differ when
    the double backward is not symmetric (a custom Function's backward, a non-smooth point). With
    `create_graph` the result is itself recorded, so it can be differentiated again. With `strict`,
    an output independent of an input raises instead of giving zeros.
    """
    is_inputs_tuple, inputs, v, outputs, jac = _scalar_grad(func, inputs, v, create_graph,
                                                            strict, "hvp")
    with enable_grad():
        # u -> H^T u is linear in u, so its gradient w.r.t. u along v is H v; u's value never
        # matters and zeros keep it finite
        us = tuple(_leaf(np.zeros_like(x._data)).requires_grad_(True) for x in inputs)
        double_back = _autograd_grad(jac, inputs, us, create_graph=True)
    with enable_grad() if create_graph else nullcontext():
        grads = _autograd_grad(double_back, us, v, create_graph=create_graph)
        res = _fill_in_zeros(grads, inputs, strict, "double_back_trick")
    return (_postprocess(outputs, create_graph)[0],
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))
