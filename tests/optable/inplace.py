"""Op-table rows for tapegrad/inplace.py: writes through views and in-place ops on a base with
live views. Each row's fn writes into a fresh non-leaf, so gradients reach the inputs only
through the rebased histories (copy_slices, and fill_region in its backward)."""
import numpy as np

from tapegrad.inplace import fill_region
from tapegrad.ops.indexing import getitem

from .case import OpCase


def _write_view_row(T, x, v):
    y = x * 1
    y[1][1:] = v                 # a write through a view of y
    return y


def _mul_view_cols(T, x, v):
    y = x * 1
    y[:, 1:3].mul_(v)            # in-place op on a view: its base is rebased
    return y


def _copy_into_transposed(T, x, v):
    y = x * 1
    y.t()[0].copy_(v)            # chain of two view ops: permute, then select
    return y


def _view_after_base_write(T, x, v):
    y = x * 1
    tail = y[1:]                 # taken before the write below, read after it
    y.mul_(v)
    return tail * 1


def _flat_view_write(T, x, v):
    y = x * 1
    y.view(12)[3:7] = v          # reshape view, then a slice of it
    return y


def _zero_row_of_view(T, x):
    y = x * 2
    y[1].zero_()
    return y


def _fill_region(T, x):
    chain = ((getitem, ((slice(1, None), 0),), {}),)
    return fill_region(x, chain)


def _fill_region_ref(x):
    out = x.copy()
    out[1:, 0] = 0
    return out


ROWS = [
    OpCase("setitem_through_view", _write_view_row, None, [((3, 4), (3,)), ((3, 4), ())]),
    OpCase("mul__on_view", _mul_view_cols, None, [((3, 4), (3, 2)), ((3, 4), (2,))]),
    OpCase("copy__on_view_chain", _copy_into_transposed, None, [((3, 4), (3,))]),
    OpCase("view_after_base_write", _view_after_base_write, None, [((3, 4), (4,))]),
    OpCase("setitem_flat_view", _flat_view_write, None, [((3, 4), (4,))]),
    OpCase("zero__on_view", _zero_row_of_view, None, [((3, 4),)]),
    OpCase("fill_region", _fill_region, _fill_region_ref, [((3, 4),)], torch=False),
]
