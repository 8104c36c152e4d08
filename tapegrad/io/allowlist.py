"""The globals a checkpoint's pickle may name, and what each one resolves to.

Only PyTorch's tensor rebuild functions, storage and dtype names, and constructors of plain
containers resolve; every other global is refused. The constructors are wrapped so that their
arguments must already be plain data (no iterating tensors, no `bytearray(10**12)`).
"""
import pickle
from collections import Counter, OrderedDict

from .._types import Device
from . import safe_globals
from . import tensors as T

UnpicklingError = pickle.UnpicklingError

_CONTAINERS = (list, tuple, dict, OrderedDict, set)


def _items(args, what):
    if len(args) > 1 or (args and type(args[0]) not in _CONTAINERS):
        raise UnpicklingError(f"load: {what} may only be built from a list, tuple, dict or set")
    return args


def ordered_dict(*args):
    return OrderedDict(*_items(args, "collections.OrderedDict"))


def counter(*args):
    return Counter(*_items(args, "collections.Counter"))


def set_(*args):
    return set(*_items(args, "builtins.set"))


def complex_(real=0, imag=0):
    if type(real) not in (int, float) or type(imag) not in (int, float):
        raise UnpicklingError("load: builtins.complex takes two real numbers here")
    return complex(real, imag)


def bytearray_(data=b"", encoding=None):
    """bytearray from bytes, or from latin-1 text as protocol-2 pickles write it."""
    if type(data) is str and encoding in ("latin1", "latin-1"):
        return bytearray(data.encode("latin-1"))
    if type(data) not in (bytes, bytearray) or encoding is not None:
        raise UnpicklingError("load: builtins.bytearray may only copy bytes")
    return bytearray(data)


def encode(text, encoding="utf-8"):
    """_codecs.encode, which protocol-2 pickles use for bytes: latin-1 text only."""
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise UnpicklingError("load: _codecs.encode is only allowed to turn latin-1 text into "
                              "bytes")
    return text.encode("latin-1")


def device(spec, index=None):
    """torch.device: tapegrad.device('cpu') for the CPU; another device stays its name."""
    if type(spec) is not str or not (index is None or type(index) is int):
        raise UnpicklingError("load: torch.device takes a name and an optional index")
    name = spec if index is None else f"{spec}:{index}"
    return Device(name) if spec.split(":")[0] == "cpu" else name


_ALLOWED = {
    "collections.OrderedDict": ordered_dict,
    "collections.Counter": counter,
    "builtins.set": set_,
    "builtins.complex": complex_,
    "builtins.bytearray": bytearray_,
    "_codecs.encode": encode,
    "torch.Size": T.size,
    "torch.device": device,
    "torch.Tensor": T.TENSOR_TYPE,
    "torch.nn.parameter.Parameter": T.PARAMETER_TYPE,
    "torch._utils._rebuild_tensor": T.rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": T.rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": T.rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": T.rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": T.rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": T.rebuild_from_type_v2,
    "torch.storage.UntypedStorage": T.UNTYPED,
    "torch.UntypedStorage": T.UNTYPED,
}
_ALLOWED.update((f"torch.{k.storage}", k) for k in T.KINDS if k.storage)
_ALLOWED.update((f"torch.{k.name}", k.dtype) for k in T.KINDS if k.dtype is not None)
if T.BFLOAT16 not in T.BY_DTYPE.values():      # no ml_dtypes: float32, marked as bfloat16
    _ALLOWED["torch.bfloat16"] = T.BFLOAT16_DTYPE

# What REDUCE / NEWOBJ / INST / OBJ may call, by identity.
CALLABLE = frozenset(id(f) for f in (
    ordered_dict, counter, set_, complex_, bytearray_, encode, device, T.size,
    T.rebuild_tensor, T.rebuild_tensor_v2, T.rebuild_tensor_v3, T.rebuild_parameter,
    T.rebuild_from_type_v2))

# The Python 2 module name that protocol-2 pickles (torch.save's default) still carry.
_RENAMED = {"__builtin__": "builtins"}


def resolve(module, name):
    """find_class for checkpoints: the allowed object named `module.name`, or UnpicklingError."""
    key = f"{_RENAMED.get(module, module)}.{name}"
    obj = _ALLOWED.get(key)
    if obj is None:
        kind = T.BY_NAME.get(key[len("torch."):]) if key.startswith("torch.") else None
        if kind is not None:
            T.supported(kind)    # a dtype tapegrad lacks (complex): say that, not "refused"
        user = safe_globals.by_name()
        obj = user.get(key, user.get(_numpy_renamed(key)))
        if obj is None:
            raise UnpicklingError(refusal(key))
    return obj


def torch_global(module, name):
    """find_class for the torch.* names of a trusted file: tensors' rebuild functions and
    dtypes as above; no other PyTorch object exists here."""
    key = f"{module}.{name}"
    obj = _ALLOWED.get(key)
    if obj is None:
        kind = T.BY_NAME.get(key[len("torch."):])
        if kind is not None:
            T.supported(kind)
        raise UnpicklingError(f"load: can't rebuild '{_shown(key)}': tapegrad rebuilds PyTorch's "
                              "tensors, storages, dtypes, devices and sizes, no other torch object")
    return obj


def refusal(key):
    """The weights_only refusal of global `key`, saying (as PyTorch does) how to load it."""
    shown = _shown(key)
    hint = (" (tapegrad can't rebuild it even with weights_only=False: it rebuilds only "
            "PyTorch's tensors)" if key.startswith("torch.") else
            f"; if you trust the file's source, allow it with "
            f"tapegrad.serialization.add_safe_globals([{shown}]) or load with "
            "weights_only=False, which can run arbitrary code from the file: do that only for "
            "files you trust")
    return (f"load: refusing to resolve the global '{shown}': a checkpoint may only name tensor "
            "rebuild functions, storage types, dtypes and plain containers (weights_only=True "
            f"unpickler){hint}")


def _shown(key):
    return key if len(key) <= 200 else key[:200] + "..."


def _numpy_renamed(key):
    """NumPy 2 moved numpy.core to numpy._core: files from NumPy 1 name the old module."""
    return "numpy._core." + key[len("numpy.core."):] if key.startswith("numpy.core.") else key
