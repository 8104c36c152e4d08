"""Workloads a) to e) of bench.py: each `*_cases` function returns {library: step}, one
fwd+bwd (or training step, or forward) per call, with the same data for every library; "numpy"
is the hand-written floor. The CNN workloads f) to h) are in cnn.py.
"""
import gc
import importlib
import itertools
import os
import tracemalloc

import numpy as np


# ---- a) and c): a chain of small elementwise ops -----------------------------------------------
def chain_cases(mods, n, size):
    """One fwd+bwd through `n` ops cycling mul-by-const, add, sin, tanh, sub, per library.

    `n` is a multiple of 5; the floor differentiates the five-op block by hand.
    """
    rng = np.random.default_rng(0)
    x0, c = rng.uniform(-1, 1, size), rng.uniform(-0.5, 0.5, size)
    cases = {}

    def numpy_run():
        # The same chain written out by hand in blocks of five ops, saving what backward reads.
        v, saved = x0, []
        for _ in range(n // 5):
            b = v * 1.1 + c
            t = np.tanh(np.sin(b))
            saved.append((b, t))
            v = t - 0.3
        g = np.ones(size)
        for b, t in reversed(saved):
            g = g * (1 - t * t) * np.cos(b) * 1.1
        return g
    cases["numpy"] = numpy_run

    for name in ("tapegrad", "torch"):
        if mods.get(name):
            cases[name] = _torchlike_chain(mods[name], x0, c, n)
    if mods.get("autograd"):
        import autograd.numpy as anp
        from autograd import make_vjp
        seq, ones = _chain(anp, c, n), np.ones(size)
        cases["autograd"] = lambda: make_vjp(lambda v: _run_chain(seq, v))(x0)[0](ones)
    if mods.get("mygrad"):
        cases["mygrad"] = _mygrad_chain(mods["mygrad"], x0, c, n)
    return cases


def _chain(M, c, n):
    """The n ops, for a library `M` with NumPy-like `sin` and `tanh` and constant `c`."""
    ops = [lambda v: v * 1.1, lambda v: v + c, M.sin, M.tanh, lambda v: v - 0.3]
    return [ops[i % 5] for i in range(n)]


def _run_chain(seq, v):
    for op in seq:
        v = op(v)
    return v


def _torchlike_chain(T, x0, c, n):
    """The chain written once for tapegrad and PyTorch (same API)."""
    x = T.tensor(x0, requires_grad=True)
    seq, ones = _chain(T, T.tensor(c), n), T.tensor(np.ones_like(x0))

    def run():
        _run_chain(seq, x).backward(gradient=ones)
        x.grad = None
    return run


def _mygrad_chain(mg, x0, c, n):
    x, seq, ones = mg.tensor(x0), _chain(mg, c, n), np.ones_like(x0)

    def run():
        _run_chain(seq, x).backward(ones)
        return x.grad
    return run


def chain_forward_bytes(tg, n):
    """tracemalloc peak while tapegrad records an n-op chain on one element, per op."""
    x = tg.tensor(np.array([0.5]), requires_grad=True)
    seq = _chain(tg, tg.tensor(np.array([0.1])), n)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    v = _run_chain(seq, x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del v
    return (peak - base) / n


# ---- b) and e): an MLP 784-512-256-10 ----------------------------------------------------------
BATCH, SIZES, LR = 128, (784, 512, 256, 10), 0.01


def mlp_data():
    rng = np.random.default_rng(1)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        bound = 1 / np.sqrt(fan_in)   # PyTorch's nn.Linear default range
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return params, x, y


def _torchlike_loss(T, params, x, y, rows):
    W1, b1, W2, b2, W3, b3 = params
    h = T.relu(x @ W1 + b1)
    h = T.relu(h @ W2 + b2)
    logp = T.log_softmax(h @ W3 + b3, dim=1)
    return -logp[rows, y].mean()


def mlp_cases(mods, train):
    """One SGD step (train) or one forward to the loss (not train), per library."""
    params0, x0, y0 = mlp_data()
    rows0 = np.arange(BATCH)
    cases = {}

    P = [p.copy() for p in params0]

    def numpy_run():
        W1, b1, W2, b2, W3, b3 = P
        h1 = x0 @ W1 + b1
        r1 = np.maximum(h1, 0)
        h2 = r1 @ W2 + b2
        r2 = np.maximum(h2, 0)
        z = r2 @ W3 + b3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = -(z[rows0, y0] - np.log(s[:, 0])).mean()
        if not train:
            return loss
        dz = e / s                       # d(loss)/dz = (softmax - onehot) / batch
        dz[rows0, y0] -= 1
        dz /= BATCH
        dr2 = dz @ W3.T
        dh2 = dr2 * (h2 > 0)
        dr1 = dh2 @ W2.T
        dh1 = dr1 * (h1 > 0)
        grads = (x0.T @ dh1, dh1.sum(0), r1.T @ dh2, dh2.sum(0), r2.T @ dz, dz.sum(0))
        for p, g in zip(P, grads):
            p -= LR * g
        return loss
    cases["numpy"] = numpy_run

    for name in ("tapegrad", "torch"):
        T = mods.get(name)
        if T is None:
            continue
        params = [T.tensor(p.copy(), requires_grad=True) for p in params0]
        x, y, rows = T.tensor(x0), T.tensor(y0), T.tensor(rows0)

        def run(T=T, params=params, x=x, y=y, rows=rows):
            loss = _torchlike_loss(T, params, x, y, rows)
            if train:
                loss.backward()
                with T.no_grad():
                    for p in params:
                        p -= LR * p.grad
                        p.grad = None
            return loss
        cases[name] = run

    if mods.get("autograd"):
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp
        AP = [p.copy() for p in params0]

        def loss_fn(params):
            W1, b1, W2, b2, W3, b3 = params
            h = anp.maximum(x0 @ W1 + b1, 0)
            h = anp.maximum(h @ W2 + b2, 0)
            z = h @ W3 + b3
            logp = z - logsumexp(z, axis=1, keepdims=True)
            return -anp.mean(logp[rows0, y0])
        grad_fn = autograd.grad(loss_fn)

        def autograd_run():
            if not train:
                return loss_fn(AP)
            for p, g in zip(AP, grad_fn(AP)):
                p -= LR * g
        cases["autograd"] = autograd_run

    if mods.get("mygrad"):
        mg = mods["mygrad"]
        from mygrad.nnet import logsoftmax, relu
        MP = [mg.tensor(p.copy()) for p in params0]

        def mygrad_run():
            W1, b1, W2, b2, W3, b3 = MP
            h = relu(x0 @ W1 + b1)
            h = relu(h @ W2 + b2)
            logp = logsoftmax(h @ W3 + b3, axis=1)
            loss = -logp[rows0, y0].mean()
            if train:
                loss.backward()
                for p in MP:
                    p.data -= LR * p.grad
            return loss
        cases["mygrad"] = mygrad_run
    return cases


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def forwards_memory(name, run, n, tg):
    """Run `n` forwards keeping none; memory (and tapegrad's tape length) at start/middle/end.

    tracemalloc sees NumPy's buffers but not PyTorch's, so PyTorch is measured by RSS.
    """
    use_rss = name == "torch"
    marks, tape_len = [], []
    gc.collect()
    if not use_rss:
        tracemalloc.start()
    for i in range(n):
        run()
        if i in (9, n // 2 - 1, n - 1):   # start after 10 forwards: caches and arenas settle
            marks.append(_rss_bytes() if use_rss else tracemalloc.get_traced_memory()[0])
            if name == "tapegrad":
                tape_len.append(len(tg.tape.global_tape()))
    if not use_rss:
        tracemalloc.stop()
    return marks, tape_len


# ---- d) Hessian of sum(tanh(W @ x) ** 2), x in R^50 ---------------------------------------------
def hessian_cases(mods, n=50):
    rng = np.random.default_rng(2)
    W0, x0 = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)

    def numpy_run():
        t = np.tanh(W0 @ x0)
        d = 2 * (1 - t * t) * (1 - 3 * t * t)   # second derivative of tanh(u)**2
        return (W0.T * d) @ W0
    cases = {"numpy": numpy_run}
    for name in ("tapegrad", "torch"):
        T = mods.get(name)
        if T is None:
            continue
        W, x = T.tensor(W0), T.tensor(x0)

        def run(T=T, W=W, x=x):
            hessian = importlib.import_module(T.__name__ + ".autograd.functional").hessian
            return hessian(lambda v: (T.tanh(W @ v) ** 2).sum(), x)
        cases[name] = run
    if mods.get("autograd"):
        import autograd
        import autograd.numpy as anp
        H = autograd.hessian(lambda v: anp.sum(anp.tanh(W0 @ v) ** 2))
        cases["autograd"] = lambda: H(x0)
    return cases
