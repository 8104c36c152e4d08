"""tapegrad.sparse: products of SciPy sparse matrices with dense tensors, never densified.

`mm(A, x)` multiplies a fixed `scipy.sparse` matrix (any format) by a dense tensor; the
gradient with respect to x is A.T @ g, computed sparse. To differentiate with respect to the
non-zero values too, wrap the matrix: `S = SparseMatrix(A, requires_grad=True)` (or pass your
own `values` tensor, in the order of the canonical CSR form) and use `S @ x` or `mm(S, x)`;
`S.values.grad` then holds one entry per stored non-zero.
"""
import numpy as np
import scipy.sparse as sps

from .dtypes import promote, get_default_dtype
from .primitives import primitive, defvjp
from ._tensor import Tensor
from .creation import as_tensor, tensor


class _Pattern:
    """A canonical CSR sparsity pattern (sorted, no duplicates); shared by all values on it."""

    def __init__(self, csr):
        self.indptr, self.indices, self.shape = csr.indptr, csr.indices, csr.shape
        self.nnz = len(self.indices)
        self._rows = None

    @property
    def rows(self):
        """The row of each stored entry (COO row indices), made on first use."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.shape[0], dtype=self.indices.dtype),
                                   np.diff(self.indptr))
        return self._rows

    def matrix(self, values):
        return sps.csr_array((values, self.indices, self.indptr), shape=self.shape)

    def __repr__(self):
        return f"<CSR {self.shape[0]}x{self.shape[1]}, nnz={self.nnz}>"


# ---- primitives ---------------------------------------------------------------------------------
@primitive("sparse_mm", raw=True)
def _spmm(values, x, pattern, transpose=False):
    """A @ x (or A.T @ x) for A = the CSR matrix with `pattern` and `values`."""
    values, x = promote(values, x)
    a = pattern.matrix(values)
    return np.asarray((a.T if transpose else a) @ x)


# A @ x is linear in both: d/dx is A.T @ g, d/dvalues samples g x^T on the pattern
defvjp(_spmm,
       lambda g, out, v, x, pattern, transpose=False:
       _sampled(g, x, pattern=pattern, transpose=transpose),
       lambda g, out, v, x, pattern, transpose=False:
       _spmm(v, g, pattern=pattern, transpose=not transpose))


@primitive("sparse_sampled_dot", raw=True)
def _sampled(a, b, pattern, transpose=False):
    """s[k] = a[row k] . b[col k] for each stored entry k (rows and cols swapped if transpose)."""
    a, b = promote(a, b)
    r, c = pattern.rows, pattern.indices
    if transpose:
        r, c = c, r
    prod = a[r] * b[c]
    return prod if prod.ndim == 1 else prod.sum(axis=1)


defvjp(_sampled,
       lambda g, out, a, b, pattern, transpose=False:
       _spmm(g, b, pattern=pattern, transpose=transpose),
       lambda g, out, a, b, pattern, transpose=False:
       _spmm(g, a, pattern=pattern, transpose=not transpose))


# ---- the user-facing matrix ---------------------------------------------------------------------
class SparseMatrix:
    """A sparse matrix with a fixed CSR pattern and a tensor of values (which may require grad),
    like PyTorch's `torch.sparse_csr_tensor`. `S @ x` is `mm(S, x)`; `S.T` is its transpose.

    A: any scipy.sparse matrix or array (converted to canonical CSR once), or a SparseMatrix
    whose pattern is reused. values: None (A's own values) or a 1-D tensor with one entry per
    stored non-zero, in CSR order (row by row, columns ascending: see `crow_indices()` and
    `col_indices()`).
    """

    def __init__(self, A, values=None, *, dtype=None, requires_grad=False):
        if isinstance(A, SparseMatrix):
            pattern, transpose, default = A._pattern, A._transpose, A.values
        elif sps.issparse(A):
            csr = sps.csr_array(A)
            if not csr.has_canonical_format:
                csr = csr.copy()
                csr.sum_duplicates()     # also sorts the column indices of each row
            pattern, transpose, default = _Pattern(csr), False, csr.data
            if default.dtype.kind != "f" and dtype is None:
                dtype = get_default_dtype()
        else:
            raise TypeError(f"SparseMatrix: expected a scipy.sparse matrix or a SparseMatrix, "
                            f"got {type(A).__name__}")
        if values is None:
            values = default
        if not isinstance(values, Tensor):
            # a copy when it will be trained, so that updates never write into the user's A
            values = (tensor if requires_grad else as_tensor)(np.asarray(values), dtype=dtype)
        elif dtype is not None:
            values = values.to(dtype)
        if values.shape != (pattern.nnz,):
            raise RuntimeError(f"SparseMatrix: values must be 1-D with one entry per stored "
                               f"non-zero: the matrix of shape {pattern.shape} has "
                               f"{pattern.nnz}, got values of shape {list(values.shape)}")
        if requires_grad:
            values.requires_grad_(True)
        self._pattern, self._transpose, self.values = pattern, transpose, values

    @property
    def shape(self):
        m, n = self._pattern.shape
        return (n, m) if self._transpose else (m, n)

    @property
    def nnz(self):
        return self._pattern.nnz

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def T(self):
        """The transpose, on the same pattern and values (so gradients reach the same tensor)."""
        t = object.__new__(SparseMatrix)
        t._pattern, t._transpose, t.values = self._pattern, not self._transpose, self.values
        return t

    def t(self):
        return self.T

    def crow_indices(self):
        """CSR row pointers of the stored (untransposed) pattern, as an int64 tensor."""
        return as_tensor(self._pattern.indptr.astype(np.int64))

    def col_indices(self):
        """CSR column index of each stored value, as an int64 tensor."""
        return as_tensor(self._pattern.indices.astype(np.int64))

    def to_scipy(self):
        """A scipy CSR array of the current values (detached)."""
        a = self._pattern.matrix(self.values.detach().numpy())
        return a.T.tocsr() if self._transpose else a

    def to_dense(self):
        """The dense tensor (for small matrices: inspection and tests); differentiable."""
        m, n = self._pattern.shape
        eye = as_tensor(np.eye(m if self._transpose else n, dtype=self.values.dtype))
        return mm(self, eye)

    def __matmul__(self, x):
        return mm(self, x)

    def __repr__(self):
        return (f"SparseMatrix(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype}"
                + (", requires_grad=True)" if self.values.requires_grad else ")"))


def mm(A, x):
    """torch.sparse.mm(A, x): a scipy.sparse matrix or SparseMatrix A times a dense 1-D or 2-D
    tensor x, as a dense tensor. A plain scipy matrix is a constant, in x's float dtype."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if x._data.dtype.kind != "f":
        x = x.to(get_default_dtype())
    if not isinstance(A, SparseMatrix):
        if not sps.issparse(A):
            raise TypeError(f"sparse.mm: expected a scipy.sparse matrix or a SparseMatrix as "
                            f"the first argument, got {type(A).__name__}")
        A = SparseMatrix(A, dtype=x._data.dtype)
    m, n = A.shape
    if x.ndim not in (1, 2) or x.shape[0] != n:
        raise RuntimeError(f"sparse.mm: cannot multiply the sparse matrix of shape ({m}, {n}) "
                           f"by a dense tensor of shape {list(x.shape)}: it must be 1-D or "
                           f"2-D with {n} rows")
    return _spmm(A.values, x, pattern=A._pattern, transpose=A._transpose)


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0):
    """torch.sparse.sampled_addmm: beta * input + alpha * (mat1 @ mat2), computed only at the
    stored entries of the SparseMatrix `input`; a SparseMatrix on the same pattern."""
    if not isinstance(input, SparseMatrix):
        input = SparseMatrix(input)
    m, n = input.shape
    if mat1.ndim != 2 or mat2.ndim != 2 or mat1.shape[0] != m or mat2.shape[1] != n or \
            mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"sparse.sampled_addmm: mat1 of shape {list(mat1.shape)} times mat2 "
                           f"of shape {list(mat2.shape)} must give the shape of input, "
                           f"({m}, {n})")
    # (mat1 @ mat2)[i, j] = mat1[i] . mat2.T[j], at the pattern's (row, col) pairs
    sampled = _sampled(mat1, mat2.T, pattern=input._pattern, transpose=input._transpose)
    return SparseMatrix(input, beta * input.values + alpha * sampled)


# ---- sparse gradients by rows (nn.Embedding(sparse=True)) ---------------------------------------
class SparseGrad:
    """A gradient that is zero except at some rows, as PyTorch's sparse COO gradients of
    `nn.Embedding(sparse=True)`: row `indices` (nnz,) and their `values` (nnz, *rest) of a
    tensor of `shape`; repeated rows add up (uncoalesced, as PyTorch's). `optim.SGD` and
    `optim.SparseAdam` update only these rows; anything else needing a dense tensor gets a
    clear error (call `.to_dense()`)."""

    is_sparse = True
    layout = "sparse_coo"
    requires_grad = False
    _requires_grad = False
    grad_fn = None
    device = "cpu"

    def __init__(self, indices, values, shape, coalesced=False):
        self._rows = np.asarray(indices, dtype=np.int64).reshape(-1)
        self._vals = np.asarray(values)
        self.shape = tuple(shape)
        self._coalesced = coalesced

    @property
    def _data(self):
        raise RuntimeError("this gradient is sparse (nn.Embedding(sparse=True)); only optim.SGD "
                           "and optim.SparseAdam consume sparse gradients: use one of them, "
                           "sparse=False, or .to_dense()")

    @property
    def dtype(self):
        return as_tensor(self._vals[:0]).dtype

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return len(self.shape)

    def _nnz(self):
        return len(self._rows)

    def _indices(self):
        return as_tensor(self._rows[None, :])

    def _values(self):
        return as_tensor(self._vals)

    def indices(self):
        self._check_coalesced("indices")
        return self._indices()

    def values(self):
        self._check_coalesced("values")
        return self._values()

    def _check_coalesced(self, what):
        if not self._coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call "
                               f".coalesce() first")

    def is_coalesced(self):
        return self._coalesced

    def rows_values(self, coalesce=False):
        """(row indices, values) as NumPy arrays; with coalesce, rows unique and sorted."""
        if not coalesce or self._coalesced:
            return self._rows, self._vals
        rows, inverse = np.unique(self._rows, return_inverse=True)
        vals = np.zeros((len(rows),) + self._vals.shape[1:], dtype=self._vals.dtype)
        np.add.at(vals, inverse, self._vals)
        return rows, vals

    def coalesce(self):
        """The same gradient with each row once (repeats summed), rows ascending."""
        rows, vals = self.rows_values(coalesce=True)
        return SparseGrad(rows, vals, self.shape, coalesced=True)

    def to_dense(self):
        out = np.zeros(self.shape, dtype=self._vals.dtype)
        np.add.at(out, self._rows, self._vals)
        return as_tensor(out)

    def add_rows_(self, rows, values):
        """Accumulate more rows in place (another backward's)."""
        self._rows = np.concatenate([self._rows, np.asarray(rows, dtype=np.int64)])
        self._vals = np.concatenate([self._vals, values])
        self._coalesced = False
        return self

    def zero_(self):
        self._rows, self._vals = self._rows[:0], self._vals[:0]
        self._coalesced = True
        return self

    def detach_(self):
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise RuntimeError("a SparseGrad cannot require gradients")
        return self

    def detach(self):
        return self

    def __repr__(self):
        rows = self._rows.tolist() if self._nnz() <= 10 else \
            f"[{', '.join(map(str, self._rows[:10].tolist()))}, ...]"
        return f"SparseGrad(indices={rows}, size={self.shape}, nnz={self._nnz()}, dtype={self.dtype})"


__all__ = ["SparseMatrix", "SparseGrad", "mm", "sampled_addmm"]
