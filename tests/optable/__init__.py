"""The op table: one row per op behaviour, shared by the forward, gradient and parity tests.

A row's `fn` takes the library module first (`T`) and tensors after it, so the same lambda
runs on tapegrad and on PyTorch. Rows live in one file per op family, like `tapegrad/ops/`.
"""
from .case import OpCase  # noqa: F401
from .elementwise import ROWS as _ELEMENTWISE


def _gather():
    rows = list(_ELEMENTWISE)
    for family in ("reduction", "shape", "indexing", "linalg", "nn", "conv", "special", "matrix",
                   "inplace", "unary_more", "sorting", "matrix_ops", "misc", "blas", "ctc",
                   "recurrent", "attention"):
        try:
            mod = __import__(f"tests.optable.{family}", fromlist=["ROWS"])
        except ModuleNotFoundError as err:
            if err.name != f"tests.optable.{family}":
                raise
            continue
        rows.extend(mod.ROWS)
    return rows


ROWS = _gather()
