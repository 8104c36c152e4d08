"""Statement makers: each takes a `Gen` and returns one candidate `Stmt` (or None)."""
from tests.differential.generator import BINARY, DOMAIN, FLOATS, INPLACE_UNARY, REDUCE, UNARY
from tests.differential.program import Stmt


def inputs(g):
    """Two or three leaves of broadcastable shapes (0-d, size-1 and, rarely, empty dims)."""
    dtype = g.rng.choice(FLOATS)
    base = g.shape()
    if base and g.rng.random() < 0.06:
        base = base[:-1] + (0,)
    for i in range(g.rng.randint(2, 3)):
        dt = dtype if g.rng.random() < 0.9 else g.rng.choice(FLOATS)
        shape = base if i == 0 else g.bcast(base)
        g.add(g.leaf(shape, dt, i == 0 or g.rng.random() < 0.7)[1])


def is_float(i):
    return i["dtype"] in FLOATS


def _new(g, expr, tags, prefix="t"):
    name = g.name(prefix)
    return Stmt(f"{name} = {expr}", tags)


def unary(g):
    x = g.pick()
    op = g.rng.choice(UNARY + DOMAIN)
    arg = x
    if op in DOMAIN and g.rng.random() < 0.8:
        arg = f"({x}.abs() + 0.5)"
    tags = {f"unary.{op}"} | (set() if is_float(g.info[x]) else {"on_nonfloat"})
    if g.rng.random() < 0.5:
        return _new(g, f"T.{op}({arg})", tags)
    return _new(g, f"{arg}.{op}()", tags)


def clamp(g):
    x = g.pick()
    lo, hi = sorted([g.value(), g.value()])
    form = g.rng.choice([f"{x}.clamp(min={lo})", f"{x}.clamp(max={hi})", f"T.clamp({x}, {lo}, {hi})"])
    return _new(g, form, {"clamp", "clamp.float" if is_float(g.info[x]) else "clamp.nonfloat"})


def binary(g):
    x = g.pick(floats=0.8)
    y = g.operand_like(x)
    op = g.rng.choice(BINARY + ("maximum", "minimum", "**", "where", ">"))
    if op in ("maximum", "minimum"):
        if y[0].isdigit() or y[0] == "-":
            y = f"T.full_like({x}, {y})"
        return _new(g, f"T.{op}({x}, {y})", {f"binary.{op}"})
    if op == "**":
        e = g.rng.choice([2, 3, 0.5, -1, 2.0])
        base = f"{x}.abs()" if e in (0.5, -1) else x
        return _new(g, f"{base} ** {e}", {"binary.pow"})
    if op == "where":
        return _new(g, f"T.where({x} > 0, {x}, {y})", {"where"})
    if op == ">":
        return _new(g, f"{x} {g.rng.choice(['>', '<=', '=='])} {y}", {"compare"}, "m")
    lhs, rhs = (y, x) if g.rng.random() < 0.3 else (x, y)
    if op == "/" and rhs.isidentifier() and g.rng.random() < 0.8:
        rhs = f"({rhs}.abs() + 0.5)"  # an exact-zero divisor's sign is roundoff (BLAS sums)
    return _new(g, f"{lhs} {op} {rhs}", {f"binary.{op}"})


def reduce(g):
    x = g.pick()
    op = g.rng.choice(REDUCE)
    nd = len(g.info[x]["shape"])
    stmt = _reduce(g, x, op, nd)
    if 0 in g.info[x]["shape"]:
        stmt = Stmt(stmt.src, stmt.tags | {"on_empty"})
    return stmt


def _reduce(g, x, op, nd):
    d, k = g.dim(nd), g.rng.random() < 0.4
    if op in ("logsumexp", "cumsum"):
        return _new(g, f"{x}.{op}({d})" if op == "cumsum" else f"T.logsumexp({x}, {d}, keepdim={k})",
                    {f"reduce.{op}"})
    if op in ("max", "min") and g.rng.random() < 0.6:
        part = g.rng.choice([".values", "[0]", ".indices"])
        return _new(g, f"{x}.{op}(dim={d}, keepdim={k}){part}", {f"reduce.{op}.dim"})
    if op == "argmax":
        return _new(g, f"{x}.argmax(dim={d})", {"reduce.argmax"}, "i")
    if g.rng.random() < 0.35:
        return _new(g, f"{x}.{op}()", {f"reduce.{op}"})
    if op in ("prod",):
        return _new(g, f"{x}.prod(dim={d}, keepdim={k})", {"reduce.prod"})
    if op == "norm":
        return _new(g, f"{x}.norm(dim={d}, keepdim={k})", {"reduce.norm"})
    return _new(g, f"{x}.{op}(dim={d}, keepdim={k})", {f"reduce.{op}"})


def _reshape_target(g, shape):
    n = 1
    for s in shape:
        n *= s
    opts = [(-1,), (n,), (1, n), (n, 1)]
    for f in (2, 3):
        if n and n % f == 0:
            opts.append((f, -1))
            opts.append((n // f, 1, f))
    return g.rng.choice(opts)


def shape_op(g):
    x = g.pick(floats=0.9)
    s = g.info[x]["shape"]
    nd = len(s)
    r = g.rng.randrange(16)
    if r == 0:
        return _new(g, f"{x}.reshape{_reshape_target(g, s)}", {"shape.reshape"})
    if r == 1:
        return _new(g, f"{x}.view{_reshape_target(g, s)}", {"shape.view"})
    if r == 2:
        return _new(g, f"{x}.transpose({g.dim(nd)}, {g.dim(nd)})", {"shape.transpose"})
    if r == 3:
        perm = list(range(nd))
        g.rng.shuffle(perm)
        return _new(g, f"{x}.permute({', '.join(map(str, perm))})", {"shape.permute", f"on_{min(nd, 2)}d"})
    if r == 4:
        return _new(g, g.rng.choice([f"{x}.squeeze()", f"{x}.squeeze({g.dim(nd)})"]), {"shape.squeeze"})
    if r == 5:
        return _new(g, f"{x}.unsqueeze({g.rng.randrange(-nd - 1, nd + 1)})", {"shape.unsqueeze"})
    if r == 6:
        tgt = [g.rng.choice([2, 3]) if d == 1 else -1 for d in s]
        lead = [2] if g.rng.random() < 0.5 or not s else []
        return _new(g, f"{x}.expand({', '.join(map(str, lead + tgt)) or '()'})", {"shape.expand"})
    if r == 7:
        dims = sorted({g.dim(nd) % max(nd, 1) for _ in range(g.rng.randint(1, 2))})
        return _new(g, f"{x}.flip({dims})", {"shape.flip", f"on_{min(nd, 2)}d"})
    if r == 8:
        y = g.pick(lambda i: i["shape"] == s)
        return _new(g, f"T.cat([{x}, {y}], dim={g.dim(nd)})", {"shape.cat"})
    if r == 9:
        y = g.pick(lambda i: i["shape"] == s)
        return _new(g, f"T.stack([{x}, {y}], dim={g.rng.randrange(-nd - 1, nd + 1)})", {"shape.stack"})
    if r == 10:
        d = g.dim(nd)
        return _new(g, f"{x}.split({g.rng.randint(1, 2)}, dim={d})[{g.rng.randrange(-1, 1)}]",
                    {"shape.split"})
    if r == 11:
        a, b = g.name(), g.name()
        return Stmt(f"{a}, {b} = {x}.chunk(2, dim={g.dim(nd)})", {"shape.chunk"})
    if r == 12:
        op = g.rng.choice(["t()", "mT", "flatten()", "movedim(0, -1)"])
        return _new(g, f"{x}.{op}", {f"shape.{op.split('(')[0]}", f"on_{min(nd, 2)}d"})
    if r == 13:
        d = g.dim(nd)
        return _new(g, f"{x}.narrow({d}, 0, {g.rng.randint(0, 2)})", {"shape.narrow"})
    if r == 14:
        return _new(g, g.rng.choice([f"{x}.clone()", f"{x}.contiguous()", f"{x}.detach()"]),
                    {"copy"})
    return _new(g, f"{x}.repeat({', '.join(str(g.rng.randint(1, 2)) for _ in range(nd)) or ''})",
                {"shape.repeat", f"on_{min(nd, 2)}d"})


def index(g):
    x = g.pick(lambda i: len(i["shape"]) > 0, floats=0.9)
    if x is None:
        return None
    s = g.info[x]["shape"]
    r = g.rng.random()
    if r < 0.55:
        return _new(g, f"{x}[{g.basic_index(s)}]", {"index.basic"}, "v")
    if r < 0.8:
        idx = g.advanced_index(x)
        return idx and _new(g, f"{x}[{idx}]", {"index.advanced"})
    if r < 0.9 and s[0] > 0:
        d = 0
        idx = [g.rng.randrange(s[d]) for _ in range(g.rng.randint(1, 3))]
        if g.rng.random() < 0.5:
            return _new(g, f"{x}.index_select({d}, T.tensor({idx}))", {"index.select"})
        g.gathered.add(x)  # torch's gather saves its input: writing it later raises there
        gidx = [[g.rng.randrange(s[0]) for _ in s[1:2] or [0]] for _ in idx]
        if len(s) == 1:
            gidx = [row[0] for row in gidx]
        return _new(g, f"{x}.gather(0, T.tensor({gidx}))", {"index.gather"})
    return _new(g, f"{x}.masked_fill({x} > 0.5, {g.value()})", {"masked_fill"})


def setitem(g):
    """`y[idx] = value`, also through a chain (`out[0][1:] = w * 3`)."""
    y = g.pick(lambda i: is_float(i) and len(i["shape"]) > 0)
    if y is None:
        return None
    s = g.info[y]["shape"]
    idx = g.basic_index(s) if g.rng.random() < 0.8 else g.advanced_index(y)
    if idx is None:
        return None
    target = f"{y}[{idx}]"
    tags = {"setitem"} | _target_tags(g, y)
    if g.rng.random() < 0.2:
        try:
            sub = eval(f"{target}.shape", g.ns)
        except Exception:
            return None
        if sub:
            target += f"[{g.basic_index(tuple(sub))}]"
            tags |= {"setitem.chain", "writes_view"}
    try:
        tshape = tuple(eval(f"{target}.shape", g.ns))
    except Exception:
        return None
    vals = [k for k, i in g.info.items() if k != y and i["shape"] in (tshape, tshape[1:], ())]
    value = repr(g.scalar())
    if vals and g.rng.random() < 0.8:
        v = g.rng.choice(vals)
        value = g.rng.choice([v, f"{v} * 3"])
        if not is_float(g.info[v]):
            tags.add("setitem.value_nonfloat")
    if "T.tensor" in idx or ">" in idx:
        tags.add("setitem.advanced")
    return Stmt(f"{target} = {value}", tags)


def _target_tags(g, name):
    """Tags describing an in-place target: its grad state and live aliases (views/base)."""
    i = g.info[name]
    tags = set()
    tags.add("target.leaf_rg" if i["leaf"] and i["rg"] else "target.nonleaf" if i["rg"]
             else "target.nograd")
    if i["view"]:
        tags |= {"target.view", "writes_view"}
    if g.aliases(name):
        tags.add("target.aliased")
    if name in g.gathered:
        tags.add("target.gathered")
    if name in g.retained:
        tags.add("target.retains_grad")
    if name in g.origin:
        tags.add(f"target.from.{g.origin[name]}")
    return tags


def inplace(g):
    """An in-place op on a name or on a view expression of it."""
    x = g.pick(lambda i: is_float(i), floats=1.0)
    if x is None:
        return None
    s = g.info[x]["shape"]
    target = x
    tags = {"inplace"} | _target_tags(g, x)
    if s and g.rng.random() < 0.4:
        target = f"{x}[{g.basic_index(s)}]"
        tags |= {"inplace.on_view_expr", "writes_view"}
    r = g.rng.randrange(8)
    other = g.operand_like(x)
    if r == 0:
        op = g.rng.choice(INPLACE_UNARY)
        src = f"{target}.{op}"
        tags.add(f"inplace.{op[:-2]}")
    elif r == 1:
        src, _ = f"{target}.fill_({g.value()})", tags.add("inplace.fill_")
    elif r == 2:
        src, _ = f"{target}.copy_({other if not other[0].isdigit() and other[0] != '-' else f'T.full_like({x}, {other})'})", tags.add("inplace.copy_")
    elif r == 3:
        src, _ = f"{target}.clamp_(min={g.value()})", tags.add("inplace.clamp_")
    elif r == 4:
        src, _ = f"{target}.masked_fill_({target} > 0, {g.value()})", tags.add("inplace.masked_fill_")
    elif r == 5:
        op = g.rng.choice(["add_", "sub_", "mul_", "div_"])
        src, _ = f"{target}.{op}({other})", tags.add(f"inplace.{op}")
    else:
        op = g.rng.choice(["+=", "-=", "*=", "/="])
        src, _ = f"{target} {op} {other}", tags.add("inplace.augassign")
    return Stmt(src, tags)


def no_grad(g):
    inner = g.rng.choice([inplace, inplace, binary, unary, setitem, index])(g)
    if inner is None:
        return None
    body = inner.src.replace("\n", "\n    ")
    return Stmt(f"with T.no_grad():\n    {body}", inner.tags | {"no_grad"})


def cast(g):
    x = g.pick()
    c = g.rng.choice(["long()", "int()", "bool()", "double()", "float()", "to(T.float64)",
                      "to(T.float32)", "to(T.int64)"])
    kind = "cast.int" if c in ("long()", "int()", "bool()", "to(T.int64)") else "cast.float"
    return _new(g, f"{x}.{c}", {kind}, "c")


def linalg(g):
    x = g.pick(lambda i: is_float(i) and len(i["shape"]) >= 1, floats=1.0)
    if x is None:
        return None
    s = g.info[x]["shape"]
    r = g.rng.randrange(6)
    if r == 0:  # a fresh weight that fits
        w, stmt = g.leaf((s[-1], g.rng.randint(1, 3)), g.info[x]["dtype"], True, "w")
        if not g.add(stmt):
            return None
        return _new(g, g.rng.choice([f"{x} @ {w}", f"T.matmul({x}, {w})"]), {"matmul"})
    if r == 1 and len(s) >= 2:
        return _new(g, g.rng.choice([f"{x} @ {x}.mT", f"{x}.mT @ {x}"]), {"matmul"})
    if r == 2 and len(s) == 2:
        y = g.pick(lambda i: i["shape"] == s)
        eq = g.rng.choice(["ij->ji", "ij,ij->i", "ij,kj->ik", "ij,ij->"])
        args = x if eq.count(",") == 0 else f"{x}, {y}"
        return _new(g, f"T.einsum('{eq}', {args})", {"einsum"})
    if r == 3:
        return _new(g, f"T.einsum('...i,...i->...', {x}, {x})", {"einsum"})
    if r == 4 and len(s) == 3:
        return _new(g, f"T.bmm({x}, {x}.mT)", {"matmul.bmm"})
    if len(s) == 1:
        return _new(g, g.rng.choice([f"T.outer({x}, {x})", f"T.dot({x}, {x})"]), {"matmul.vec"})
    return None


def softmax(g):
    x = g.pick(lambda i: is_float(i), floats=1.0)
    s = g.info[x]["shape"]
    d = g.dim(len(s))
    r = g.rng.randrange(3)
    if r == 0:
        return _new(g, f"T.softmax({x}, dim={d})", {"softmax"})
    if r == 1:
        return _new(g, f"{x}.log_softmax({d})", {"log_softmax"})
    if len(s) not in (1, 2) or s[-1] == 0:
        return None
    n = s[0] if len(s) == 2 else None
    ign = g.rng.random() < 0.3
    tgt = [g.rng.randrange(s[-1]) if not (ign and g.rng.random() < 0.5) else -100
           for _ in range(n or 1)]
    tsrc = f"T.tensor({tgt if n is not None else tgt[0]})"
    red = g.rng.choice(["mean", "sum", "none"])
    extra = f", label_smoothing=0.1" if g.rng.random() < 0.2 else ""
    return _new(g, f"T.nn.functional.cross_entropy({x}, {tsrc}, reduction='{red}'{extra})",
                {"cross_entropy"} | ({"cross_entropy.ignore"} if -100 in tgt else set()))


def buffer(g):
    """A fresh no-grad tensor (zeros/ones/zeros_like), the usual target of setitem."""
    x = g.pick()
    s = g.info[x]["shape"]
    dt = g.info[x]["dtype"] if is_float(g.info[x]) else "float32"
    return _new(g, g.rng.choice([f"T.zeros({s!r}, dtype=T.{dt})", f"T.ones({s!r}, dtype=T.{dt})",
                                 f"T.zeros_like({x})"]), {"buffer"}, "b")


def grad_state(g):
    r = g.rng.randrange(3)
    if r == 0:
        y = g.pick(lambda i: i["rg"] and not i["leaf"], floats=1.0)
        if y:
            g.retained.add(y)
        return y and Stmt(f"{y}.retain_grad()", {"retain_grad"})
    if r == 1:
        y = g.pick(lambda i: is_float(i) and not i["rg"] and i["leaf"], floats=1.0)
        tags = {"requires_grad_"} | ({"target.aliased"} if y and g.aliases(y) else set())
        return y and Stmt(f"{y}.requires_grad_()", tags)
    return None


def second_order(g):
    """g = grad(f(x), a, create_graph=True): later statements and the loss use g."""
    x = g.pick(lambda i: is_float(i) and i["rg"], floats=1.0)
    a = g.pick(lambda i: is_float(i) and i["rg"] and i["leaf"], floats=1.0)
    if x is None or a is None:
        return None
    f = g.rng.choice([f"({x} * {x}).sum()", f"{x}.sin().sum()", f"({x} ** 3).mean()"])
    return _new(g, f"T.autograd.grad({f}, [{a}], create_graph=True)[0]", {"grad2"}, "g")


WEIGHTS = [(unary, 3), (clamp, 1), (binary, 4), (reduce, 2), (shape_op, 3), (index, 2),
           (setitem, 2), (inplace, 4), (no_grad, 1.5), (cast, 1), (linalg, 1), (softmax, 1),
           (buffer, 1), (grad_state, 0.7), (second_order, 0.7)]


def choose(g):
    total = sum(w for _, w in WEIGHTS)
    r = g.rng.random() * total
    for maker, w in WEIGHTS:
        r -= w
        if r < 0:
            return maker
    return WEIGHTS[-1][0]


def finish(g):
    """A scalar loss over some float names that require grad, then backward or autograd.grad."""
    cands = [k for k, i in g.info.items() if is_float(i) and i["rg"]]
    if not cands:
        return
    g.rng.shuffle(cands)
    picked = cands[: g.rng.randint(1, 3)]
    terms = [g.rng.choice([f"{v}.sum()", f"({v} * {v}).sum()", f"{v}.sin().sum()"]) for v in picked]
    leaves = [k for k, i in g.info.items() if i["leaf"] and i["rg"]]
    if leaves and g.rng.random() < 0.25:
        tail = f"grads = T.autograd.grad(loss, [{', '.join(leaves)}], allow_unused=True)"
    else:
        tail = "loss.backward()"
    g.add(Stmt(f"loss = {' + '.join(terms)}\n{tail}", {"backward"}, terms), keep_error=1.0)
