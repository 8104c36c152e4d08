"""torch.det, slogdet, inverse, pinverse and norm: torch.linalg's functions under their older
top-level names, with those names' signatures (`input`, not torch.linalg's `A`; norm's `out`).
They are also the Tensor methods of the same names (Tensor.norm excepted: it has no `out`)."""
from ..ops.out import into_named
from .lstsq import pinv
from .solve import det as _det, inv, slogdet as _slogdet
from .norms import tensor_norm


def det(input):
    """torch.det: torch.linalg.det(input)."""
    return _det(input)


def slogdet(input):
    """torch.slogdet: torch.linalg.slogdet(input), a (sign, logabsdet) named tuple."""
    return _slogdet(input)


def inverse(input):
    """torch.inverse: torch.linalg.inv(input)."""
    return inv(input)


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse of `input`, as torch.pinverse.

    torch.linalg.pinv with `rcond` as the relative tolerance (atol 0).
    """
    return pinv(input, atol=0.0, rtol=rcond)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The `p`-norm of `input` over `dim`, as torch.norm.

    Tensor.norm's vector norm (or 'nuc', 'fro'); every dim by default. With `keepdim` the reduced
    dims stay, with size 1. `dtype`, if given, is the dtype to compute in. `out`, if given,
    receives the result.
    """
    if out is None:
        return tensor_norm(input, p, dim, keepdim, dtype)
    name = "linalg_matrix_norm" if p == "nuc" else "linalg_vector_norm"    # PyTorch's messages
    return into_named(out, name, tensor_norm, input, p, dim, keepdim, dtype)
