"""Op-table rows for tapegrad/ops/reduction.py and statistics.py."""
import numpy as np
from scipy import special

from .case import OpCase, distinct, away_from_zero

ALL = [((3, 4),), ((),), ((2, 1, 3),)]          # dim=None, 0-d included
DIM1 = [((3, 4),), ((2, 3, 4),), ((2, 1, 3),)]  # dim=1, a size-1 dim included
MOMENTS = [((3, 4),), ((2, 3, 4),)]             # dim=1 for var/std: N - 1 > 0
NEG = [((3, 4),), ((5,),), ((2, 3, 4),)]        # dim=-1
TUPLE = [((3, 4),), ((2, 3, 4),)]               # dim=(0, -1)
SCALAR = [((),)]                                # 0-d input with dim=0 or -1
MATRIX = [((3, 4),)]


def fixed(values):
    """A sampler that always returns `values` (ties, zeros, infinities at known places)."""
    values = np.array(values, dtype=np.float64)
    return lambda rng, shape: values.reshape(shape).copy()


def zeros_at(*flat):
    """Values in +-(0.5, 1.5) with exact zeros at the given flat positions."""
    def sample(rng, shape):
        x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        x.reshape(-1)[list(flat)] = 0.0
        return x
    return sample


def separated(rng, shape):
    """Distinct absolute values with random signs: no ties for the inf-norms."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) * 0.37 + 0.5) * rng.choice([-1.0, 1.0], n)).reshape(shape)


def constant(rng, shape):
    return np.full(shape, 1.5)


# (3, 4): along dim 1, rows with one, two and three zeros; along dim 0, columns with 2, 2, 1, 1
MIXED_ZEROS = zeros_at(1, 4, 6, 8, 9, 11)
# ties of two, so that central differences (which see half of a tie) agree with the even split
TIES2 = fixed([[1.0, 3.0, 3.0, 0.0], [2.0, -1.0, 2.0, 0.5], [5.0, 1.0, 2.0, 5.0]])
# ties of three, checked through the gradient itself (see `tie_grad`)
TIES3 = fixed([[3.0, 1.0, 3.0, 3.0], [-2.0, 0.0, -2.0, -2.0], [-2.0, 1.0, 3.0, 2.0]])


def tie_grad(f):
    """fn(T, x, y): x times the gradient of f at the tied input y, so both libraries' tie
    rules are compared exactly (finite differences cannot see a three-way tie)."""
    def fn(T, x, y):
        y = y.detach().requires_grad_()
        g, = T.autograd.grad(f(T, y).sum(), y)
        return g * x
    return fn


def share(hit, axis):
    return hit / hit.sum(axis=axis, keepdims=True)


def first(hit, axis):
    """One-hot of the first True along axis."""
    out = np.zeros(hit.shape)
    np.put_along_axis(out, hit.argmax(axis, keepdims=True), 1.0, axis)
    return out


PAIR = [((3, 4), (3, 4))]

ROWS = [
    # ---- sum and mean
    OpCase("sum_all", lambda T, x: T.sum(x), np.sum, ALL),
    OpCase("sum_dim", lambda T, x: x.sum(1), lambda x: x.sum(1), DIM1),
    OpCase("sum_neg_keepdim", lambda T, x: T.sum(x, -1, keepdim=True),
           lambda x: x.sum(-1, keepdims=True), NEG),
    OpCase("sum_tuple", lambda T, x: T.sum(x, (0, -1)), lambda x: x.sum((0, -1)), TUPLE),
    OpCase("sum_tuple_keepdim", lambda T, x: x.sum(dim=[-1, 0], keepdim=True),
           lambda x: x.sum((0, -1), keepdims=True), TUPLE),
    OpCase("sum_scalar_dim", lambda T, x: T.sum(x, 0), lambda x: x, SCALAR),
    # float32 in, float64 out: the cotangent comes back as float32 (a wide step: it is linear)
    OpCase("sum_dtype", lambda T, x: T.sum(x.float(), 1, dtype=T.float64),
           lambda x: x.astype(np.float32).astype(np.float64).sum(1), MATRIX, atol=1e-6, eps=1e-2),
    OpCase("sum_bool", lambda T, x: T.sum(x > 0, 1), lambda x: (x > 0).sum(1), DIM1, grad=False),
    OpCase("mean_all", lambda T, x: x.mean(), np.mean, ALL),
    OpCase("mean_dim_keepdim", lambda T, x: T.mean(x, 1, True), lambda x: x.mean(1, keepdims=True),
           DIM1),
    OpCase("mean_tuple", lambda T, x: T.mean(x, (0, -1)), lambda x: x.mean((0, -1)), TUPLE),
    OpCase("mean_scalar_dim", lambda T, x: T.mean(x, -1), lambda x: x, SCALAR),
    OpCase("mean_bool_dtype", lambda T, x: T.mean(x > 0, 1, dtype=T.float64),
           lambda x: (x > 0).mean(1), MATRIX, grad=False),

    # ---- prod: zeros in the input, one, two and three to a slice
    OpCase("prod_all", lambda T, x: T.prod(x), np.prod, ALL),
    OpCase("prod_dim", lambda T, x: x.prod(1), lambda x: x.prod(1), DIM1),
    OpCase("prod_neg_keepdim", lambda T, x: T.prod(x, -1, keepdim=True),
           lambda x: x.prod(-1, keepdims=True), NEG),
    OpCase("prod_scalar_dim", lambda T, x: T.prod(x, 0), lambda x: x, SCALAR),
    # PyTorch's prod takes one dim; tapegrad's takes several like sum
    OpCase("prod_tuple", lambda T, x: T.prod(x, (0, -1)), lambda x: x.prod((0, -1)), TUPLE,
           torch=False),
    OpCase("prod_zeros_dim", lambda T, x: T.prod(x, 1), lambda x: x.prod(1), MATRIX, MIXED_ZEROS),
    OpCase("prod_zeros_dim0_keepdim", lambda T, x: T.prod(x, 0, keepdim=True),
           lambda x: x.prod(0, keepdims=True), MATRIX, MIXED_ZEROS),
    OpCase("prod_one_zero_all", lambda T, x: T.prod(x), np.prod, MATRIX, zeros_at(5)),
    OpCase("prod_two_zeros_all", lambda T, x: T.prod(x), np.prod, MATRIX, zeros_at(2, 7)),
    OpCase("prod_three_zeros_all", lambda T, x: T.prod(x), np.prod, MATRIX, zeros_at(0, 2, 7)),

    # ---- max and min: values, (values, indices) along a dim, arg-reductions, ties
    OpCase("max_all", lambda T, x: T.max(x), np.max, ALL, distinct),
    OpCase("min_all", lambda T, x: x.min(), np.min, ALL, distinct),
    OpCase("max_dim", lambda T, x: T.max(x, 1), lambda x: (x.max(1), x.argmax(1)), DIM1, distinct),
    OpCase("max_dim_keepdim", lambda T, x: x.max(dim=-1, keepdim=True),
           lambda x: (x.max(-1, keepdims=True), x.argmax(-1, keepdims=True)), NEG, distinct),
    OpCase("max_scalar_dim", lambda T, x: T.max(x, 0), lambda x: (x, np.int64(0)), SCALAR),
    OpCase("min_dim", lambda T, x: T.min(x, 0), lambda x: (x.min(0), x.argmin(0)), TUPLE,
           distinct),
    OpCase("min_neg_keepdim", lambda T, x: x.min(-1, True),
           lambda x: (x.min(-1, keepdims=True), x.argmin(-1, keepdims=True)), NEG, distinct),
    OpCase("max_other", lambda T, x, y: T.max(x, y), np.maximum,
           [((3, 4), (3, 4)), ((3, 4), (4,))]),
    OpCase("min_other", lambda T, x, y: x.min(y), np.minimum, [((3, 4), (3, 4))]),
    OpCase("amax_all", lambda T, x: T.amax(x), np.max, ALL, distinct),
    OpCase("amax_dim", lambda T, x: x.amax(1), lambda x: x.max(1), DIM1, distinct),
    OpCase("amax_tuple_keepdim", lambda T, x: T.amax(x, (0, -1), keepdim=True),
           lambda x: x.max((0, -1), keepdims=True), TUPLE, distinct),
    OpCase("amin_neg", lambda T, x: T.amin(x, -1), lambda x: x.min(-1), NEG, distinct),
    OpCase("amin_tuple", lambda T, x: x.amin((0, -1)), lambda x: x.min((0, -1)), TUPLE, distinct),
    OpCase("argmax_all", lambda T, x: T.argmax(x), np.argmax, ALL, distinct, grad=False),
    OpCase("argmax_dim_keepdim", lambda T, x: x.argmax(1, keepdim=True),
           lambda x: x.argmax(1, keepdims=True), DIM1, distinct, grad=False),
    OpCase("argmin_neg", lambda T, x: T.argmin(x, -1), lambda x: x.argmin(-1), NEG, distinct,
           grad=False),
    OpCase("argmin_all_keepdim", lambda T, x: T.argmin(x, keepdim=True),
           lambda x: np.reshape(x.argmin(), (1, 1)), MATRIX, distinct, grad=False),
    OpCase("argmax_ties", lambda T, x: T.argmax(x, 1), lambda x: x.argmax(1), MATRIX, TIES3,
           grad=False),
    # two-way ties: even split for amax/amin and max(), the first index for max(dim)
    OpCase("amax_ties", lambda T, x: T.amax(x, 1), lambda x: x.max(1), MATRIX, TIES2,
           second=False),
    OpCase("max_all_ties", lambda T, x: T.max(x), np.max, MATRIX, TIES2, second=False),
    OpCase("amin_ties", lambda T, x: T.amin(x, 0), lambda x: x.min(0), MATRIX, TIES2, second=False),
    OpCase("max_dim_ties_grad", tie_grad(lambda T, y: T.max(y, 1).values),
           lambda x, y: x * first(y == y.max(1, keepdims=True), 1), PAIR, make={1: TIES3}),
    OpCase("min_dim_ties_grad", tie_grad(lambda T, y: T.min(y, 1, keepdim=True)[0]),
           lambda x, y: x * first(y == y.min(1, keepdims=True), 1), PAIR, make={1: TIES3}),
    OpCase("amax_ties_grad", tie_grad(lambda T, y: T.amax(y, 1)),
           lambda x, y: x * share(y == y.max(1, keepdims=True), 1), PAIR, make={1: TIES3}),
    OpCase("amin_tuple_ties_grad", tie_grad(lambda T, y: T.amin(y, (0, 1))),
           lambda x, y: x * share(y == y.min(), None), PAIR, make={1: TIES3}),
    OpCase("max_all_ties_grad", tie_grad(lambda T, y: T.max(y)),
           lambda x, y: x * share(y == y.max(), None), PAIR, make={1: TIES3}),
    OpCase("norm_inf_ties_grad", tie_grad(lambda T, y: T.norm(y, float("inf"), 1)),
           lambda x, y: x * np.sign(y) * share(abs(y) == abs(y).max(1, keepdims=True), 1), PAIR,
           make={1: TIES3}),

    # ---- var, std
    OpCase("var_all", lambda T, x: T.var(x), lambda x: x.var(ddof=1), [((3, 4),), ((2, 1, 3),)]),
    OpCase("var_dim", lambda T, x: x.var(1), lambda x: x.var(1, ddof=1), MOMENTS),
    OpCase("var_neg_keepdim_correction0", lambda T, x: T.var(x, -1, keepdim=True, correction=0),
           lambda x: x.var(-1, keepdims=True), NEG),
    OpCase("var_tuple_unbiased_false", lambda T, x: T.var(x, (0, -1), False),
           lambda x: x.var((0, -1)), TUPLE),
    OpCase("var_unbiased_positional", lambda T, x: x.var(False), lambda x: x.var(), MATRIX),
    OpCase("std_all", lambda T, x: T.std(x), lambda x: x.std(ddof=1), [((3, 4),), ((2, 1, 3),)]),
    OpCase("std_dim_keepdim", lambda T, x: x.std(1, keepdim=True),
           lambda x: x.std(1, ddof=1, keepdims=True), MOMENTS),
    OpCase("std_tuple_correction2", lambda T, x: T.std(x, (0, -1), correction=2),
           lambda x: x.std((0, -1), ddof=2), TUPLE),
    # a constant input: std is 0 and PyTorch's gradient there is 0 (a kink: no second order)
    OpCase("std_constant", lambda T, x: T.std(x, 1), lambda x: x.std(1, ddof=1), MATRIX, constant,
           second=False),
    OpCase("var_mean_dim", lambda T, x: T.var_mean(x, 1), lambda x: (x.var(1, ddof=1), x.mean(1)),
           MOMENTS),
    OpCase("std_mean_tuple_keepdim", lambda T, x: T.std_mean(x, (0, -1), keepdim=True),
           lambda x: (x.std((0, -1), ddof=1, keepdims=True), x.mean((0, -1), keepdims=True)),
           TUPLE),

    # ---- norms
    OpCase("norm_fro_all", lambda T, x: T.norm(x), np.linalg.norm, ALL),
    OpCase("norm_2_dim", lambda T, x: x.norm(2, 1), lambda x: np.sqrt((x * x).sum(1)), DIM1),
    OpCase("norm_fro_tuple_keepdim", lambda T, x: T.norm(x, "fro", (0, -1), True),
           lambda x: np.sqrt((x * x).sum((0, -1), keepdims=True)), TUPLE),
    OpCase("norm_1", lambda T, x: T.norm(x, 1), lambda x: abs(x).sum(), ALL, away_from_zero),
    OpCase("norm_3_neg", lambda T, x: T.norm(x, 3, -1), lambda x: (abs(x) ** 3).sum(-1) ** (1 / 3),
           NEG, away_from_zero),
    OpCase("norm_half_dim", lambda T, x: T.norm(x, 0.5, 1),
           lambda x: (abs(x) ** 0.5).sum(1) ** 2, DIM1, away_from_zero),
    OpCase("norm_inf", lambda T, x: T.norm(x, float("inf")), lambda x: abs(x).max(), ALL,
           separated),
    OpCase("norm_neg_inf_dim", lambda T, x: T.norm(x, -float("inf"), 1), lambda x: abs(x).min(1),
           DIM1, separated),
    OpCase("norm_0", lambda T, x: T.norm(x, 0, 1), lambda x: (x != 0).sum(1).astype(float), DIM1),
    # zero input: the 2-norm's gradient is 0 there, as in PyTorch (a kink: no second order)
    OpCase("norm_zero_input", lambda T, x: T.norm(x, dim=1), lambda x: np.zeros(3), MATRIX,
           lambda rng, shape: np.zeros(shape), second=False),

    # ---- logsumexp
    OpCase("logsumexp_dim", lambda T, x: T.logsumexp(x, 1), lambda x: special.logsumexp(x, 1),
           DIM1),
    OpCase("logsumexp_neg_keepdim", lambda T, x: x.logsumexp(-1, keepdim=True),
           lambda x: special.logsumexp(x, -1, keepdims=True), NEG),
    OpCase("logsumexp_tuple", lambda T, x: T.logsumexp(x, (0, -1)),
           lambda x: special.logsumexp(x, (0, -1)), TUPLE),
    OpCase("logsumexp_scalar_dim", lambda T, x: T.logsumexp(x, 0), lambda x: x, SCALAR),
    # exp(1000) overflows: the max shift keeps it finite
    OpCase("logsumexp_huge", lambda T, x: T.logsumexp(x, 1), lambda x: special.logsumexp(x, 1),
           MATRIX, lambda rng, shape: rng.standard_normal(shape) + 1000.0),
    OpCase("logsumexp_neg_inf", lambda T, x: T.logsumexp(x, 1), lambda x: special.logsumexp(x, 1),
           MATRIX, fixed([[0.5, -np.inf, 1.0, -2.0], [-np.inf, -np.inf, 3.0, -np.inf],
                          [1.0, 2.0, 3.0, 4.0]])),

    # ---- cumulative
    OpCase("cumsum_dim", lambda T, x: T.cumsum(x, 1), lambda x: x.cumsum(1), DIM1),
    OpCase("cumsum_neg", lambda T, x: x.cumsum(-1), lambda x: x.cumsum(-1), NEG),
    OpCase("cumsum_scalar_dim", lambda T, x: T.cumsum(x, 0), lambda x: x, SCALAR),
    OpCase("cumsum_dtype", lambda T, x: T.cumsum(x.float(), 0, dtype=T.float64),
           lambda x: x.astype(np.float32).astype(np.float64).cumsum(0), MATRIX, atol=1e-6,
           eps=1e-2),
    OpCase("cumsum_bool", lambda T, x: T.cumsum(x > 0, 1), lambda x: (x > 0).cumsum(1), MATRIX,
           grad=False),
    OpCase("cumprod_dim", lambda T, x: T.cumprod(x, 1), lambda x: x.cumprod(1), DIM1),
    OpCase("cumprod_neg", lambda T, x: x.cumprod(-1), lambda x: x.cumprod(-1), NEG),
    OpCase("cumprod_scalar_dim", lambda T, x: T.cumprod(x, 0), lambda x: x, SCALAR),
    OpCase("cumprod_zeros_dim", lambda T, x: T.cumprod(x, 1), lambda x: x.cumprod(1), MATRIX,
           MIXED_ZEROS),
    OpCase("cumprod_zeros_dim0", lambda T, x: T.cumprod(x, 0), lambda x: x.cumprod(0), MATRIX,
           MIXED_ZEROS),
    OpCase("cumprod_leading_zeros", lambda T, x: T.cumprod(x, -1), lambda x: x.cumprod(-1), MATRIX,
           zeros_at(0, 4, 5, 8, 11)),

    # ---- predicates and counts: never recorded
    OpCase("all_dim", lambda T, x: T.all(x > -1, 1), lambda x: (x > -1).all(1), DIM1, grad=False),
    OpCase("all_full", lambda T, x: (x > -3).all(), lambda x: (x > -3).all(), ALL, grad=False),
    OpCase("any_tuple_keepdim", lambda T, x: T.any(x > 1, (0, -1), keepdim=True),
           lambda x: (x > 1).any((0, -1), keepdims=True), TUPLE, grad=False),
    OpCase("count_nonzero_tuple", lambda T, x: T.count_nonzero(x > 0, (0, -1)),
           lambda x: (x > 0).sum((0, -1)), TUPLE, grad=False),
    OpCase("count_nonzero_all", lambda T, x: T.count_nonzero(T.relu(x)), lambda x: (x > 0).sum(),
           ALL, grad=False),
]
