"""The default generator's state (torch.initial_seed, get_rng_state, set_rng_state) and
torch.randint_like. The state is NumPy PCG64's, packed into a uint8 tensor (PyTorch's holds
its Mersenne Twister's; states do not carry between the two libraries)."""
import numpy as np

from ._tensor import Tensor, _leaf
from .creation import default_generator, randint

_STATE_BYTES = 16 + 16 + 1 + 4      # state, increment (128-bit each), has_uint32, uinteger


def initial_seed():
    """torch.initial_seed: the seed the default generator was last seeded with."""
    return int(default_generator._np.bit_generator.seed_seq.entropy) % 2 ** 64


def get_rng_state():
    """torch.get_rng_state: the default generator's state as a uint8 tensor."""
    s = default_generator._np.bit_generator.state
    raw = (s["state"]["state"].to_bytes(16, "little") + s["state"]["inc"].to_bytes(16, "little")
           + bytes([s["has_uint32"]]) + int(s["uinteger"]).to_bytes(4, "little"))
    return _leaf(np.frombuffer(raw, np.uint8).copy())


def set_rng_state(new_state):
    """Restore `new_state`, a state that get_rng_state returned, as torch.set_rng_state."""
    a = new_state._data if isinstance(new_state, Tensor) else None
    if a is None or a.dtype != np.uint8 or a.shape != (_STATE_BYTES,):
        raise RuntimeError(f"set_rng_state: expected a uint8 tensor of {_STATE_BYTES} bytes from "
                           "tapegrad.get_rng_state(), got "
                           f"{getattr(new_state, 'dtype', type(new_state).__name__)} of shape "
                           f"{list(getattr(new_state, 'shape', []))}")
    raw = a.tobytes()
    bitgen = default_generator._np.bit_generator
    bitgen.state = {"bit_generator": "PCG64",
                    "state": {"state": int.from_bytes(raw[:16], "little"),
                              "inc": int.from_bytes(raw[16:32], "little")},
                    "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:], "little")}


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False, memory_format=None):
    """Integers in [`low`, `high`) of `input`'s shape, as torch.randint_like.

    Called as (input, high) or (input, low, high). The dtype is `input`'s unless `dtype` is given;
    drawn from `generator` (the global one by default); `device` may only name the CPU;
    `requires_grad` makes a recording leaf; `memory_format` is accepted for PyTorch's signature.
    """
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator,
                   dtype=dtype or input.dtype, requires_grad=requires_grad)

