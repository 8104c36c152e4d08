"""Random programs over the PyTorch-named API, grown one statement at a time against torch.

Each candidate statement is executed on torch as it is drawn, so the generator needs no shape or
dtype inference of its own: torch says what each variable became, and a candidate torch rejects
is dropped (or, rarely, kept as the program's last statement, to check that tapegrad raises too).
"""
import warnings

import numpy as np

from tests.differential.program import Program, Stmt, literal

FLOATS = ("float32", "float64")
UNARY = ("exp", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg", "square", "sign",
         "expm1")
DOMAIN = ("log", "sqrt", "rsqrt", "log1p", "reciprocal")  # wrapped to stay real most of the time
BINARY = ("+", "-", "*", "/")
REDUCE = ("sum", "mean", "prod", "amax", "amin", "max", "min", "logsumexp", "var", "std",
          "norm", "cumsum", "argmax")
INPLACE_UNARY = ("zero_()", "exp_()", "relu_()", "neg_()", "sigmoid_()", "abs_()")


class Gen:
    """Grows one program; `self.ns` is torch's live namespace, `self.info` what each name holds."""

    def __init__(self, rng, torch, avoid=frozenset(), max_stmts=8):
        self.rng, self.torch = rng, torch
        self.avoid = [frozenset(p.split("+")) for p in avoid]  # "a+b": statements tagged a and b
        self.max_stmts = max_stmts
        self.ns = {"T": torch}
        self.stmts, self.info, self.count, self.ended = [], {}, 0, False
        self.origin, self.retained, self.gathered = {}, set(), set()  # name -> tag of the statement that made it

    # ---- bookkeeping -------------------------------------------------------------------------
    def name(self, prefix="t"):
        self.count += 1
        return f"{prefix}{self.count}"

    def add(self, stmt, keep_error=0.0):
        """Run `stmt` on torch; keep it if it ran (or, with probability keep_error, if it raised)."""
        if stmt is None or any(pattern <= stmt.tags for pattern in self.avoid):
            return False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(stmt.src, "<program>", "exec"), self.ns)
        except Exception:  # torch rejected it
            if self.rng.random() < keep_error:
                self.stmts.append(Stmt(stmt.src, stmt.tags | {"raises"}, stmt.terms))
                self.ended = True
                return True
            return False
        self.refresh()
        if self.nonfinite():  # inf/NaN reach later rules: a pattern of its own (masking)
            stmt = Stmt(stmt.src, stmt.tags | {"nonfinite"}, stmt.terms)
            if any(p <= stmt.tags for p in self.avoid):
                self.ended = True  # torch already ran it: end the program here, without a loss
                return False
        self.stmts.append(stmt)
        name = stmt.src.split(" = ", 1)[0] if " = " in stmt.src.split("\n")[0] else None
        if name and name.isidentifier():
            self.origin[name] = min(stmt.tags)
        return True

    def nonfinite(self):
        return any(not bool(self.torch.isfinite(v.detach()).all()) for v in self.ns.values()
                   if isinstance(v, self.torch.Tensor) and v.is_floating_point())

    def refresh(self):
        """Record shape, dtype, requires_grad, leaf-ness and storage of every tensor name."""
        self.info = {}
        for k, v in self.ns.items():
            if not isinstance(v, self.torch.Tensor):
                continue
            try:  # a view invalidated by an in-place op raises on use: leave it out
                self.info[k] = dict(shape=tuple(v.shape), dtype=str(v.dtype)[6:], rg=v.requires_grad,
                                    leaf=v.is_leaf, view=v._is_view(),
                                    ptr=id(v._base if v._is_view() else v))
            except RuntimeError:
                pass

    def pick(self, pred=lambda i: True, floats=0.85):
        """A tensor name satisfying pred, float with probability `floats` when one exists."""
        names = [k for k, i in self.info.items() if pred(i)]
        if not names:
            return None
        fl = [k for k in names if self.info[k]["dtype"] in FLOATS + ("float16",)]
        if fl and self.rng.random() < floats:
            names = fl
        return self.rng.choice(names)

    def aliases(self, name):
        """Other live names sharing `name`'s storage (views of it, its base, sibling views)."""
        p = self.info[name]["ptr"]
        return [k for k, i in self.info.items() if k != name and p is not None and i["ptr"] == p]

    # ---- random pieces -----------------------------------------------------------------------
    def value(self):
        r = self.rng.random()
        if r < 0.1:
            return 0.0
        return round(self.rng.uniform(-2, 2), 2)

    def scalar(self):
        return self.rng.choice([2, 3, -1, 0.5, 1.5, -2.5, 0])

    def shape(self, rank=None):
        rank = self.rng.choice([0, 1, 1, 2, 2, 2, 3]) if rank is None else rank
        return tuple(self.rng.choice([1, 2, 3, 3, 4]) for _ in range(rank))

    def bcast(self, shape):
        """A shape that broadcasts against `shape`: leading dims dropped, some dims set to 1."""
        drop = self.rng.randrange(len(shape) + 1) if self.rng.random() < 0.3 else 0
        return tuple(1 if self.rng.random() < 0.25 else d for d in shape[drop:])

    def dim(self, ndim):
        n = max(ndim, 1)
        return self.rng.randrange(-n, n)

    def leaf(self, shape, dtype, rg, prefix="a"):
        name = self.name(prefix)
        vals = [self.value() for _ in range(int(np.prod(shape)))]
        return name, Stmt(f"{name} = {literal(vals, shape, dtype, rg)}", {"input"})

    def basic_index(self, shape):
        """Source of a basic (view-making) index into `shape`."""
        parts = []
        for n in shape[: self.rng.randint(1, max(1, len(shape)))]:
            r = self.rng.random()
            if r < 0.35 and n > 0:
                parts.append(str(self.rng.randrange(-n, n)))
            elif r < 0.5:
                parts.append(":")
            elif r < 0.6:
                parts.append("::2")
            else:
                a = self.rng.randrange(0, n + 1)
                parts.append(self.rng.choice([f"{a}:", f":{a}", f"{a}:{a + 1}"]))
        if self.rng.random() < 0.15:
            parts.insert(self.rng.randrange(len(parts) + 1), self.rng.choice(["None", "..."]))
        return ", ".join(parts) or "..."

    def advanced_index(self, name):
        shape = self.info[name]["shape"]
        if not shape or shape[0] == 0:
            return None
        if self.rng.random() < 0.5:
            idx = [self.rng.randrange(-shape[0], shape[0]) for _ in range(self.rng.randint(1, 4))]
            return f"T.tensor({idx})"
        if self.rng.random() < 0.5:
            return f"{name} > 0"
        return f"T.tensor({[self.rng.random() < 0.5 for _ in range(shape[0])]})"

    def operand_like(self, name):
        """A tensor name broadcastable with `name`, or a Python scalar (source text)."""
        shape = self.info[name]["shape"]
        others = [k for k, i in self.info.items() if _broadcasts(i["shape"], shape)]
        if others and self.rng.random() < 0.7:
            return self.rng.choice(others)
        return repr(self.scalar())


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def generate(rng, torch, avoid=frozenset(), max_stmts=8, seed=None):
    """One random program; `rng` is a random.Random (or Hypothesis's).

    `avoid`: patterns "tag" or "tag1+tag2"; a statement carrying all tags of one is never drawn.
    """
    from tests.differential import makers
    g = Gen(rng, torch, avoid, max_stmts)
    makers.inputs(g)
    tries = 0
    while len(g.stmts) < g.max_stmts and not g.ended and tries < 4 * g.max_stmts:
        tries += 1
        maker = makers.choose(g)
        g.add(maker(g), keep_error=0.04)
    if not g.ended:
        makers.finish(g)
    return Program(g.stmts, seed=seed)
