"""Run a program on tapegrad and on torch and list where they disagree; shrink a disagreement."""
import warnings

import numpy as np

from tests.differential.program import Program

# Forward and gradient tolerances by dtype: relative, and absolute relative to the tensor's scale
# (a sum that cancels to ~0 carries roundoff of the size of its terms, not of its result).
TOLERANCE = {"float64": (1e-6, 1e-9), "float32": (1e-3, 1e-4), "float16": (1e-2, 1e-2)}


class Disagreement:
    """What differs (`kind`), where (`name`, a variable or statement), and both sides' details."""

    def __init__(self, kind, name, ours, theirs):
        self.kind, self.name, self.ours, self.theirs = kind, name, ours, theirs

    def __repr__(self):
        return f"{self.kind} at {self.name}: tapegrad {self.ours} | torch {self.theirs}"


class Run:
    """The outcome of one program on one module: the statement that raised, and the namespace."""

    def __init__(self, program, module):
        self.ns, self.error, self.at = {"T": module}, None, None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, stmt in enumerate(program.stmts):
                try:
                    exec(compile(stmt.src, f"<stmt {i}>", "exec"), self.ns)
                except Exception as e:  # the comparison is about whether (and where) it raised
                    self.error, self.at = e, i
                    break
            self.state = self.snapshot(module)

    def snapshot(self, module):
        out = {}
        for k, v in self.ns.items():
            if isinstance(v, (tuple, list)):
                for j, e in enumerate(v):
                    out[f"{k}[{j}]"] = _describe(e, module)
            elif k != "T" and not k.startswith("__"):
                out[k] = _describe(v, module)
        return out


def _array(t):
    """A copy of a tensor's values as NumPy, bypassing as much of either library as possible."""
    if hasattr(t, "_data") and isinstance(t._data, np.ndarray):
        return np.array(t._data, copy=True)
    return np.array(t.detach().numpy(), copy=True)


def _describe(v, module):
    if v is None or not isinstance(v, module.Tensor):
        return ("other", type(v).__name__)
    return dict(value=_array(v), rg=_attr(lambda: bool(v.requires_grad)),
                leaf=_attr(lambda: bool(v.is_leaf)), grad=_attr(lambda: v.grad))


# torch refuses to say anything about a view whose base (or a sibling view) was written in a
# way it cannot replay (multi-output views, views made in no_grad); tapegrad regenerates
# such views from their base instead. A deliberate difference (docs/differences.rst), so not
# a disagreement.
STALE = "torch: stale view"
_STALE_WORDS = ("its base or another view of its base has been modified inplace",)


def _attr(get):
    """An attribute's value, or the name of what reading it raised (torch refuses stale views)."""
    try:
        value = get()
    except Exception as e:  # noqa: BLE001 - reported as a difference
        if any(w in str(e) for w in _STALE_WORDS):
            return STALE
        return f"raises {type(e).__name__}"
    return _array(value) if value is not None and not isinstance(value, bool) else value


def _close(a, b, floor="float64"):
    """Shapes, dtypes and values within the dtype's tolerance (NaN where NaN, inf where inf).

    `floor`: the least precise float dtype the program used; a float64 result computed from
    float32 values carries float32 roundoff.
    """
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    if a.dtype.kind not in "fc":
        return None if np.array_equal(a, b) else "values differ"
    rtol, atol = max(TOLERANCE.get(str(b.dtype), (1e-6, 1e-9)), TOLERANCE[floor])
    finite = np.abs(b[np.isfinite(b)]) if b.size else np.zeros(0)
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    if np.allclose(a, b, rtol=rtol, atol=atol * scale, equal_nan=True):
        return None
    return "values differ"


def _brief(t):
    return t if not isinstance(t, dict) else f"tensor{t['value'].shape}"


def _short(a):
    return np.array2string(a, precision=4, threshold=12) if isinstance(a, np.ndarray) else repr(a)


def _builtin_base(exc_type):
    return next(c for c in exc_type.__mro__ if c.__module__ == "builtins")


def compare(program, ours, theirs):
    """Run `program` on `ours` (tapegrad) and `theirs` (torch); return the list of disagreements."""
    a, b = Run(program, ours), Run(program, theirs)
    if a.at != b.at:
        line = min(i for i in (a.at, b.at) if i is not None)
        return [Disagreement("raises" if a.at == line else "no_raise", f"stmt {line}",
                             repr(a.error)[:300], repr(b.error)[:300])]
    if a.error is not None:
        if not isinstance(a.error, _builtin_base(type(b.error))):
            return [Disagreement("error_type", f"stmt {a.at}", repr(a.error)[:200], repr(b.error)[:200])]
        return []
    return _compare_states(a.state, b.state, _floor(b.state))


def _floor(state):
    """The least precise float dtype among the program's tensors."""
    dts = {str(t["value"].dtype) for t in state.values() if isinstance(t, dict)}
    return next((d for d in ("float16", "float32") if d in dts), "float64")


def _compare_states(sa, sb, floor):
    out = []
    for k, tb in sb.items():
        ta = sa.get(k)
        if not (isinstance(ta, dict) and isinstance(tb, dict)):
            if ta != tb:  # a tensor on one side only, or a different Python type
                out.append(Disagreement("type", k, _brief(ta), _brief(tb)))
            continue
        d = _close(ta["value"], tb["value"], floor)
        if d:
            kind = d.split()[0] if d.startswith(("shape", "dtype")) else "value"
            out.append(Disagreement(kind, k, _short(ta["value"]) + f" {ta['value'].dtype}",
                                    _short(tb["value"]) + f" {tb['value'].dtype}"))
        for f in ("rg", "leaf"):
            if ta[f] != tb[f] and not (isinstance(tb[f], str) and tb[f] == STALE):
                out.append(Disagreement({"rg": "requires_grad", "leaf": "is_leaf"}[f], k, ta[f], tb[f]))
        out.extend(_compare_grads(k, ta["grad"], tb["grad"], floor))
    return out


def _compare_grads(k, ga, gb, floor):
    if isinstance(gb, str) and gb == STALE:
        return []
    if isinstance(ga, str) or isinstance(gb, str):
        return [] if ga == gb else [Disagreement("grad_none", k, _short(ga), _short(gb))]
    if (ga is None) != (gb is None):
        return [Disagreement("grad_none", k, _short(ga), _short(gb))]
    if ga is not None and _close(ga, gb, floor):
        return [Disagreement("grad", k, _short(ga) + f" {ga.dtype}", _short(gb) + f" {gb.dtype}")]
    return []


def signature(ds):
    """What a shrink must preserve: the kind of the first disagreement."""
    return ds[0].kind if ds else None


def shrink(program, ours, theirs, budget=200):
    """Drop statements (and loss terms) while the first disagreement keeps its kind."""
    want = signature(compare(program, ours, theirs))
    stmts = list(program.stmts)

    def still(candidate):
        nonlocal budget
        budget -= 1
        return signature(compare(Program(candidate), ours, theirs)) == want

    changed = True
    while changed and budget > 0:
        changed = False
        for i in reversed(range(len(stmts))):
            if i >= len(stmts) or budget <= 0:
                continue
            cand = stmts[:i] + stmts[i + 1:]
            if cand and still(cand):
                stmts, changed = cand, True
                continue
            s = stmts[i]
            for j in range(len(s.terms or ())) if s.terms and len(s.terms) > 1 else ():
                terms = s.terms[:j] + s.terms[j + 1:]
                cand = stmts[:i] + [s.with_terms(terms)] + stmts[i + 1:]
                if still(cand):
                    stmts, changed = cand, True
                    break
    return Program(stmts, seed=program.seed)


def report(program, ds, shrunk=None):
    """Readable text: the disagreements and a script that reproduces them."""
    lines = [f"# seed {program.seed}: {len(ds)} disagreement(s)"]
    lines += [f"#   {d!r}" for d in ds[:6]]
    lines.append((shrunk or program).source())
    return "\n".join(lines)
