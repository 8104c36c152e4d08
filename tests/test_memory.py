"""Release (design.md 1.5): unreachable entries are freed, so memory stays flat without backward."""
import gc
import tracemalloc

import numpy as np

import tapegrad as tg
from tapegrad.tape import global_tape


def _mlp():
    tg.manual_seed(0)
    w1 = tg.randn(16, 32, requires_grad=True)
    b1 = tg.zeros(32, requires_grad=True)
    w2 = tg.randn(32, 4, requires_grad=True)
    return lambda x: tg.log_softmax(tg.relu(x @ w1 + b1) @ w2, dim=1).sum()


def test_forward_passes_without_backward_keep_tape_and_memory_flat():
    model, x = _mlp(), tg.randn(8, 16)
    for _ in range(100):
        model(x)
    gc.collect()
    tape = global_tape()
    tracemalloc.start()
    try:
        for i in range(10_000):
            loss = model(x)
            if i == 1000:
                length = len(tape)
                base = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
        # the tape sweeps dead references in batches: count what is live, after a sweep
        final_length = len(tape)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loss.requires_grad
    assert final_length <= length + 16, "the tape grew with forward passes nobody can backward"
    assert peak - base < 512 * 1024, f"memory grew by {(peak - base) / 1024:.0f} KiB"
    assert current - base < 64 * 1024


def test_backward_releases_saved_values():
    x = tg.randn(1000, requires_grad=True)
    y = tg.exp(x)
    z = (y * y).sum()
    entry = y.grad_fn
    z.backward()
    assert entry.out is None and entry.inputs is None
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.detach().numpy()), rtol=1e-5)


def test_chain_memory_per_op_is_small():
    x = tg.tensor([0.5], dtype=tg.float64, requires_grad=True)
    tracemalloc.start()
    try:
        y = x
        for _ in range(20_000):
            y = y * 1.0
        per_op = tracemalloc.get_traced_memory()[0] / 20_000
    finally:
        tracemalloc.stop()
    assert per_op < 1024, f"{per_op:.0f} bytes per recorded op"
    y.backward()
    assert x.grad.item() == 1.0
