"""PyTorch's `out=` keyword for composite functions (primitive ops take it in `_make_op`):
refused while anything requires grad, else the result is written into `out` and returned."""
from ..primitives import check_out, write_out


def into(out, fn, *args, **kwargs):
    """`fn(*args, **kwargs, out=out)` for a differentiable composite `fn`: checked before it
    runs (nothing may require grad), then the result written into `out` (`write_out`)."""
    return into_named(out, fn.__name__, fn, *args, **kwargs)


def into_named(out, name, fn, *args, **kwargs):
    """As `into`, naming the op `name` in messages (`aten::zeros` for factories, as PyTorch)."""
    check_out(name, out, args + tuple(kwargs.values()))
    return write_out(fn(*args, **kwargs), out, name)


def into_plain(out, fn, *args, **kwargs):
    """As `into`, for a function PyTorch does not differentiate (eq, argmax, nonzero...):
    arguments that require grad are fine."""
    check_out(fn.__name__, out, None)
    return write_out(fn(*args, **kwargs), out, fn.__name__)
