"""SciPy's optimizers driven by tapegrad gradients: tapegrad.optimize.minimize.

The objectives below are ordinary tapegrad code; minimize supplies SciPy with their gradients
(and, for Newton-CG, Hessian-vector products) from the tape.
"""
import numpy as np

import tapegrad as torch
from tapegrad.optimize import minimize

# ---- logistic regression on synthetic data, parameters as a dict of tensors ------------------
rng = np.random.default_rng(0)
n, d = 500, 5
X = torch.tensor(rng.standard_normal((n, d)))
true_w, true_b = rng.standard_normal(d), 0.5
y = torch.tensor((rng.uniform(size=n) < 1 / (1 + np.exp(-(X.numpy() @ true_w + true_b))))
                 .astype(np.float64))


def logistic_loss(params, X, y, l2):
    z = X @ params["w"] + params["b"]
    softplus = torch.logsumexp(torch.stack([torch.zeros_like(z), z]), 0)   # log(1 + e^z)
    return (softplus - y * z).mean() + l2 * (params["w"] ** 2).sum()


params0 = {"w": torch.zeros(d), "b": torch.zeros(())}
for method in ("L-BFGS-B", "Newton-CG"):
    res = minimize(logistic_loss, params0, args=(X, y, 1e-3), method=method)
    print(f"logistic regression, {method}: {res.nit} iterations, {res.nfev} evaluations, "
          f"loss {res.fun:.6f}")
    print("  w =", np.round(res.x["w"].numpy(), 4), " b =", round(res.x["b"].item(), 4))
print("  true w =", np.round(true_w, 4), " true b =", true_b)


# ---- the Rosenbrock function in 10 dimensions -------------------------------------------------
def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


x0 = torch.tensor([-1.2, 1.0] * 5)
for method in ("L-BFGS-B", "Newton-CG"):
    res = minimize(rosenbrock, x0, method=method, tol=1e-10)
    print(f"Rosenbrock, {method}: {res.nit} iterations, {res.nfev} evaluations, "
          f"f = {res.fun:.3e}, success: {res.success}")
    print("  x =", np.round(res.x.numpy(), 6))
