"""A Module's state_dict: collecting it, and loading one (every problem is found before
anything is copied)."""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ..creation import tensor
from ..grad_mode import no_grad
from ..tape import bump_version
from .._tensor import Tensor
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys it could not match, as in PyTorch."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def save_state(module, destination, prefix, keep_vars):
    """Module.state_dict: parameters, then persistent buffers, then each child's under
    "name.", detached unless keep_vars."""
    if destination is None:
        destination = OrderedDict()
    for name, p in module._parameters.items():
        if p is not None:
            destination[prefix + name] = p if keep_vars else p.detach()
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = b if keep_vars else b.detach()
    for name, child in module._modules.items():
        if child is not None:   # through the child's own method, which a subclass may override
            child.state_dict(destination=destination, prefix=f"{prefix}{name}.",
                             keep_vars=keep_vars)
    return destination


def load_state(module, state_dict, strict, assign):
    """Module.load_state_dict: match keys and shapes first (missing and unexpected keys when
    strict, shape mismatches always), report every problem in one RuntimeError, and only then
    copy (or, with assign, install) the tensors."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    own = module.state_dict(keep_vars=True)
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    errors, arrays = [], {}
    for key, target in own.items():
        if key in state_dict:
            value = state_dict[key]
            a = value._data if isinstance(value, Tensor) else np.asarray(value)
            if a.shape != target._data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"torch.Size({list(a.shape)}) from checkpoint, the shape in "
                              f"current model is torch.Size({list(target.shape)}).")
            arrays[key] = a
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ". ")
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
                           + "\n\t".join(errors))
    with no_grad():
        for key, a in arrays.items():
            if assign:
                _install(module, key, own[key], a)
            else:
                np.copyto(own[key]._data, a, casting="unsafe")
                bump_version(own[key])
    return _IncompatibleKeys(missing, unexpected)


def _install(module, key, old, a):
    """load_state_dict(assign=True): the loaded tensor replaces the old one (a Parameter
    keeps the old one's requires_grad)."""
    path, _, name = key.rpartition(".")
    owner = module.get_submodule(path)
    value = tensor(a)
    if name in owner._parameters:
        value = Parameter(value, old.requires_grad)
    setattr(owner, name, value)
