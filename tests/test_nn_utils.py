"""torch.nn.utils: gradient clipping, parameters as a vector, parametrize and the
parametrizations (weight_norm, spectral_norm, orthogonal) against PyTorch; nn.init's
orthogonal_, sparse_ and dirac_."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
from tapegrad.nn import init
from tapegrad.nn.utils import parametrize, parametrizations

R = np.random.default_rng(7)


def _np(t):
    return t.detach().numpy()


def _linear(lib, w, b):
    m = lib.nn.Linear(w.shape[1], w.shape[0]).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(w))
        m.bias.copy_(lib.tensor(b))
    return m


def _grads(lib, shapes):
    ps = [lib.zeros(*s, dtype=lib.float64, requires_grad=True) for s in shapes]
    for p, g in zip(ps, GRADS):
        p.grad = lib.tensor(g)
    return ps


SHAPES = [(3, 4), (5,), (2, 2, 2)]
GRADS = [R.standard_normal(s) * 3 for s in SHAPES]


@pytest.mark.parametrize("norm_type", [2.0, 1, "inf", 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = _grads(tg, SHAPES), _grads(torch, SHAPES)
    a = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type, foreach=True)
    b = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(a, tg.Tensor) and a.shape == ()
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    p = tg.zeros(3, requires_grad=True)
    assert float(nn.utils.clip_grad_norm_(p, 1.0)) == 0.0        # no gradients: norm 0
    p.grad = tg.tensor([np.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = tg.zeros(2, requires_grad=True)
    q.grad = tg.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_((x for x in [q]), 1.0)     # a generator is read once
    assert float(total) == 5.0 and np.allclose(_np(q.grad), [0.6, 0.8], atol=1e-6)


def test_clip_grad_value_():
    ps = _grads(tg, SHAPES)
    nn.utils.clip_grad_value_(ps, 0.7)
    for p, g in zip(ps, GRADS):
        assert np.array_equal(_np(p.grad), np.clip(g, -0.7, 0.7))


def test_parameters_vector_round_trip():
    torch = pytest.importorskip("torch")
    w, b = R.standard_normal((3, 4)), R.standard_normal(3)
    ours, theirs = _linear(tg, w, b), _linear(torch, w, b)
    v = nn.utils.parameters_to_vector(ours.parameters())
    assert np.array_equal(_np(v), _np(torch.nn.utils.parameters_to_vector(theirs.parameters())))
    (v * tg.arange(15.0)).sum().backward()      # recorded: gradients reach the parameters
    assert np.array_equal(_np(ours.weight.grad).ravel(), np.arange(12.0))
    nn.utils.vector_to_parameters(tg.arange(15.0, dtype=tg.float64), ours.parameters())
    assert np.array_equal(_np(ours.bias), [12.0, 13.0, 14.0])
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters(np.zeros(15), ours.parameters())


def _steps(lib, m, x, n=3):
    """Outputs, and parameters after n SGD steps on sum(m(x)^2)."""
    opt = lib.optim.SGD(m.parameters(), lr=0.05)
    outs = []
    for _ in range(n):
        opt.zero_grad()
        y = m(x)
        (y ** 2).sum().backward()
        opt.step()
        outs.append(_np(y))
    return outs, {k: _np(v) for k, v in m.state_dict().items()}


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    torch = pytest.importorskip("torch")
    w, b, x = R.standard_normal((3, 4)), R.standard_normal(3), R.standard_normal((5, 4))
    ours = parametrizations.weight_norm(_linear(tg, w, b), dim=dim)
    theirs = torch.nn.utils.parametrizations.weight_norm(_linear(torch, w, b), dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours).__name__ == "ParametrizedLinear"
    np.testing.assert_allclose(_np(ours.weight), w, rtol=1e-12)
    a, sa = _steps(tg, ours, tg.tensor(x))
    b_, sb = _steps(torch, theirs, torch.tensor(x))
    for u, v in zip(a, b_):
        np.testing.assert_allclose(u, v, rtol=1e-10)
    for k in sb:
        np.testing.assert_allclose(sa[k], sb[k], rtol=1e-10, err_msg=k)


def test_spectral_norm_matches_torch():
    torch = pytest.importorskip("torch")
    w, b, x = R.standard_normal((4, 6)), R.standard_normal(4), R.standard_normal((5, 6))
    ours = parametrizations.spectral_norm(_linear(tg, w, b))
    theirs = torch.nn.utils.parametrizations.spectral_norm(_linear(torch, w, b))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # the random start vectors differ; from the same ones, everything must agree
    ours.load_state_dict({k: tg.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    a, sa = _steps(tg, ours, tg.tensor(x))
    b_, sb = _steps(torch, theirs, torch.tensor(x))
    for u, v in zip(a, b_):
        np.testing.assert_allclose(u, v, rtol=1e-9)
    for k in sb:
        np.testing.assert_allclose(sa[k], sb[k], rtol=1e-9, atol=1e-12, err_msg=k)
    sigma = np.linalg.svd(_np(ours.parametrizations.weight.original), compute_uv=False)[0]
    ours.eval()
    np.testing.assert_allclose(_np(ours.weight) * sigma, _np(ours.parametrizations.weight
                                                              .original), rtol=1e-3)


def test_spectral_norm_of_conv_weight_and_errors():
    m = parametrizations.spectral_norm(nn.Conv2d(2, 3, 3))
    assert m.parametrizations.weight[0]._u.shape == (3,)
    with pytest.raises(ValueError, match="no parameter or buffer"):
        parametrizations.spectral_norm(nn.Linear(2, 2), name="nope")
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_square_matches_torch(orthogonal_map):
    torch = pytest.importorskip("torch")
    w, b, x = R.standard_normal((4, 4)), R.standard_normal(4), R.standard_normal((5, 4))
    ours = parametrizations.orthogonal(_linear(tg, w, b), orthogonal_map=orthogonal_map)
    theirs = torch.nn.utils.parametrizations.orthogonal(_linear(torch, w, b),
                                                        orthogonal_map=orthogonal_map)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    a, sa = _steps(tg, ours, tg.tensor(x))
    b_, sb = _steps(torch, theirs, torch.tensor(x))
    for u, v in zip(a, b_):
        np.testing.assert_allclose(u, v, rtol=1e-8, atol=1e-12)
    for k in sb:
        np.testing.assert_allclose(sa[k], sb[k], rtol=1e-8, atol=1e-12, err_msg=k)
    q = _np(ours.weight)
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-12)


@pytest.mark.parametrize("shape,kw", [((3, 5), {}), ((5, 3), {}),
                                      ((5, 3), {"use_trivialization": False}),
                                      ((3, 5), {"orthogonal_map": "matrix_exp"}),
                                      ((2, 3, 3), {"orthogonal_map": "cayley"})])
def test_orthogonal_stays_orthogonal_while_training(shape, kw):
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tg.tensor(R.standard_normal(shape)))
    m = parametrizations.orthogonal(Holder(), **kw)
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    target = tg.tensor(R.standard_normal(shape))
    for _ in range(3):
        opt.zero_grad()
        ((m.weight - target) ** 2).sum().backward()
        opt.step()
    q = _np(m.weight)
    small = min(shape[-2:])
    gram = q @ np.swapaxes(q, -1, -2) if shape[-2] < shape[-1] else np.swapaxes(q, -1, -2) @ q
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(small), gram.shape), atol=1e-10)


def test_orthogonal_without_trivialization_matches_torch_householder():
    torch = pytest.importorskip("torch")
    w, b = R.standard_normal((5, 3)), R.standard_normal(5)
    ours = parametrizations.orthogonal(_linear(tg, w, b), use_trivialization=False)
    theirs = torch.nn.utils.parametrizations.orthogonal(_linear(torch, w, b),
                                                        use_trivialization=False)
    np.testing.assert_allclose(_np(ours.parametrizations.weight.original),
                               _np(theirs.parametrizations.weight.original), atol=1e-12)
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), atol=1e-12)


def _scale(lib):
    class Scale(lib.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, Y):
            return Y / 2
    return Scale()


def test_register_and_remove_parametrization():
    torch = pytest.importorskip("torch")
    w = R.standard_normal((3, 3))
    ours = _linear(tg, w, np.zeros(3))
    theirs = _linear(torch, w, np.zeros(3))
    parametrize.register_parametrization(ours, "weight", _scale(tg))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _scale(torch))
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(_np(ours.parametrizations.weight.original), w / 2)
    np.testing.assert_allclose(_np(ours.weight), w)
    original = ours.parametrizations.weight.original
    ours.weight = tg.ones(3, 3, dtype=tg.float64)           # through right_inverse, in place
    assert ours.parametrizations.weight.original is original
    np.testing.assert_allclose(_np(original), 0.5)
    parametrize.register_parametrization(ours, "weight", _scale(tg))   # chained
    np.testing.assert_allclose(_np(ours.weight), 2.0)
    with parametrize.cached():
        assert ours.weight is ours.weight
    parametrize.remove_parametrizations(ours, "weight")
    assert type(ours) is nn.Linear and not hasattr(ours, "parametrizations")
    assert ours.weight is original and np.allclose(_np(ours.weight), 2.0)
    assert isinstance(ours.weight, nn.Parameter)


def test_parametrization_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(m, "nope", _scale(tg))

    class Shrink(nn.Module):
        def forward(self, X):
            return X[0]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(m, "weight")
    parametrizations.weight_norm(m)
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)


def test_init_orthogonal_():
    t = tg.empty(3, 2, 4)
    init.orthogonal_(t, gain=2.0)
    flat = _np(t).reshape(3, 8)
    np.testing.assert_allclose(flat @ flat.T, 4 * np.eye(3), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(tg.empty(3))


def test_init_sparse_():
    t = tg.empty(10, 200)
    init.sparse_(t, sparsity=0.35, std=0.5, generator=tg.Generator().manual_seed(0))
    a = _np(t)
    assert ((a == 0).sum(axis=0) == 4).all()            # ceil(0.35 * 10) zeros per column
    assert 0.45 < a[a != 0].std() < 0.55
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(tg.empty(2, 2, 2), 0.1)


def test_init_dirac_matches_torch():
    torch = pytest.importorskip("torch")
    for shape, groups in [((4, 3, 3), 1), ((6, 2, 3, 3), 2), ((2, 4, 1, 3, 3), 1)]:
        ours, theirs = tg.empty(*shape), torch.empty(*shape)
        init.dirac_(ours, groups)
        torch.nn.init.dirac_(theirs, groups)
        assert np.array_equal(_np(ours), theirs.numpy())
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(tg.empty(3, 3, 3), groups=2)
    with pytest.raises(ValueError, match="3, 4, or 5"):
        init.dirac_(tg.empty(3, 3))
