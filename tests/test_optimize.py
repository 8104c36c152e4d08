"""tapegrad.optimize.minimize: same optimum as SciPy with hand-written derivatives, the same
derivatives to a few ulps, one forward per evaluation, structured parameters, errors, and the
example."""
import collections
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import optimize as so

import tapegrad as tg
from tapegrad.optimize import minimize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X0 = np.array([-1.2, 1.0, 0.5, -0.3, 0.8])


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


HESSP = ("Newton-CG", "trust-ncg", "trust-krylov", "trust-constr")
EPS = np.finfo(np.float64).eps
# SLSQP and Nelder-Mead stop when f stops changing, which pins x only to about
# sqrt(2 ftol / smallest Hessian eigenvalue); the others stop on the gradient's norm, which pins
# it to ||H^-1|| gtol, about 3e-5 here. Both tell Rosenbrock's two minima (1.96 apart) apart.
XTOL = {"SLSQP": 3e-3, "Nelder-Mead": 3e-3}


def rosen_scale(x):
    """rosen's terms in absolute value: its roundoff is a few eps times this."""
    a = np.abs(x)
    return (100 * (a[1:] + a[:-1] ** 2) ** 2 + (1 + a[:-1]) ** 2).sum()


def rosen_der_scale(x):
    """rosen_der's terms summed in absolute value: its roundoff is a few eps times this."""
    a, s = np.abs(x), np.zeros_like(x)
    s[1:] += 200 * (a[1:] + a[:-1] ** 2)
    s[:-1] += 400 * a[:-1] * (a[1:] + a[:-1] ** 2) + 2 * (1 + a[:-1])
    return s


def rosen_hess_prod_scale(x, p):
    """rosen_hess_prod's terms summed in absolute value."""
    a, q = np.abs(x), np.abs(p).astype(np.float64)   # trust-constr asks with int8 zeros too
    s = np.zeros_like(a)
    s[:-1] += (1200 * a[:-1] ** 2 + 400 * a[1:] + 2) * q[:-1] + 400 * a[:-1] * q[1:]
    s[1:] += 400 * a[:-1] * q[:-1] + 200 * q[1:]
    return s


def assert_few_ulps(got, want, scale, what):
    """Equal up to roundoff: a few eps of the terms' magnitude, never a wrong derivative."""
    err = np.abs(np.asarray(got) - want)
    assert np.all(err <= 8 * EPS * scale), f"{what}: off by {np.max(err / (EPS * scale)):.1f} eps"


def copied(v):
    """A copy of what SciPy passed or got back: SciPy reuses its arrays."""
    return tuple(map(copied, v)) if isinstance(v, tuple) else np.array(v, copy=True)


def spy_on_scipy(monkeypatch):
    """Record every gradient, Hessian-vector product and Hessian tapegrad hands to SciPy."""
    seen = collections.defaultdict(list)
    real = so.minimize

    def spy(fun, x0, args=(), jac=None, hess=None, hessp=None, **kw):
        def recorded(name, f):
            def wrapped(*a):
                out = f(*a)
                seen[name].append(copied((*a, out)))
                return out
            return wrapped if f is not None else None
        if jac is True:
            fun = recorded("value_and_grad", fun)
        return real(fun, x0, args=args, jac=jac, hess=recorded("hess", hess),
                    hessp=recorded("hessp", hessp), **kw)
    monkeypatch.setattr(so, "minimize", spy)
    return seen


@pytest.mark.parametrize("method", ["L-BFGS-B", "BFGS", "CG", "SLSQP", *HESSP, "trust-exact",
                                    "Nelder-Mead"])
def test_same_optimum_and_derivatives_as_scipy(method, monkeypatch):
    """Evaluation counts are not compared: roundoff decides them (a one-ulp difference in one
    gradient entry sends CG down a path 0.8x to 1.7x as long); the derivatives are compared."""
    extra = {"hessp": so.rosen_hess_prod} if method in HESSP else \
        {"hess": so.rosen_hess} if method == "trust-exact" else {}
    jac = None if method == "Nelder-Mead" else so.rosen_der
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # e.g. "Method Nelder-Mead does not use gradient"
        ref = so.minimize(so.rosen, X0, method=method, jac=jac, **extra)
        seen = spy_on_scipy(monkeypatch)
        res = minimize(rosen, X0, method=method)
    assert res.success and ref.success
    assert isinstance(res.x, np.ndarray)
    np.testing.assert_allclose(res.x, ref.x, atol=XTOL.get(method, 1e-4))
    assert bool(seen["value_and_grad"]) == (jac is not None)
    for x, (f, g) in seen["value_and_grad"]:
        assert_few_ulps(f, so.rosen(x), rosen_scale(x), f"value at {x}")
        assert_few_ulps(g, so.rosen_der(x), rosen_der_scale(x), f"gradient at {x}")
    assert bool(seen["hessp"]) == ("hessp" in extra)
    for x, p, hp in seen["hessp"]:
        assert_few_ulps(hp, so.rosen_hess_prod(x, p), rosen_hess_prod_scale(x, p),
                        f"Hessian-vector product at {x}")
    assert bool(seen["hess"]) == ("hess" in extra)
    for x, h in seen["hess"]:
        scale = np.stack([rosen_hess_prod_scale(x, e) for e in np.eye(len(x))], axis=1)
        assert_few_ulps(h, so.rosen_hess(x), scale, f"Hessian at {x}")


def counted(fun):
    calls = collections.Counter()

    def wrapped(*a):
        calls["forward"] += 1
        return fun(*a)
    return wrapped, calls


def test_value_and_gradient_come_from_one_forward():
    f, calls = counted(rosen)
    res = minimize(f, X0, method="L-BFGS-B")
    assert calls["forward"] == res.nfev


def test_hessian_vector_products_reuse_the_gradient_graph():
    """Newton-CG asks for many products at each iterate: one extra forward per iterate."""
    f, calls = counted(rosen)
    res = minimize(f, X0, method="Newton-CG")
    assert res.nhev > 2 * res.nit
    assert calls["forward"] <= res.nfev + res.nit + 1


def test_structured_parameters_round_trip():
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((6, 3)), rng.standard_normal(6)
    At, bt = tg.tensor(A), tg.tensor(b)
    Point = collections.namedtuple("Point", "w c")
    x0 = {"w": tg.zeros(3), "extra": [tg.zeros(2, 2, dtype=tg.float64), np.zeros(2)],
          "pt": Point(tg.zeros(()), 1.0)}
    seen = []

    def fun(p, scale):
        seen.append({k: type(v) for k, v in p.items()})
        resid = At @ p["w"] - bt
        return scale * ((resid ** 2).sum() + ((p["extra"][0] - 1) ** 2).sum()
                        + ((p["extra"][1] + 2) ** 2).sum() + (p["pt"].w - 3) ** 2
                        + (p["pt"].c - 4) ** 2)
    res = minimize(fun, x0, args=(0.5,), method="BFGS")
    x = res.x
    assert set(x) == {"w", "extra", "pt"} and isinstance(x["pt"], Point)
    assert isinstance(x["w"], tg.Tensor) and x["w"].dtype == tg.float32   # x0's dtype
    assert x["extra"][0].dtype == tg.float64 and x["extra"][0].shape == (2, 2)
    assert isinstance(x["extra"][1], np.ndarray) and isinstance(x["pt"].c, float)
    np.testing.assert_allclose(x["w"].numpy(), np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-5)
    np.testing.assert_allclose(x["extra"][0].numpy(), np.ones((2, 2)), atol=1e-6)
    np.testing.assert_allclose(x["extra"][1], [-2, -2], atol=1e-6)
    np.testing.assert_allclose([x["pt"].w.item(), x["pt"].c], [3, 4], atol=1e-6)
    assert seen[0] == {"w": tg.Tensor, "extra": list, "pt": Point}
    assert not x0["w"].requires_grad and np.all(x0["w"].numpy() == 0)   # x0 untouched


def test_callbacks_see_the_structure():
    got = []
    minimize(lambda p: ((p[0] - 1) ** 2).sum() + (p[1] ** 2).sum(), (tg.ones(2), tg.ones(3)),
             method="L-BFGS-B", callback=lambda xk: got.append(xk))
    assert got and isinstance(got[0], tuple) and got[0][1].shape == (3,)
    results = []
    minimize(rosen, tg.tensor(X0), method="trust-constr",
             callback=lambda intermediate_result: results.append(intermediate_result))
    assert results and isinstance(results[0].x, tg.Tensor)


def test_bounds_and_constraints_refer_to_the_flat_vector():
    res = minimize(lambda p: rosen(tg.cat([p["a"], p["b"]])),
                   {"a": tg.tensor(X0[:2]), "b": tg.tensor(X0[2:])}, bounds=so.Bounds(-0.5, 0.5))
    assert res.success and all(np.all(np.abs(v.numpy()) <= 0.5) for v in res.x.values())
    cons = {"type": "eq", "fun": lambda z: z.sum() - 1.0}
    res = minimize(lambda x: (x ** 2).sum(), np.array([1.0, -3.0]), method="SLSQP", tol=1e-10,
                   constraints=cons)
    np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-6)


def test_objective_independent_of_some_or_all_parameters():
    res = minimize(lambda p: (p[0] ** 2).sum(), [tg.ones(2), tg.ones(3)], method="Newton-CG")
    np.testing.assert_allclose(res.x[0].numpy(), 0, atol=1e-6)
    np.testing.assert_array_equal(res.x[1].numpy(), 1)
    res = minimize(lambda x: tg.tensor(3.0), tg.ones(2))
    assert res.success and res.fun == 3.0


def test_errors():
    with pytest.raises(ValueError, match=r"scalar.*shape \[4\]"):
        minimize(lambda x: x ** 2, tg.ones(4))
    with pytest.raises(ValueError, match=r"shape \[2, 2\]"):
        minimize(lambda x: x.sum() * tg.ones(2, 2), tg.ones(4), method="Newton-CG")
    with pytest.raises(TypeError, match=r"x0\['n'\] is a int64 tensor of shape \[3\]"):
        minimize(lambda p: p["n"].sum(), {"n": tg.tensor([1, 2, 3])})
    with pytest.raises(TypeError, match=r"x0\[1\] is a str"):
        minimize(lambda p: p[0].sum(), [tg.ones(1), "a"])


def test_example_runs():
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)     # this checkout's tapegrad, installed or not
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "scipy_minimize.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for line in ("logistic regression, L-BFGS-B:", "logistic regression, Newton-CG:",
                 "Rosenbrock, L-BFGS-B:", "Rosenbrock, Newton-CG:"):
        assert line in out
    assert out.count("success: True") == 2
