"""In-place shape changes: Tensor.unsqueeze_, squeeze_, t_. The tensor keeps its memory and
takes the view op's result as its new shape and, while recording, as its new history (the op
is recorded on a snapshot of the old history, as other in-place ops are). A view stays a view
of its base, its chain of view ops one longer. The version counter is bumped, so a rule that
saved the tensor in its old shape refuses to run, as in PyTorch."""
from ._tensor import snapshot, take_history
from .inplace import _recording, _write_check
from .ops import shape
from .tape import bump_version


def _reshape_in_place(self, name, op, *args):
    _write_check(self, name)
    if self._base is None and self._counter.views:
        # its views were taken from its old shape, and would take their history from the new
        # one: refuse rather than risk a wrong gradient
        raise RuntimeError(f"{name}: tapegrad cannot change the shape in place of a tensor that "
                           f"has views (shape {list(self.shape)}); use the out-of-place "
                           f"{name[:-1]}() instead")
    recording = _recording(self, ())
    s = snapshot(self)          # a stand-in holding self's current history and view facts
    s._base, s._view, s._generation = self._base, self._view, self._generation
    s._nograd_view = self._nograd_view
    r = op(s, *args)
    if r._data.shape == self._data.shape and r._data.strides == self._data.strides:
        return self             # nothing changes (squeeze_ of no size-1 dim, t_ of a vector)
    self._data = r._data
    if self._base is not None and r._base is self._base:
        self._view, self._generation = r._view, r._generation
    if recording:
        take_history(self, r)
    bump_version(self)
    return self


def unsqueeze_(self, dim):
    """Tensor.unsqueeze_: insert a size-1 dimension at `dim`, in place."""
    return _reshape_in_place(self, "unsqueeze_", shape.unsqueeze, dim)


def squeeze_(self, dim=None):
    """Tensor.squeeze_: drop size-1 dimensions (all, or those in `dim`), in place."""
    return _reshape_in_place(self, "squeeze_", shape.squeeze, dim)


def t_(self):
    """Tensor.t_: transpose a tensor of at most 2 dimensions, in place."""
    return _reshape_in_place(self, "t_", shape.t)


__all__ = ["unsqueeze_", "squeeze_", "t_"]
