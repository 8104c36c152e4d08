"""torch.serialization's safe globals: what the user allows a weights_only load to name beyond
the built-in allow-list (NumPy arrays, their own classes), as PyTorch's API spells it.

A global is named `f"{obj.__module__}.{obj.__qualname__}"`, or by the string of an
`(obj, "module.name")` pair. A file may call an allowed global, make instances of an allowed
class and set their state, so allow only what you would run on the file's behalf.
"""
_marked = []     # the allowed globals: objects or (object, name) pairs, in order, no repeats


def _name(entry):
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError("add_safe_globals: expected a tuple of length 2 (global, str of "
                             f"its full path), got one of length {len(entry)}")
        if type(entry[1]) is not str:
            raise TypeError("add_safe_globals: the second item of a (global, name) pair must be "
                            f"a str, got {type(entry[1]).__name__}")
        return entry[1]
    module, name = getattr(entry, "__module__", None), getattr(entry, "__qualname__", None)
    if type(module) is not str or type(name) is not str:
        raise TypeError(f"add_safe_globals: {entry!r} has no __module__ and __qualname__ to name "
                        "it by: pass a (global, 'module.name') pair")
    return f"{module}.{name}"


def _entries(safe_globals):
    if not isinstance(safe_globals, (list, tuple, set)):
        raise TypeError("add_safe_globals: expected a list of globals, got "
                        f"{type(safe_globals).__name__}")
    for entry in safe_globals:
        _name(entry)     # validates
    return list(safe_globals)


def add_safe_globals(safe_globals):
    """Let weights_only loads name the globals in ``safe_globals`` (serialization.add_safe_globals).

    ``safe_globals`` is a list of classes or functions, or of (object, "module.name") pairs
    for objects saved under another name. A file may call an allowed global and build and
    fill instances of an allowed class, so allow only what you would run on its behalf.
    """
    for entry in _entries(safe_globals):
        if not any(_same(entry, m) for m in _marked):
            _marked.append(entry)


def get_safe_globals():
    """The globals the user has allowed, in order (torch.serialization.get_safe_globals)."""
    return list(_marked)


def clear_safe_globals():
    """Forget every global the user allowed (torch.serialization.clear_safe_globals)."""
    _marked.clear()


class safe_globals:
    """Context manager allowing the globals in ``safe_globals`` inside it (torch.serialization).

    ``safe_globals`` is as in :func:`add_safe_globals`; as in PyTorch, the globals are
    removed on exit.
    """

    def __init__(self, safe_globals):
        self.safe_globals = _entries(safe_globals)

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _marked[:] = [m for m in _marked if not any(_same(m, e) for e in self.safe_globals)]


def _same(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and a[0] is b[0]
                and a[1] == b[1])
    return a is b


def by_name():
    """{full name: object} of the allowed globals."""
    return {_name(e): e[0] if isinstance(e, tuple) else e for e in _marked}


def allowed(obj):
    """Whether the user allowed `obj` (by identity)."""
    return any((e[0] if isinstance(e, tuple) else e) is obj for e in _marked)
