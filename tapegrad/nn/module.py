"""`Module`: parameters, buffers and submodules registered by attribute (torch.nn.Module).

Each kind lives in its own ordered dict (`_parameters`, `_buffers`, `_modules`), filled in the
order attributes are assigned, which is the order of `parameters()` and of `state_dict()` keys.
"""
import itertools

from .. import dtypes
from .._types import Device
from .._tensor import Tensor
from .hooks import add_hook, call_with_hooks
from .parameter import Parameter
from .state_dict import load_state, save_state


def _addindent(text, n):
    """Indent every line of text but the first by n spaces (child reprs inside a parent's)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * n + line for line in rest])


def _check_name(name, kind, module):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\", got: {name}")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    if hasattr(module, name) and name not in getattr(module, f"_{kind}s", {}):
        raise KeyError(f"attribute '{name}' already exists")


class Module:
    """Base class of every layer and model (torch.nn.Module).

    Subclasses call ``super().__init__()``, assign Parameters, Modules and buffers as
    attributes in their own ``__init__``, and define :meth:`forward`; calling the module runs
    forward with its hooks. The base constructor takes no args or kwargs (TypeError if given).
    """

    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            f"{args} {kwargs}")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_pre_hooks"] = {}
        d["_forward_pre_hooks_with_kwargs"] = set()

    def forward(self, *args, **kwargs):
        """Compute the module's output from ``input`` (whatever args and kwargs it takes).

        Every layer overrides it; call the module itself (``module(input)``) rather than
        forward, so that hooks run. The base class raises NotImplementedError.
        """
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    # ---- registration by attribute -----------------------------------------------------------
    def _forget(self, name, *stores):
        self.__dict__.pop(name, None)
        for store in stores:
            getattr(self, store).pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __setattr__(self, name, value):
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, "_buffers", "_modules")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, "_parameters", "_buffers")
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (torch.nn.Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__()) | set(self._parameters) | set(self._buffers) | \
            set(self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter, or None for an absent one) under ``name``.

        A non-leaf tensor or anything but a Parameter raises, as in PyTorch.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             "parameters must be created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add ``tensor`` (or None) as a buffer under ``name``: state that is not learned.

        Buffers (running statistics, masks) move with :meth:`to` and are saved in
        :meth:`state_dict` unless ``persistent`` is False.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add the child ``module`` (or None) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at the dotted path ``target``, such as 'layer1.0.conv1' ('' is self)."""
        module = self
        for item in target.split(".") if target else ():
            if item not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def get_parameter(self, target):
        """The parameter at the dotted path ``target``, such as 'layer1.0.conv1.weight'."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target):
        """The buffer at the dotted path ``target``, such as 'bn1.running_mean'."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer `{name}`")
        return module._buffers[name]

    # ---- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for self and every descendant, depth first.

        Names start with ``prefix``; with ``remove_duplicate`` a module reached twice is
        yielded once; ``memo`` is the set of ids already seen (used by the recursion).
        """
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def modules(self):
        """Yield self and every descendant module, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield (name, module) for each direct child, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield each direct child module, each once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, parameter) for every parameter, each once.

        Descendants' parameters are included if ``recurse``; names start with ``prefix``; with
        ``remove_duplicate`` a shared parameter appears once.
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every parameter (of descendants too if ``recurse``), each once, in order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, buffer) for every buffer, each once.

        Descendants' buffers are included if ``recurse``; names start with ``prefix``; with
        ``remove_duplicate`` a shared buffer appears once.
        """
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every buffer (of descendants too if ``recurse``), each once, in order."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- state -------------------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, in registration order.

        As PyTorch's: the tensors are detached unless ``keep_vars``; names start with
        ``prefix``; entries go into ``destination`` (an OrderedDict) if given.
        """
        return save_state(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the tensors of ``state_dict`` into the parameters and buffers of the same names.

        All or nothing (see nn/state_dict.py): with ``strict``, missing or unexpected keys
        raise; with ``assign``, the tensors are assigned instead of copied into the existing
        ones. Returns (missing_keys, unexpected_keys).
        """
        return load_state(self, state_dict, strict, assign)

    # ---- modes and gradients -----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode to ``mode`` (dropout active, batch norm on batch statistics).

        Applies to every descendant; returns self.
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Set evaluation mode, ``train(False)``, recursively; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (to freeze or unfreeze); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the parameters' gradients: to None if ``set_to_none`` (default), else to 0."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- conversions -------------------------------------------------------------------------
    def _apply(self, convert):
        """Convert every parameter, gradient and buffer array with `convert`, keeping the same
        tensor objects (so optimizers built earlier still hold the model's parameters)."""
        for module in self.modules():
            for t in itertools.chain(module._parameters.values(), module._buffers.values()):
                if t is not None:
                    t.data = convert(t._data)
                    if t.grad is not None:
                        t.grad.data = convert(t.grad._data)
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast the parameters and buffers in place; returns self.

        Called as ``to(dtype)``, ``to(device)``, ``to(tensor)`` or ``to(device, dtype)`` (args),
        or with ``device=`` / ``dtype=`` kwargs: floating point parameters and buffers take the
        dtype (the same tensor objects are kept, so optimizers stay valid); only the CPU exists.
        """
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, Device)):
                device = a
            elif a is not None:
                dtype = a
        if device is not None:
            Device(device)
        if dtype is None:
            return self
        dt = dtypes.as_dtype(dtype)
        if not dtypes.is_floating(dt):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dt}")
        return self._apply(lambda a: a.astype(dt, copy=False) if dtypes.is_floating(a.dtype)
                           else a)

    def float(self):
        """Cast floating point parameters and buffers to float32; returns self."""
        return self.to(dtypes.float32)

    def double(self):
        """Cast floating point parameters and buffers to float64; returns self."""
        return self.to(dtypes.float64)

    def half(self):
        """Cast floating point parameters and buffers to float16; returns self."""
        return self.to(dtypes.float16)

    def bfloat16(self):
        """Cast floating point parameters and buffers to bfloat16 (needs ml_dtypes)."""
        return self.to(dtypes.as_dtype("torch.bfloat16"))

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones included) to ``dst_type``."""
        dt = dtypes.as_dtype(dst_type)
        return self._apply(lambda a: a.astype(dt, copy=False))

    def cpu(self):
        """Return self: tapegrad's tensors always live on the CPU."""
        return self

    def cuda(self, device=None):
        """Raise a clear error: tapegrad has no CUDA ``device`` (it runs on NumPy)."""
        Device("cuda")

    # ---- calling -----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)    # the common case: no hook machinery
        return call_with_hooks(self, args, kwargs)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Register ``hook(module, args)`` to run before forward; returns a removable handle.

        A value the hook returns replaces args. With ``with_kwargs`` the hook is
        ``hook(module, args, kwargs)`` and may return (args, kwargs); ``prepend`` runs it
        before the hooks already registered.
        """
        return add_hook(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs, hook,
                        prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Register ``hook(module, args, output)`` to run after forward; returns a removable handle.

        A value the hook returns replaces the output. With ``with_kwargs`` the hook is
        ``hook(module, args, kwargs, output)``; ``prepend`` runs it before the hooks already
        registered.
        """
        return add_hook(self._forward_hooks, self._forward_hooks_with_kwargs, hook, prepend,
                        with_kwargs)

    # ---- printing ----------------------------------------------------------------------------
    def extra_repr(self):
        """The layer's own settings in its repr; subclasses override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"
