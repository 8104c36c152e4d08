"""PyTorch's `out=` keyword (primitives in `_make_op`, composites and factories through
tapegrad/ops/out.py): the result written into `out`, which is returned; resizing with PyTorch's
warning; the casting rule; the autograd refusal before anything changes; views as `out`."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

F, L, B = "float32", "int64", "bool"


def _floats(*shapes):
    return lambda rng: [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _index(rng):
    return [rng.standard_normal((3, 4)).astype(np.float32), rng.integers(0, 3, (2, 4))]


# name -> (call(T, *inputs, out=...), inputs(rng), out spec: (shape, dtype) or a tuple of them)
CASES = {
    "add": (lambda T, a, b, out: T.add(a, b, alpha=2, out=out), _floats((3, 1), (4,)),
            ((3, 4), F)),
    "mul": (lambda T, a, b, out: T.mul(a, b, out=out), _floats((3, 4), (4,)), ((3, 4), F)),
    "exp": (lambda T, a, out: T.exp(a, out=out), _floats((5,)), ((5,), F)),
    "div_floor": (lambda T, a, b, out: T.div(a, b, rounding_mode="floor", out=out),
                  _floats((3, 4), (4,)), ((3, 4), F)),
    "pow": (lambda T, a, out: T.pow(a, 2, out=out), _floats((4,)), ((4,), F)),
    "where": (lambda T, a, b, out: T.where(a > 0, a, b, out=out), _floats((3, 4), (4,)),
              ((3, 4), F)),
    "clamp": (lambda T, a, out: T.clamp(a, -0.5, 0.5, out=out), _floats((6,)), ((6,), F)),
    "matmul": (lambda T, a, b, out: T.matmul(a, b, out=out), _floats((2, 3, 4), (4, 5)),
               ((2, 3, 5), F)),
    "mm": (lambda T, a, b, out: T.mm(a, b, out=out), _floats((3, 4), (4, 2)), ((3, 2), F)),
    "bmm": (lambda T, a, b, out: T.bmm(a, b, out=out), _floats((2, 3, 4), (2, 4, 2)),
            ((2, 3, 2), F)),
    "mv": (lambda T, a, b, out: T.mv(a, b, out=out), _floats((3, 4), (4,)), ((3,), F)),
    "dot": (lambda T, a, b, out: T.dot(a, b, out=out), _floats((4,), (4,)), ((), F)),
    "outer": (lambda T, a, b, out: T.outer(a, b, out=out), _floats((3,), (4,)), ((3, 4), F)),
    "sum": (lambda T, a, out: T.sum(a, 1, out=out), _floats((3, 4)), ((3,), F)),
    "mean": (lambda T, a, out: T.mean(a, (0, 1), keepdim=True, out=out), _floats((3, 4)),
             ((1, 1), F)),
    "prod": (lambda T, a, out: T.prod(a, 0, out=out), _floats((3, 4)), ((4,), F)),
    "amax": (lambda T, a, out: T.amax(a, 1, out=out), _floats((3, 4)), ((3,), F)),
    "max_dim": (lambda T, a, out: T.max(a, 1, out=out), _floats((3, 4)), (((3,), F), ((3,), L))),
    "min_dim": (lambda T, a, out: T.min(a, 0, True, out=out), _floats((3, 4)),
                (((1, 4), F), ((1, 4), L))),
    "logsumexp": (lambda T, a, out: T.logsumexp(a, 1, out=out), _floats((3, 4)), ((3,), F)),
    "std": (lambda T, a, out: T.std(a, 1, out=out), _floats((3, 4)), ((3,), F)),
    "cumsum": (lambda T, a, out: T.cumsum(a, 1, out=out), _floats((3, 4)), ((3, 4), F)),
    "cumprod": (lambda T, a, out: T.cumprod(a, 0, out=out), _floats((3, 4)), ((3, 4), F)),
    "cat": (lambda T, a, b, out: T.cat([a, b], 1, out=out), _floats((3, 2), (3, 4)),
            ((3, 6), F)),
    "stack": (lambda T, a, b, out: T.stack((a, b), 1, out=out), _floats((3, 2), (3, 2)),
              ((3, 2, 2), F)),
    "sort": (lambda T, a, out: T.sort(a, 1, True, out=out), _floats((3, 4)),
             (((3, 4), F), ((3, 4), L))),
    "topk": (lambda T, a, out: T.topk(a, 2, out=out), _floats((3, 4)),
             (((3, 2), F), ((3, 2), L))),
    "gather": (lambda T, a, i, out: T.gather(a, 0, i, out=out), _index, ((2, 4), F)),
    "tril": (lambda T, a, out: T.tril(a, -1, out=out), _floats((4, 4)), ((4, 4), F)),
    "cross": (lambda T, a, b, out: T.cross(a, b, dim=1, out=out), _floats((2, 3), (2, 3)),
              ((2, 3), F)),
    "linalg_inv": (lambda T, a, out: T.linalg.inv(a + 4 * T.eye(3), out=out), _floats((3, 3)),
                   ((3, 3), F)),
    "linalg_svdvals": (lambda T, a, out: T.linalg.svdvals(a, out=out), _floats((4, 3)),
                       ((3,), F)),
    "linalg_vector_norm": (lambda T, a, out: T.linalg.vector_norm(a, 1, 0, out=out),
                           _floats((3, 4)), ((4,), F)),
    "eq": (lambda T, a, out: T.eq(a, a, out=out), _floats((4,)), ((4,), B)),
    "argmax": (lambda T, a, out: T.argmax(a, 1, out=out), _floats((3, 4)), ((3,), L)),
    "zeros": (lambda T, out: T.zeros(2, 3, out=out), _floats(), ((2, 3), L)),
    "ones": (lambda T, out: T.ones((2, 2), out=out), _floats(), ((2, 2), F)),
    "full": (lambda T, out: T.full((3,), 2.5, out=out), _floats(), ((3,), "float64")),
    "arange": (lambda T, out: T.arange(1, 7, 2, out=out), _floats(), ((3,), F)),
    "linspace": (lambda T, out: T.linspace(0, 1, 5, out=out), _floats(), ((5,), F)),
    "eye": (lambda T, out: T.eye(3, 2, out=out), _floats(), ((3, 2), L)),
}


def _outs(T, spec):
    if isinstance(spec[1], tuple):        # several outs
        return tuple(T.empty(shape, dtype=getattr(T, dt)) for shape, dt in spec)
    shape, dt = spec
    return T.empty(shape, dtype=getattr(T, dt))


def _run(T, name):
    call, inputs, spec = CASES[name]
    ins = [T.tensor(a) for a in inputs(np.random.default_rng(0))]
    out = _outs(T, spec)
    return call(T, *ins, out=out), out, call(T, *ins, out=None)


def _pairs(r, out):
    return list(zip(r, out)) if isinstance(out, tuple) else [(r, out)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_is_returned_and_holds_the_plain_result(name):
    r, out, plain = _run(tg, name)
    for (got, o), p in zip(_pairs(r, out), plain if isinstance(out, tuple) else [plain]):
        assert got is o
        assert got.dtype == o.dtype and got.shape == p.shape
        np.testing.assert_array_equal(got.numpy(), p.numpy().astype(got.numpy().dtype))


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_parity_with_torch(name):
    torch = pytest.importorskip("torch")
    (ours, _, _), (theirs, _, _) = _run(tg, name), _run(torch, name)
    if isinstance(theirs, tuple):       # torch.return_types.max_out & co: named tuples
        assert ours._fields == ("values", "indices") and ours.values is ours[0]
    for a, b in zip(*(x if isinstance(x, tuple) else (x,) for x in (ours, theirs))):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_random_factories_write_into_out():
    tg.manual_seed(0)
    for make, dt in ((lambda o: tg.rand(2, 3, out=o), tg.float64),
                     (lambda o: tg.randn(2, 3, out=o), tg.float32),
                     (lambda o: tg.randint(0, 5, (2, 3), out=o), tg.float32),
                     (lambda o: tg.randperm(6, out=o), tg.int32)):
        o = tg.zeros(0, dtype=dt)
        assert make(o) is o and o.dtype == dt and o.numel() == 6
    with pytest.raises(RuntimeError, match="floating point"):
        tg.rand(3, out=tg.empty(3, dtype=tg.int64))


def test_factories_take_outs_dtype_and_refuse_another():
    o = tg.empty(3, dtype=tg.int64)
    assert tg.arange(3, out=o).tolist() == [0, 1, 2] and o.dtype == tg.int64
    with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out "
                                           r"parameter \(Long\)"):
        tg.zeros(3, dtype=tg.float64, out=o)


# ---- resizing ----------------------------------------------------------------------------------
def test_resizing_a_nonempty_out_warns_as_pytorch():
    x = tg.ones(3)
    out = tg.empty(2)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[2\].*shape \[3\]") as w:
        assert tg.add(x, 1, out=out) is out
    assert w[0].filename == __file__            # points at the caller, not into tapegrad
    assert out.shape == (3,) and out.tolist() == [2.0, 2.0, 2.0]
    with pytest.warns(UserWarning, match="resized"):
        tg.sum(tg.ones(2, 3), 0, out=tg.empty(2, 2))


def test_resizing_an_empty_out_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tg.cat([tg.ones(2), tg.zeros(3)], out=tg.empty(0))
        assert out.tolist() == [1, 1, 0, 0, 0]
        values, indices = tg.sort(tg.tensor([3.0, 1.0]), out=(tg.empty(0), tg.empty(0,
                                                                 dtype=tg.int64)))
        assert values.tolist() == [1.0, 3.0] and indices.tolist() == [1, 0]


# ---- dtypes ------------------------------------------------------------------------------------
def test_results_cast_into_outs_dtype_within_or_up_a_category():
    o = tg.empty(3, dtype=tg.float64)
    tg.add(tg.ones(3), 1, out=o)
    assert o.dtype == tg.float64 and o.tolist() == [2.0, 2.0, 2.0]
    i32 = tg.empty(3, dtype=tg.int32)
    tg.add(tg.ones(3, dtype=tg.int64), 1, out=i32)     # Long into Int: the same category
    assert i32.dtype == tg.int32 and i32.tolist() == [2, 2, 2]
    f16 = tg.empty(3, dtype=tg.float16)
    tg.mul(tg.ones(3, dtype=tg.float64), 3, out=f16)
    assert f16.dtype == tg.float16 and f16.tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("make,message", [
    (lambda T: T.add(T.ones(3), 1, out=T.empty(3, dtype=T.int64)),
     "result type Float can't be cast to the desired output type Long"),
    (lambda T: T.add(T.ones(3, dtype=T.int64), 1, out=T.empty(3, dtype=T.bool)),
     "result type Long can't be cast to the desired output type Bool"),
    (lambda T: T.mean(T.ones(2, 2), 0, out=T.empty(2, dtype=T.int32)),
     "result type Float can't be cast to the desired output type Int"),
])
def test_a_cast_down_a_category_is_refused_as_pytorch(make, message):
    with pytest.raises(RuntimeError, match=message):
        make(tg)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=message):
        make(torch)


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
        tg.add(tg.ones(3), 1, out=[tg.empty(3)])
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not int"):
        tg.sum(tg.ones(3), out=3)
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not tuple"):
        tg.sum(tg.ones(3), out=(tg.empty(()),))
    with pytest.raises(TypeError, match="must be a tuple of 2 Tensors"):
        tg.max(tg.ones(3), 0, out=tg.empty(()))


# ---- autograd ----------------------------------------------------------------------------------
_REFUSED = [
    ("add", lambda x, o: tg.add(x, 1, out=o)),
    ("exp", lambda x, o: tg.exp(input=x, out=o)),
    ("sum", lambda x, o: tg.sum(x, 0, keepdim=True, out=o)),
    ("cat", lambda x, o: tg.cat([tg.ones(1), x], out=o)),
    ("matmul", lambda x, o: tg.matmul(x, x, out=o)),
    ("clamp", lambda x, o: tg.clamp(x, 0, 1, out=o)),
]


@pytest.mark.parametrize("name,call", _REFUSED)
def test_an_input_that_requires_grad_is_refused_before_anything_changes(name, call):
    x = tg.ones(3, requires_grad=True)
    o = tg.full((2,), 7.0)          # the wrong shape: a resize would show
    version = o._version
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): functions with out=\.\.\. arguments "
                                           "don't support automatic differentiation, but one "
                                           r"of the arguments requires grad\.$"):
        call(x, o)
    assert o.shape == (2,) and o.tolist() == [7.0, 7.0] and o._version == version
    assert x.grad is None and x.grad_fn is None
    with tg.no_grad(), pytest.warns(UserWarning, match="resized"):   # no graph is built: fine
        call(x, o)
    assert not o.requires_grad


def test_an_out_that_requires_grad_is_refused_unless_grad_mode_is_off():
    o = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^mul\(\): functions with out="):
        tg.mul(tg.ones(3), 2, out=o)
    with pytest.raises(RuntimeError, match=r"^aten::zeros\(\): functions with out="):
        tg.zeros(3, out=o)
    with tg.no_grad():
        assert tg.mul(tg.ones(3), 2, out=o) is o
    assert o.requires_grad and o.tolist() == [2.0, 2.0, 2.0]


def test_ops_pytorch_does_not_differentiate_accept_inputs_that_require_grad():
    x = tg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    assert tg.argmax(x, out=tg.empty((), dtype=tg.int64)).item() == 1
    assert tg.eq(x, 3, out=tg.empty(3, dtype=tg.bool)).tolist() == [False, True, False]


def test_the_refusal_matches_torch():
    torch = pytest.importorskip("torch")
    for T in (tg, torch):
        x = T.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"^max\(\): functions with out="):
            T.max(x, 1, out=(T.empty(2), T.empty(2, dtype=T.int64)))


# ---- where the values go -----------------------------------------------------------------------
def test_a_view_as_out_writes_through_to_its_base():
    base = tg.zeros(3, 4)
    row = base[1]
    version = base._version
    assert tg.add(tg.ones(4), 1, out=row) is row
    assert base.tolist() == [[0.0] * 4, [2.0] * 4, [0.0] * 4]
    tg.mul(tg.ones(3), 3, out=base[:, 0])          # a strided view
    assert base[:, 0].tolist() == [3.0, 3.0, 3.0] and base[1, 1].item() == 2.0
    assert base._version > version


def test_a_view_needing_a_resize_or_a_read_only_out_is_refused():
    base = tg.zeros(3, 4)
    with pytest.raises(RuntimeError, match="view"):
        tg.add(tg.ones(2), 1, out=base[0])
    assert base.tolist() == [[0.0] * 4] * 3
    with pytest.raises(RuntimeError, match="read-only"):
        tg.add(tg.ones(2, 3), 1, out=tg.zeros(3).expand(2, 3))


def test_out_from_numpy_writes_into_the_array():
    a = np.zeros(3, np.float32)
    tg.exp(tg.zeros(3), out=tg.from_numpy(a))
    assert a.tolist() == [1.0, 1.0, 1.0]


def test_a_later_backward_through_a_value_overwritten_by_out_fails():
    """out= bumps the version counter like any in-place write."""
    x = tg.ones(3, requires_grad=True)
    w = tg.full((3,), 2.0)
    y = (x * w).sum()
    tg.mul(tg.ones(3), 5, out=w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
