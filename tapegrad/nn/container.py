"""Containers: `Sequential`, `ModuleList`, `ModuleDict` (torch.nn's, with their indexing)."""
import itertools
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from .module import Module, _addindent


def _position(idx, n):
    """A list position from a possibly negative index, with PyTorch's IndexError."""
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range")
    return idx % n


def _delete(module, idx):
    """Remove the children at idx (an int or a slice), then renumber the rest 0..n-1."""
    keys = list(module._modules)
    doomed = keys[idx] if isinstance(idx, slice) else [keys[_position(idx, len(keys))]]
    for key in doomed:
        del module._modules[key]
    _renumber(module, list(module._modules.values()))


def _renumber(module, items):
    module.__dict__["_modules"] = {str(i): m for i, m in enumerate(items)}


class Sequential(Module):
    """A chain of modules applied in order, each to the previous one's output (nn.Sequential).

    Built from modules as positional args (named '0', '1', ...) or from one OrderedDict of
    name -> module. Indexing, slicing (a new Sequential), ``len``, iteration and ``+`` work as
    in PyTorch.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_position(idx, len(self))]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_position(idx, len(self))]
        setattr(self, key, module)

    def __delitem__(self, idx):
        _delete(self, idx)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, sequential):
        """Append each module of ``sequential`` (any iterable of modules); returns self."""
        for module in sequential:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (negative: from the end); returns self."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index % (n + 1) if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self, items)
        return self

    def pop(self, key):
        """Remove the module at index ``key`` and return it; the rest are renumbered."""
        module = self[key]
        del self[key]
        return module

    def forward(self, input):
        """Feed ``input`` through every module in order and return the last output."""
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules, each registered as a child (named '0', '1', ...) (torch.nn.ModuleList).

    ``modules`` is an optional iterable of modules to start with. It has no forward: index it
    or iterate over it in the parent's forward.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_position(idx, len(self)))]

    def __setitem__(self, idx, module):
        setattr(self, str(_position(idx, len(self))), module)

    def __delitem__(self, idx):
        _delete(self, idx)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each module of the iterable ``modules``; returns self."""
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; the rest are renumbered."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self, items)

    def pop(self, key):
        """Remove the module at index ``key`` and return it; the rest are renumbered."""
        module = self[key]
        del self[key]
        return module

    def __repr__(self):
        """Runs of identical children print once, as `(0-2): 3 x Linear(...)` (PyTorch's)."""
        if not self._modules:
            return f"{self._get_name()}()"
        lines, start = [], 0
        for text, run in itertools.groupby(repr(m) for m in self._modules.values()):
            n = len(list(run))
            head = f"({start})" if n == 1 else f"({start}-{start + n - 1}): {n} x"
            lines.append(_addindent(f"{head}: {text}" if n == 1 else f"{head} {text}", 2))
            start += n
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """Modules by name, in insertion order, each registered as a child (torch.nn.ModuleDict).

    ``modules`` is an optional mapping or iterable of (name, module) pairs, added as by
    :meth:`update`.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def pop(self, key):
        """Remove the module named ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def items(self):
        """The (name, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add the ``modules`` of a mapping, a ModuleDict or an iterable of (name, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for j, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                 f"{len(pair)}; 2 is required")
            self[pair[0]] = pair[1]
