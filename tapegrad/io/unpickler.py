"""The restricted unpickler: a pickle interpreter that builds data and nothing else.

Python's `pickle` imports and calls whatever a file names. This interpreter resolves globals
only through `allowlist.resolve` and calls only what the allow-list marks callable, so a
checkpoint can rebuild tensors and containers, and any other global (`os.system`,
`builtins.eval`, a class) raises `pickle.UnpicklingError` naming it before anything runs.
Every other defect of the stream is an `UnpicklingError` too (sizes and bounds of storages
raise `RuntimeError`).
"""
import pickle
import struct
import types
from collections import Counter, OrderedDict

from . import allowlist, safe_globals
from .._tensor import Tensor

UnpicklingError = pickle.UnpicklingError
MAX_TUPLE_DEPTH = 100   # hashing a deeper chain of nested tuples overflows the C stack
_STOP = object()
_SIZED = (str, bytes, bytearray, list, tuple, dict, OrderedDict, set)


class Unpickler:
    """Unpickle `data[pos:]` (bytes); `persistent_load(pid)` supplies storages.

    `budget` bounds the elements and bytes that allowed calls may copy, so a small pickle
    cannot repeat a copy of a large object until memory runs out.
    """

    def __init__(self, data, pos=0, persistent_load=None, encoding="utf-8", budget=1 << 24):
        self.data, self.pos = data, pos
        self.persistent_load = persistent_load
        self.encoding = encoding
        self.budget = budget
        self.stack, self.marks, self.memo = [], [], {}
        self._depth = {}    # id(tuple) -> (tuple, nesting depth); the tuple kept alive

    def load(self):
        """The unpickled object; afterwards `self.pos` is the byte after the STOP opcode."""
        try:
            return self._run()
        except (UnpicklingError, RuntimeError):
            raise
        except Exception as e:   # whatever a malformed stream makes an opcode raise
            raise UnpicklingError(f"load: corrupt pickle data near byte {self.pos} "
                                  f"({type(e).__name__})") from e

    def _run(self):
        data, ops = self.data, _OPS
        while True:
            if self.pos >= len(data):
                raise UnpicklingError("load: pickle data was truncated (no STOP opcode)")
            code = data[self.pos]
            self.pos += 1
            op = ops.get(code)
            if op is None:
                raise UnpicklingError(f"load: pickle opcode {bytes([code])!r} at byte "
                                      f"{self.pos - 1} is not allowed in a checkpoint")
            if op(self) is _STOP:
                return self.stack.pop()

    # ---- reading the stream ------------------------------------------------------------------
    def _take(self, n):
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise UnpicklingError(f"load: pickle data was truncated (an opcode at byte "
                                  f"{self.pos} needs {n} more bytes)")
        b = self.data[self.pos:end]
        self.pos = end
        return b

    def _unpack(self, fmt):
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _line(self):
        end = self.data.find(b"\n", self.pos, self.pos + 65536)
        if end < 0:
            raise UnpicklingError(f"load: unterminated or overlong text line at byte {self.pos}")
        line = self.data[self.pos:end]
        self.pos = end + 1
        return line

    # ---- the stack ----------------------------------------------------------------------------
    def _pop(self):
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise UnpicklingError(f"load: pickle stack underflow at byte {self.pos}")
        return self.stack.pop()

    def _top(self):
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise UnpicklingError(f"load: pickle stack underflow at byte {self.pos}")
        return self.stack[-1]

    def _pop_mark(self):
        if not self.marks:
            raise UnpicklingError(f"load: pickle MARK missing at byte {self.pos}")
        k = self.marks.pop()
        items = self.stack[k:]
        del self.stack[k:]
        return items

    def _tuple(self, items):
        t = tuple(items)
        depth = 1 + max((self._depth[id(x)][1] for x in t if id(x) in self._depth), default=0)
        if depth > MAX_TUPLE_DEPTH:
            raise UnpicklingError(f"load: tuples nested deeper than {MAX_TUPLE_DEPTH}")
        self._depth[id(t)] = (t, depth)
        self.stack.append(t)

    # ---- calls: only what the allow-list marks callable ---------------------------------------
    def _call(self, func, args, kwargs=None, new=False):
        """``func(*args)``, or ``func.__new__(func, *args, **kwargs)`` for NEWOBJ (`new`)."""
        user = id(func) not in allowlist.CALLABLE and safe_globals.allowed(func)
        if id(func) not in allowlist.CALLABLE and not user:
            raise UnpicklingError(f"load: refusing to call {_describe(func)}: a checkpoint may "
                                  "only call tensor rebuild functions, container constructors "
                                  "and what tapegrad.serialization.add_safe_globals allows")
        if type(args) is not tuple or (kwargs and not user) or type(kwargs or {}) is not dict:
            raise UnpicklingError(f"load: malformed call of {_describe(func)} at byte {self.pos}")
        self.budget -= sum(len(a) if type(a) in _SIZED else
                           a._data.nbytes if isinstance(a, Tensor) else 0 for a in args)
        if self.budget < 0:
            raise UnpicklingError("load: the pickle asks to copy far more data than the file "
                                  "holds")
        if user and new and isinstance(func, type):
            return func.__new__(func, *args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))

    # ---- opcodes ------------------------------------------------------------------------------
    def _proto(self):
        if self._take(1)[0] > 5:
            raise UnpicklingError("load: unsupported pickle protocol")

    def _frame(self):
        self._take(8)     # frames only group opcodes; the whole stream is already in memory

    def _stop(self):
        self._top()
        return _STOP

    def _mark(self):
        self.marks.append(len(self.stack))

    def _pop_op(self):
        if self.marks and len(self.stack) == self.marks[-1]:
            self.marks.pop()
        else:
            self._pop()

    def _global(self):
        module, name = self._line().decode("utf-8"), self._line().decode("utf-8")
        self.stack.append(allowlist.resolve(module, name))

    def _stack_global(self):
        name, module = self._pop(), self._pop()
        if type(module) is not str or type(name) is not str:
            raise UnpicklingError("load: STACK_GLOBAL needs two strings")
        self.stack.append(allowlist.resolve(module, name))

    def _reduce(self):
        args = self._pop()
        self.stack[-1] = self._call(self._top(), args)

    def _newobj(self):
        args = self._pop()
        self.stack[-1] = self._call(self._top(), args, new=True)

    def _newobj_ex(self):
        kwargs, args = self._pop(), self._pop()
        self.stack[-1] = self._call(self._top(), args, kwargs, new=True)

    def _inst(self):
        module, name = self._line().decode("utf-8"), self._line().decode("utf-8")
        cls = allowlist.resolve(module, name)
        self.stack.append(self._call(cls, tuple(self._pop_mark())))

    def _obj(self):
        items = self._pop_mark()
        if not items:
            raise UnpicklingError("load: OBJ without a class")
        self.stack.append(self._call(items[0], tuple(items[1:])))

    def _build(self):
        state = self._pop()
        inst = self._top()
        if safe_globals.allowed(type(inst)):
            return _set_state(inst, state)
        if type(state) is tuple and len(state) == 2 and state[1] is None:
            state = state[0]
        # torch.save pickles a state_dict's `_metadata` attribute this way; nothing else may
        # set attributes, and none that would shadow a method: copy and pickle look up
        # `__deepcopy__`, `__reduce_ex__` ... on the instance, so no dunder either.
        if (type(inst) not in (OrderedDict, Counter) or type(state) is not dict
                or any(type(k) is not str or hasattr(type(inst), k) or _is_dunder(k)
                       for k in state)):
            raise UnpicklingError(f"load: refusing to set the state of a {type(inst).__name__} "
                                  "(BUILD is only allowed for an OrderedDict's attributes)")
        inst.__dict__.update(state)

    def _persid(self):
        self._binpersid(self._line().decode("ascii"))

    def _binpersid(self, pid=None):
        pid = self._pop() if pid is None else pid
        if self.persistent_load is None:
            raise UnpicklingError("load: unexpected persistent id in this pickle")
        self.stack.append(self.persistent_load(pid))

    def _append(self):
        item = self._pop()
        target = self._top()
        if type(target) is not list:
            raise UnpicklingError(f"load: APPEND to a {type(target).__name__}")
        target.append(item)

    def _appends(self):
        items = self._pop_mark()
        target = self._top()
        if type(target) is not list:
            raise UnpicklingError(f"load: APPENDS to a {type(target).__name__}")
        target.extend(items)

    def _setitems(self, items):
        target = self._top()
        if type(target) not in (dict, OrderedDict, Counter) or len(items) % 2:
            raise UnpicklingError(f"load: SETITEMS on a {type(target).__name__}")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def _setitem(self):
        value = self._pop()
        key = self._pop()
        self._setitems([key, value])

    def _additems(self):
        items = self._pop_mark()
        target = self._top()
        if type(target) is not set:
            raise UnpicklingError(f"load: ADDITEMS to a {type(target).__name__}")
        target.update(items)

    def _dict(self):
        items = self._pop_mark()
        self.stack.append({})
        self._setitems(items)

    def _get(self, key):
        if key not in self.memo:
            raise UnpicklingError(f"load: memo key {key} missing at byte {self.pos}")
        self.stack.append(self.memo[key])

    def _put(self, key):
        self.memo[key] = self._top()

    def _string(self, raw):
        self.stack.append(raw if self.encoding == "bytes" else raw.decode(self.encoding))

    def _int_line(self):
        line = self._line()     # protocol 0 spells booleans as the ints 00 and 01
        self.stack.append(False if line == b"00" else True if line == b"01" else int(line))


def _set_state(inst, state):
    """BUILD on an instance of a class the user allowed: as pickle (and PyTorch) do it."""
    if hasattr(inst, "__setstate__"):
        inst.__setstate__(state)
        return
    slots = None
    if type(state) is tuple and len(state) == 2:
        state, slots = state
    if state:
        inst.__dict__.update(state)
    for k, v in (slots or {}).items():
        setattr(inst, k, v)


def _is_dunder(name):
    return name.startswith("__") and name.endswith("__")


def _describe(obj):
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        return repr(obj.__qualname__[:100])
    return f"a {type(obj).__name__} object"


def _u(fmt):
    return lambda self: self._unpack(fmt)


def _push(make):
    return lambda self: self.stack.append(make(self))


U = Unpickler
_OPS = {
    pickle.PROTO[0]: U._proto,
    pickle.FRAME[0]: U._frame,
    pickle.STOP[0]: U._stop,
    pickle.MARK[0]: U._mark,
    pickle.POP[0]: U._pop_op,
    pickle.POP_MARK[0]: U._pop_mark,
    pickle.DUP[0]: _push(lambda u: u._top()),
    pickle.GLOBAL[0]: U._global,
    pickle.STACK_GLOBAL[0]: U._stack_global,
    pickle.REDUCE[0]: U._reduce,
    pickle.NEWOBJ[0]: U._newobj,
    pickle.NEWOBJ_EX[0]: U._newobj_ex,
    pickle.INST[0]: U._inst,
    pickle.OBJ[0]: U._obj,
    pickle.BUILD[0]: U._build,
    pickle.PERSID[0]: U._persid,
    pickle.BINPERSID[0]: U._binpersid,
    # scalars
    pickle.NONE[0]: _push(lambda u: None),
    pickle.NEWTRUE[0]: _push(lambda u: True),
    pickle.NEWFALSE[0]: _push(lambda u: False),
    pickle.INT[0]: U._int_line,
    pickle.LONG[0]: _push(lambda u: int(u._line().rstrip(b"L"))),
    pickle.BININT[0]: _push(_u("<i")),
    pickle.BININT1[0]: _push(_u("<B")),
    pickle.BININT2[0]: _push(_u("<H")),
    pickle.LONG1[0]: _push(lambda u: int.from_bytes(u._take(u._unpack("<B")), "little",
                                                    signed=True)),
    pickle.LONG4[0]: _push(lambda u: int.from_bytes(u._take(u._unpack("<i")), "little",
                                                    signed=True)),
    pickle.FLOAT[0]: _push(lambda u: float(u._line())),
    pickle.BINFLOAT[0]: _push(_u(">d")),
    # text and bytes
    pickle.UNICODE[0]: _push(lambda u: u._line().decode("raw-unicode-escape")),
    pickle.BINUNICODE[0]: _push(lambda u: u._take(u._unpack("<I")).decode("utf-8",
                                                                          "surrogatepass")),
    pickle.SHORT_BINUNICODE[0]: _push(lambda u: u._take(u._unpack("<B")).decode(
        "utf-8", "surrogatepass")),
    pickle.BINUNICODE8[0]: _push(lambda u: u._take(u._unpack("<Q")).decode("utf-8",
                                                                           "surrogatepass")),
    pickle.BINSTRING[0]: lambda u: u._string(u._take(u._unpack("<i"))),
    pickle.SHORT_BINSTRING[0]: lambda u: u._string(u._take(u._unpack("<B"))),
    pickle.BINBYTES[0]: _push(lambda u: u._take(u._unpack("<I"))),
    pickle.SHORT_BINBYTES[0]: _push(lambda u: u._take(u._unpack("<B"))),
    pickle.BINBYTES8[0]: _push(lambda u: u._take(u._unpack("<Q"))),
    pickle.BYTEARRAY8[0]: _push(lambda u: bytearray(u._take(u._unpack("<Q")))),
    # containers
    pickle.EMPTY_LIST[0]: _push(lambda u: []),
    pickle.APPEND[0]: U._append,
    pickle.APPENDS[0]: U._appends,
    pickle.LIST[0]: _push(lambda u: u._pop_mark()),
    pickle.EMPTY_TUPLE[0]: lambda u: u._tuple(()),
    pickle.TUPLE[0]: lambda u: u._tuple(u._pop_mark()),
    pickle.TUPLE1[0]: lambda u: u._tuple([u._pop()]),
    pickle.TUPLE2[0]: lambda u: u._tuple(reversed([u._pop(), u._pop()])),
    pickle.TUPLE3[0]: lambda u: u._tuple(reversed([u._pop(), u._pop(), u._pop()])),
    pickle.EMPTY_DICT[0]: _push(lambda u: {}),
    pickle.DICT[0]: U._dict,
    pickle.SETITEM[0]: U._setitem,
    pickle.SETITEMS[0]: lambda u: u._setitems(u._pop_mark()),
    pickle.EMPTY_SET[0]: _push(lambda u: set()),
    pickle.ADDITEMS[0]: U._additems,
    # the memo
    pickle.PUT[0]: lambda u: u._put(int(u._line())),
    pickle.BINPUT[0]: lambda u: u._put(u._unpack("<B")),
    pickle.LONG_BINPUT[0]: lambda u: u._put(u._unpack("<I")),
    pickle.MEMOIZE[0]: lambda u: u._put(len(u.memo)),
    pickle.GET[0]: lambda u: u._get(int(u._line())),
    pickle.BINGET[0]: lambda u: u._get(u._unpack("<B")),
    pickle.LONG_BINGET[0]: lambda u: u._get(u._unpack("<I")),
}
del U
