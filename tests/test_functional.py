"""autograd.functional: values and return structures against torch.autograd.functional."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import functional as F

A = np.random.default_rng(0).standard_normal(3)
B = np.random.default_rng(1).standard_normal((2, 3))
W = np.random.default_rng(2).standard_normal((3, 3)) / 2


# Each function takes the library first, so the same code runs on tapegrad and on PyTorch.
def elem(T, x):
    return T.exp(x) * T.tanh(x)


def two_in_two_out(T, x, y):
    return x * y, T.sin(y) + x


def two_in_one_out(T, x, y):
    return T.exp(x) * T.cos(y)


def one_in_two_out(T, x):
    return x * x, T.sin(x) * 2.0


def scalar(T, x):
    return (T.sin(x) * x * x).sum()


def scalar2(T, x, y):
    return (T.exp(x) * y * T.tanh(x)).sum() + (y * y * y).sum()


def quadratic(T, x):
    return (T.tanh(T.tensor(W) @ x) ** 2).sum()


def _args(T, *arrays):
    made = tuple(T.tensor(a) for a in arrays)
    return made[0] if len(made) == 1 else made


# name, function, inputs, v (None: no v), extra keyword arguments
CASES = [
    ("vjp", elem, (A,), (A * 2,), {}),
    ("vjp", two_in_two_out, (A, B), (B, B * 3), {}),
    ("vjp", two_in_one_out, (A, B), (B,), {}),
    ("vjp", one_in_two_out, (A,), (A, A * 3), {}),
    ("vjp", scalar, (A,), None, {}),
    ("jvp", elem, (A,), (A * 2,), {}),
    ("jvp", two_in_two_out, (A, B), (A, B * 3), {}),
    ("jvp", one_in_two_out, (A,), (A * 0.5,), {}),
    ("jvp", two_in_one_out, (A, B), (A, B), {}),
    ("jacobian", elem, (A,), None, {}),
    ("jacobian", two_in_two_out, (A, B), None, {}),
    ("jacobian", two_in_one_out, (A, B), None, {}),
    ("jacobian", one_in_two_out, (A,), None, {}),
    ("jacobian", scalar, (A,), None, {}),
    ("jacobian", two_in_two_out, (A, B), None, {"vectorize": True}),
    ("hessian", scalar, (A,), None, {}),
    ("hessian", scalar2, (A, B), None, {}),
    ("hessian", quadratic, (A,), None, {}),
    ("hvp", scalar, (A,), (A * 2,), {}),
    ("hvp", scalar2, (A, B), (A, B), {}),
    ("vhp", scalar, (A,), (A * 2,), {}),
    ("vhp", scalar2, (A, B), (A, B), {}),
]


def _call(T, name, fn, inputs, v, kw, **more):
    mod = T.autograd.functional
    args = (lambda *xs: fn(T, *xs), _args(T, *inputs))
    if v is not None:
        args += (_args(T, *v),)
    return getattr(mod, name)(*args, **kw, **more)


def _same(got, want, path="result"):
    """Same nesting (tuples where torch has tuples), shapes, dtypes and values."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, tuple), f"{path}: {type(got).__name__}, torch gives a tuple"
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{path}[{i}]")
        return
    assert isinstance(got, tg.Tensor), f"{path}: {type(got).__name__}, torch gives a Tensor"
    assert tuple(got.shape) == tuple(want.shape), f"{path}: {got.shape} vs {tuple(want.shape)}"
    assert str(got.dtype) == str(want.dtype), path
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10,
                               atol=1e-12, err_msg=path)


@pytest.mark.parametrize("name,fn,inputs,v,kw", CASES,
                         ids=[f"{c[0]}-{c[1].__name__}{'-' + ','.join(c[4]) if c[4] else ''}"
                              for c in CASES])
def test_matches_pytorch(name, fn, inputs, v, kw):
    torch = pytest.importorskip("torch")
    got = _call(tg, name, fn, inputs, v, kw)
    want = _call(torch, name, fn, inputs, v, kw)
    _same(got, want)
    for t in (got if isinstance(got, tuple) else (got,)):
        for u in (t if isinstance(t, tuple) else (t,)):
            assert not u.requires_grad     # create_graph=False: plain results


@pytest.mark.parametrize("name,fn,inputs,v", [
    ("vjp", two_in_two_out, (A, B), (B, B * 3)),
    ("jvp", two_in_two_out, (A, B), (A, B * 3)),
    ("jacobian", one_in_two_out, (A,), None),
    ("hessian", scalar2, (A, B), None),
    ("hvp", scalar2, (A, B), (A, B)),
    ("vhp", scalar, (A,), (A * 2,)),
])
def test_create_graph_results_are_differentiable_like_pytorch(name, fn, inputs, v):
    torch = pytest.importorskip("torch")
    grads = []
    for T in (tg, torch):
        xs = tuple(T.tensor(a, requires_grad=True) for a in inputs)
        args = (lambda *z: fn(T, *z), xs if len(xs) > 1 else xs[0])
        if v is not None:
            args += (_args(T, *v),)
        res = getattr(T.autograd.functional, name)(*args, create_graph=True)
        flat = []
        stack = [res]
        while stack:
            r = stack.pop()
            if isinstance(r, (tuple, list)):
                stack.extend(r)
            elif r.requires_grad:
                flat.append((r * r).sum())
        total = flat[0]
        for f in flat[1:]:
            total = total + f
        grads.append(T.autograd.grad(total, xs, allow_unused=True))
    for g, w in zip(*grads):
        assert (g is None) == (w is None)
        if g is not None:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-9, atol=1e-12)


def test_forward_mode_jacobian_and_hessian_match_reverse_mode():
    xs = (tg.tensor(A), tg.tensor(B))
    rev = F.jacobian(lambda x, y: two_in_two_out(tg, x, y), xs)
    fwd = F.jacobian(lambda x, y: two_in_two_out(tg, x, y), xs, strategy="forward-mode")
    _same(fwd, rev)
    h_rev = F.hessian(lambda x: quadratic(tg, x), tg.tensor(A))
    h_fwd = F.hessian(lambda x: quadratic(tg, x), tg.tensor(A),
                      outer_jacobian_strategy="forward-mode")
    _same(h_fwd, h_rev)


def test_hessian_of_tanh_layer_matches_closed_form():
    n = 50
    rng = np.random.default_rng(2)
    w0, x0 = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)
    w = tg.tensor(w0)
    h = F.hessian(lambda v: (tg.tanh(w @ v) ** 2).sum(), tg.tensor(x0))
    t = np.tanh(w0 @ x0)
    d = 2 * (1 - t * t) * (1 - 3 * t * t)
    np.testing.assert_allclose(h.numpy(), (w0.T * d) @ w0, rtol=1e-10, atol=1e-12)


def test_inputs_untouched_and_works_under_no_grad():
    x = tg.tensor(A, requires_grad=True)
    with tg.no_grad():
        out, g = F.vjp(lambda z: scalar(tg, z), x)
    np.testing.assert_allclose(g.numpy(), np.cos(A) * A * A + 2 * A * np.sin(A))
    assert x.grad is None and not g.requires_grad and not out.requires_grad


def test_unused_input_gives_zeros_or_strict_error():
    def f(x, y):
        return x * 2.0

    xs = (tg.tensor(A), tg.tensor(B))
    _, (gx, gy) = F.vjp(f, xs, tg.tensor(A))
    np.testing.assert_array_equal(gy.numpy(), np.zeros_like(B))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(f, xs, tg.tensor(A), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        F.jacobian(f, xs, strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                                           "require gradients"):
        F.jacobian(lambda x: tg.tensor(B), tg.tensor(A), strict=True)
    jac = F.jacobian(lambda x: tg.tensor(B), tg.tensor(A))
    assert jac.shape == (2, 3, 3) and not jac.numpy().any()
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with "
                                           "respect to input 0 is independent"):
        F.hessian(lambda x: (x * 2.0).sum(), tg.tensor(A), strict=True)


def test_argument_errors():
    x = tg.tensor(A)
    with pytest.raises(TypeError, match="inputs given to vjp must be either a Tensor or a tuple "
                                        "of Tensors"):
        F.vjp(lambda z: z, [x], x)
    with pytest.raises(RuntimeError, match="v can only be None"):
        F.vjp(lambda z: z * 2.0, x)
    with pytest.raises(RuntimeError, match="v can only be None"):
        F.jvp(lambda z: z * 2.0, x)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        F.vjp(lambda z: z * 2.0, x, tg.tensor(B))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but "
                                           "got 1"):
        F.jvp(lambda a, b: a * b, (x, x), (x,))
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hessian(lambda z: z * 2.0, x)
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        F.vhp(lambda z: (z.sum(),), x, x)
    with pytest.raises(AssertionError, match="forward-mode"):
        F.jacobian(lambda z: z, x, strategy="sideways")
    with pytest.raises(RuntimeError, match="not supported together"):
        F.jacobian(lambda z: z, x, strict=True, vectorize=True)
