"""Op-table rows for tapegrad/ops/nn.py: softmax and log_softmax, including extreme inputs."""
import numpy as np
from scipy import special

from .case import OpCase


def large(rng, shape):
    """Magnitudes around 1000: exp overflows without the max-shift."""
    return rng.standard_normal(shape) * 1000


def with_neginf(rng, shape):
    """Masked-attention style: some -inf entries, but row 0 and column 0 stay finite, so every
    line along either dimension has a finite maximum."""
    x = rng.standard_normal(shape)
    mask = x < -0.3
    mask[0, :] = False
    mask[:, 0] = False
    return np.where(mask, -np.inf, x)


def all_neginf_row(rng, shape):
    x = rng.standard_normal(shape)
    x[1] = -np.inf
    return x


# 2-D over each dim, negative dims, 3-D middle dim, 0-d, a size-1 reduced dim
SOFTMAX = [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((3, 4), -2), ((2, 3, 4), 1),
           ((2, 3, 4), -3), ((), 0), ((), -1), ((3, 1), 1), ((5,), 0)]


def family(name, fn, ref):
    rows = [OpCase(f"{name}_dim{d}", lambda T, x, d=d: fn(T)(x, d), lambda x, d=d: ref(x, d),
                   [(shape,)]) for shape, d in SOFTMAX]
    return rows + [
        OpCase(f"{name}_method", lambda T, x: getattr(x, name)(dim=-1), lambda x: ref(x, -1)),
        OpCase(f"{name}_large", lambda T, x: fn(T)(x, 1), lambda x: ref(x, 1),
               [((3, 4),)], large),
        OpCase(f"{name}_float32_large",
               lambda T, x: fn(T)(x.float() * 1e3, 0).double(),
               lambda x: ref(x.astype(np.float32) * 1e3, 0), [((3, 4),)], grad=False,
               atol=1e-6, rtol=1e-5),
        OpCase(f"{name}_dtype", lambda T, x: fn(T)(x.float(), 1, dtype=T.float64),
               lambda x: ref(x.astype(np.float32).astype(np.float64), 1), grad=False),
        OpCase(f"{name}_all_neginf_row", lambda T, x: fn(T)(x, 1), None, [((3, 4),)],
               all_neginf_row, grad=False),
    ]


def fixed(values):
    return lambda rng, shape: np.array(values, dtype=np.float64).reshape(shape)


ROWS = family("softmax", lambda T: T.softmax, lambda x, d: special.softmax(x, axis=d)) + \
    family("log_softmax", lambda T: T.log_softmax, lambda x, d: special.log_softmax(x, axis=d)) + [
    OpCase("softmax_neginf", lambda T, x: T.softmax(x, 1), lambda x: special.softmax(x, axis=1),
           [((4, 5),)], with_neginf),
    OpCase("softmax_neginf_dim0", lambda T, x: x.softmax(0), lambda x: special.softmax(x, axis=0),
           [((4, 5),)], with_neginf),
    # log_softmax is -inf where the input is: clamping keeps finite differences finite
    OpCase("log_softmax_neginf", lambda T, x: T.log_softmax(x, 1).clamp(min=-50),
           lambda x: np.maximum(special.log_softmax(x, axis=1), -50), [((4, 5),)], with_neginf),
    OpCase("log_softmax_neginf_values", lambda T, x: T.log_softmax(x, -1),
           lambda x: special.log_softmax(x, axis=-1), [((4, 5),)], with_neginf, grad=False),
    OpCase("softmax_extreme", lambda T, x: T.softmax(x, 0), None, [((3,),)],
           fixed([1000.0, 0.0, -1000.0])),
    OpCase("log_softmax_extreme", lambda T, x: T.log_softmax(x, 0), None, [((3,),)],
           fixed([1000.0, 0.0, -1000.0])),
    OpCase("softmax_huge", lambda T, x: T.softmax(x, 0), None, [((2,),)], fixed([-1e30, 1e30])),
    OpCase("log_softmax_huge", lambda T, x: T.log_softmax(x, 0), None, [((2,),)],
           fixed([-1e30, 1e30]), grad=False),
    # a +inf entry makes the whole row NaN in PyTorch
    OpCase("softmax_posinf", lambda T, x: T.softmax(x, 0), None, [((3,),)],
           fixed([np.inf, 0.0, 1.0]), grad=False),
    OpCase("log_softmax_posinf", lambda T, x: T.log_softmax(x, 0), None, [((3,),)],
           fixed([np.inf, 0.0, 1.0]), grad=False),
    OpCase("softmax_nan", lambda T, x: T.softmax(x, 0), None, [((2,),)],
           fixed([np.nan, 1.0]), grad=False),
    OpCase("softmax_chain", lambda T, x, w: T.log_softmax(x @ w, -1).exp(),
           lambda x, w: special.softmax(x @ w, axis=-1), [((2, 3), (3, 4))]),
]
