"""Op-table rows for the fused addmm primitive (tapegrad/ops/blas.py) and F.linear, which
records it with the weight transposed: bias shapes that broadcast every way, beta and alpha."""
from .case import OpCase

# (input, mat1, mat2): input broadcast from every shape that reaches (3, 2)
ADDMM = [((3, 2), (3, 4), (4, 2)), ((2,), (3, 4), (4, 2)), ((1, 2), (3, 4), (4, 2)),
         ((3, 1), (3, 4), (4, 2)), ((), (3, 4), (4, 2)), ((1, 1), (1, 1), (1, 1))]
# (input, weight, bias)
LINEAR = [((3, 4), (2, 4), (2,)), ((1, 4), (5, 4), (1,)), ((3, 4), (2, 4), ())]

ROWS = [
    OpCase("addmm_fused", lambda T, i, a, b: T.addmm(i, a, b),
           lambda i, a, b: i + a @ b, ADDMM),
    OpCase("addmm_fused_scaled", lambda T, i, a, b: T.addmm(i, a, b, beta=-0.5, alpha=3),
           lambda i, a, b: -0.5 * i + 3 * (a @ b), ADDMM),
    OpCase("addmm_fused_beta0", lambda T, i, a, b: T.addmm(i, a, b, beta=0, alpha=0.5),
           lambda i, a, b: 0.5 * (a @ b), ADDMM[:3]),
    OpCase("addmm_fused_method", lambda T, i, a, b: i.addmm(a, b, alpha=2),
           lambda i, a, b: i + 2 * (a @ b), ADDMM[:1]),
    OpCase("addmm_fused_transposed_operands", lambda T, i, a, b: T.addmm(i, a.t(), b.t()),
           lambda i, a, b: i + a.T @ b.T, [((3, 2), (4, 3), (2, 4))]),
    OpCase("linear_addmm", lambda T, x, w, b: T.nn.functional.linear(x, w, b),
           lambda x, w, b: x @ w.T + b, LINEAR),
]
