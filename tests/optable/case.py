"""`OpCase`: one row of the op table, and the samplers that make its inputs."""
import numpy as np


class OpCase:
    """One op behaviour to test.

    fn:       lambda T, *tensors -> tensor or tuple of tensors; T is tapegrad or torch.
    ref:      NumPy reference on float64 arrays for the forward check (None: no NumPy check).
    shapes:   list of shape groups; each group is a tuple of input shapes (broadcasting groups).
    domain:   sampler(rng, shape) -> float64 array of valid inputs (default: normal).
    args:     extra non-tensor inputs passed after the tensors (same for both libraries).
    grad:     check VJPs against finite differences; second: check second order too.
    torch:    compare with PyTorch (values and gradients) when it is installed.
    atol, rtol: forward tolerances; eps: finite-difference step (raise it for lossy ops).
    nondiff:  indices of tensor inputs that are not differentiated (e.g. integer indices);
              `make` samplers (one per such input) build them instead of `domain`.
    """

    def __init__(self, name, fn, ref=None, shapes=(((3, 4),),), domain=None, grad=True,
                 second=True, torch=True, make=None, atol=1e-7, rtol=1e-6, eps=1e-6):
        self.name, self.fn, self.ref = name, fn, ref
        self.shapes = list(shapes)
        self.domain = domain or normal
        self.grad, self.second, self.torch = grad, second, torch
        self.make = make or {}
        self.atol, self.rtol, self.eps = atol, rtol, eps

    def inputs(self, group, seed=0):
        """float64 NumPy inputs for one shape group (non-differentiable ones from `make`)."""
        rng = np.random.default_rng(seed)
        return [self.make[i](rng, s) if i in self.make else self.domain(rng, s)
                for i, s in enumerate(group)]

    def __repr__(self):
        return self.name


def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def unit(rng, shape):
    """Inside (-1, 1), away from the ends (asin, atanh, ...)."""
    return rng.uniform(-0.9, 0.9, shape)


def away_from_zero(rng, shape):
    """Normal values pushed away from 0 (divisors, kinks at 0)."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + 0.5, x - 0.5)


def distinct(rng, shape):
    """A permutation of well-separated values: no ties for max/min/sort-like ops."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)
