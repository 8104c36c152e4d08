"""Op-table rows for tapegrad/ops/indexing.py (x[key], x[key] = v, gather/scatter, masks)."""
import numpy as np

from .case import OpCase, away_from_zero


def ints(high):
    """int64 indices in [0, high), drawn with repeats."""
    return lambda rng, shape: rng.integers(0, high, shape)


def fixed(*values):
    """These int64 indices (repeats included on purpose), whatever the group's shape says."""
    return lambda rng, shape: np.array(values, dtype=np.int64).reshape(shape)


def distinct_along(n, axis=0):
    """int64 indices in [0, n) with no repeat along `axis`, so scatter's writes are well defined."""
    def sample(rng, shape):
        full = list(shape)
        full[axis] = n
        return np.argsort(rng.random(full), axis=axis).take(range(shape[axis]), axis=axis)
    return sample


def bools(rng, shape):
    return rng.random(shape) > 0.4


def _set(T, x, v):
    x2 = x.clone()
    x2[1:, 0] = v
    return x2


def _set_rows(T, x, v):
    x2 = x.clone()
    x2[[0, 2]] = v
    return x2


def _set_mask(T, x, v, m):
    x2 = x * 2.0
    x2[m] = v
    return x2


def _set_const(T, x):
    x2 = x.clone()
    x2[0, 1:] = 0.5
    return x2


def _put(x, key, v, add=False):
    out = x.copy()
    if add:
        np.add.at(out, key, v)
    else:
        out[key] = v
    return out


def _scatter_ref(x, dim, i, s, add):
    """out[..., i[k], ...] (i[k] at position dim) = or += s[k], one index k at a time."""
    out = x.copy()
    for k in np.ndindex(*i.shape):
        at = k[:dim] + (i[k],) + k[dim + 1:]
        v = s[k] if np.ndim(s) else s
        out[at] = out[at] + v if add else v
    return out


ROWS = [
    # basic indexing: views
    OpCase("getitem_int", lambda T, x: x[1], lambda x: x[1], [((3, 4),), ((3,),), ((2, 3, 4),)]),
    OpCase("getitem_neg_int", lambda T, x: x[-1, 2], lambda x: x[-1, 2], [((3, 4),)]),
    OpCase("getitem_slice_step", lambda T, x: x[::2, 1:], lambda x: x[::2, 1:],
           [((3, 4),), ((5, 3, 2),)]),
    OpCase("getitem_neg_slice", lambda T, x: x[-2:, :-1], lambda x: x[-2:, :-1], [((3, 4),)]),
    OpCase("getitem_none_ellipsis", lambda T, x: x[None, ..., 1], lambda x: x[None, ..., 1],
           [((3, 4),), ((2, 3, 4),)]),
    OpCase("getitem_empty_tuple", lambda T, x: x[()], lambda x: x, [((3, 4),), ((),)]),
    # PyTorch has no negative slice steps; tapegrad follows NumPy there
    # negative steps raise ValueError, as in PyTorch (tests/test_trust_ops.py); flip reverses
    OpCase("getitem_step", lambda T, x: x[1::2, ::3], lambda x: x[1::2, ::3], [((3, 4),)]),
    OpCase("select", lambda T, x: T.select(x, 1, -1), lambda x: x[:, -1],
           [((3, 4),), ((2, 3, 4),)]),
    # advanced indexing: copies; repeated indices accumulate gradient
    OpCase("getitem_list_repeat", lambda T, x: x[[0, 0, 2]], lambda x: x[[0, 0, 2]],
           [((3, 4),), ((3,),)]),
    OpCase("getitem_list_negative", lambda T, x: x[[-1, 0, -1]], lambda x: x[[-1, 0, -1]],
           [((3, 4),)]),
    OpCase("getitem_tensor", lambda T, x, i: x[i], lambda x, i: x[i],
           [((3, 4), (2, 3)), ((3,), (5,))], make={1: ints(3)}),
    OpCase("getitem_tensor_slice", lambda T, x, i: x[i, 1:], lambda x, i: x[i, 1:],
           [((3, 4), (5,))], make={1: fixed(2, 0, 2, 2, 1)}),
    OpCase("getitem_slice_tensor", lambda T, x, i: x[:, i], lambda x, i: x[:, i],
           [((3, 4), (5,)), ((2, 4, 3), (2, 2))], make={1: ints(3)}),
    OpCase("getitem_two_tensors", lambda T, x, i, j: x[i, j], lambda x, i, j: x[i, j],
           [((3, 4), (5,), (5,)), ((3, 4), (2, 1), (1, 3))], make={1: ints(3), 2: ints(4)}),
    OpCase("getitem_separated", lambda T, x, i, j: x[i, :, j], lambda x, i, j: x[i, :, j],
           [((3, 2, 4), (4,), (4,))], make={1: ints(3), 2: ints(4)}),
    OpCase("getitem_ellipsis_tensor", lambda T, x, i: x[..., i], lambda x, i: x[..., i],
           [((2, 3, 4), (3,))], make={1: fixed(3, 0, 3)}),
    OpCase("getitem_none_tensor", lambda T, x, i: x[None, i], lambda x, i: x[None, i],
           [((3, 4), (4,))], make={1: fixed(1, 1, 0, 2)}),
    OpCase("getitem_mask", lambda T, x, m: x[m], lambda x, m: x[m],
           [((3, 4), (3, 4)), ((3, 4), (3,))], make={1: bools}),
    OpCase("getitem_mask_slice", lambda T, x, m: x[m, 1:], lambda x, m: x[m, 1:],
           [((3, 4), (3,))], make={1: bools}),
    OpCase("getitem_mask_self", lambda T, x: x[x > 0], lambda x: x[x > 0], [((3, 4),)],
           away_from_zero),
    # the backward of indexing (its own rule is indexing again): second order through it
    OpCase("getitem_backward", lambda T, x, v: T.autograd.grad(x[[0, 0, 2]], x, v,
                                                               create_graph=True)[0],
           None, [((3, 4), (3, 4))]),
    OpCase("getitem_backward_basic", lambda T, x, v: T.autograd.grad(x[1:, ::2], x, v,
                                                                     create_graph=True)[0],
           None, [((3, 4), (2, 2))]),
    # x[key] = v on a clone: gradient flows to x (except overwritten entries) and to v
    OpCase("setitem", _set, lambda x, v: _put(x, (slice(1, None), 0), v),
           [((3, 4), (2,)), ((3, 4), ()), ((3, 4), (1,))]),
    OpCase("setitem_rows", _set_rows, lambda x, v: _put(x, [0, 2], v),
           [((3, 4), (4,)), ((3, 4), (2, 4))]),
    OpCase("setitem_mask", _set_mask, lambda x, v, m: _put(2 * x, m, v),
           [((3, 4), (), (3, 4))], make={2: bools}),
    OpCase("setitem_constant", _set_const, lambda x: _put(x, (0, slice(1, None)), 0.5),
           [((3, 4),)]),
    OpCase("index_put", lambda T, x, i, v: T.index_put(x, (i,), v), lambda x, i, v: _put(x, i, v),
           [((3, 4), (2,), (4,)), ((3, 4), (2,), (2, 4))], make={1: fixed(2, 0)}),
    OpCase("index_put_accumulate", lambda T, x, i, v: T.index_put(x, (i,), v, accumulate=True),
           lambda x, i, v: _put(x, i, v, True), [((3, 4), (5,), (5, 4))],
           make={1: fixed(0, 2, 0, 0, 1)}),
    # gather / scatter
    OpCase("gather", lambda T, x, i: T.gather(x, 1, i),
           lambda x, i: np.take_along_axis(x[:i.shape[0]], i, 1),
           [((3, 4), (3, 2)), ((3, 4), (2, 5))], make={1: ints(4)}),
    OpCase("gather_neg_dim", lambda T, x, i: x.gather(-2, i),
           lambda x, i: np.take_along_axis(x, i, 0), [((3, 4), (5, 4))], make={1: ints(3)}),
    OpCase("gather_3d", lambda T, x, i: T.gather(x, 0, i),
           lambda x, i: np.take_along_axis(x[:, :3, :2], i, 0), [((2, 4, 3), (3, 3, 2))],
           make={1: ints(2)}),
    OpCase("scatter_add", lambda T, x, i, s: T.scatter_add(x, 0, i, s),
           lambda x, i, s: _scatter_ref(x, 0, i, s, True),
           [((3, 4), (5, 4), (5, 4)), ((2, 3, 4), (3, 2, 4), (3, 2, 4))], make={1: ints(2)}),
    # src larger than index: only its leading part is used (PyTorch's own backward fails here)
    OpCase("scatter_add_src_larger", lambda T, x, i, s: T.scatter_add(x, 0, i, s),
           lambda x, i, s: _scatter_ref(x, 0, i, s, True), [((3, 4), (2, 3), (3, 4))],
           make={1: ints(3)}, torch=False),
    OpCase("scatter_add_method", lambda T, x, i, s: x.scatter_add(-1, i, s),
           lambda x, i, s: _scatter_ref(x, 1, i, s, True),
           [((3, 4), (3, 6), (3, 6))], make={1: ints(4)}),
    OpCase("scatter", lambda T, x, i, s: T.scatter(x, 0, i, s),
           lambda x, i, s: _scatter_ref(x, 0, i, s, False),
           [((3, 4), (2, 4), (2, 4)), ((3, 4), (3, 2), (3, 2))], make={1: distinct_along(3)}),
    OpCase("scatter_src_larger", lambda T, x, i, s: T.scatter(x, 0, i, s),
           lambda x, i, s: _scatter_ref(x, 0, i, s, False),
           [((3, 4), (3, 2), (3, 3))], make={1: distinct_along(3)}, torch=False),
    OpCase("scatter_value", lambda T, x, i: T.scatter(x, 1, i, 1.5),
           lambda x, i: _scatter_ref(x, 1, i, 1.5, False),
           [((3, 4), (2, 3))], make={1: distinct_along(4, axis=1)}),
    OpCase("index_select", lambda T, x, i: T.index_select(x, 0, i),
           lambda x, i: x[np.atleast_1d(i)],
           [((3, 4), (5,)), ((3, 4), ())], make={1: ints(3)}),
    OpCase("index_select_neg_dim", lambda T, x, i: x.index_select(-1, i), lambda x, i: x[:, i],
           [((3, 4), (6,))], make={1: fixed(3, 3, 0, 1, 3, 2)}),
    OpCase("index_add", lambda T, x, i, s: T.index_add(x, 0, i, s),
           lambda x, i, s: _put(x, i, s, True),
           [((3, 4), (5,), (5, 4))], make={1: fixed(0, 2, 0, 0, 1)}),
    OpCase("index_add_alpha", lambda T, x, i, s: x.index_add(1, i, s, alpha=2.5),
           lambda x, i, s: _put(x, (slice(None), i), 2.5 * s, True), [((3, 4), (3,), (3, 3))],
           make={1: fixed(1, 3, 1)}),
    OpCase("take_along_dim", lambda T, x, i: T.take_along_dim(x, i, dim=1),
           lambda x, i: np.take_along_axis(x, i, 1),
           [((3, 4), (3, 2)), ((3, 4), (1, 5)), ((1, 4), (3, 2))], make={1: ints(4)}),
    OpCase("take_along_dim_flat", lambda T, x, i: x.take_along_dim(i),
           lambda x, i: x.reshape(-1)[i], [((3, 4), (5,))], make={1: ints(12)}),
    # masks
    OpCase("masked_fill", lambda T, x, m: T.masked_fill(x, m, 0.5),
           lambda x, m: np.where(m, 0.5, x), [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4))],
           make={1: bools}),
    OpCase("masked_fill_tensor", lambda T, x, m, v: x.masked_fill(m, v),
           lambda x, m, v: np.where(m, v, x), [((3, 4), (3, 4), ())], make={1: bools}),
    OpCase("masked_select", lambda T, x, m: T.masked_select(x, m),
           lambda x, m: np.broadcast_to(x, np.broadcast_shapes(x.shape, m.shape))[
               np.broadcast_to(m, np.broadcast_shapes(x.shape, m.shape))],
           [((3, 4), (3, 4)), ((4,), (3, 4)), ((3, 4), (4,))], make={1: bools}),
    OpCase("nonzero", lambda T, x: T.nonzero(x > 0), lambda x: np.argwhere(x > 0),
           [((3, 4),), ((5,),)], grad=False),
    OpCase("nonzero_tuple", lambda T, x: T.nonzero(x > 0, as_tuple=True),
           lambda x: np.nonzero(x > 0), [((3, 4),)], grad=False),
    OpCase("argwhere", lambda T, x: T.argwhere(x > 0), lambda x: np.argwhere(x > 0),
           [((2, 3),)], grad=False),
]
