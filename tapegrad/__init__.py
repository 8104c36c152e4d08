"""tapegrad: reverse-mode automatic differentiation for NumPy with PyTorch's names.

A global (per-thread) tape records primitive ops as they run; `backward()` replays it in reverse.
This file only gathers the public names; the layers below import one another one way only
(see README's Design section and tests/test_layers.py).
"""
from math import pi, e, inf, nan  # noqa: F401

from . import dtypes as _np_dtypes
from ._types import Size, Device as device  # noqa: F401
from ._tensor import Tensor  # noqa: F401
from .dtypes import dtype, get_default_dtype, set_default_dtype, public as _public  # noqa: F401
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                        is_grad_enabled, is_inference_mode_enabled)
from .tape import Tape  # noqa: F401
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,  # noqa
                       ones_like, empty_like, full_like, eye, arange, linspace, logspace,
                       rand, randn, rand_like, randn_like, randint, randperm, normal, bernoulli,
                       multinomial, manual_seed, seed, Generator,
                       default_generator)
from .creation import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,  # noqa
                       ShortTensor, CharTensor, ByteTensor, BoolTensor)
from .creation import BFloat16Tensor as _BFloat16Tensor
from .printing import set_printoptions  # noqa: F401
from .threads import set_num_threads, get_num_threads  # noqa: F401
from .ops.elementwise import *  # noqa: F401,F403
from .ops.unary import *  # noqa: F401,F403
from .ops.conversion import *  # noqa: F401,F403
from .ops.comparison import *  # noqa: F401,F403
from .ops.reduction import *  # noqa: F401,F403
from .ops.statistics import *  # noqa: F401,F403
from .ops.cumulative import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.join import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.einsum import *  # noqa: F401,F403
from .ops.nn import *  # noqa: F401,F403
from .ops.trig import *  # noqa: F401,F403
from .ops.pointwise import *  # noqa: F401,F403
from .ops.bitwise import *  # noqa: F401,F403
from .ops.activation import *  # noqa: F401,F403
from .ops.sorting import *  # noqa: F401,F403
from .ops.counting import *  # noqa: F401,F403
from .ops.matrix_ops import *  # noqa: F401,F403
from .ops.scans import *  # noqa: F401,F403
from .ops.numeric import *  # noqa: F401,F403
from .ops.arrange import *  # noqa: F401,F403
from .ops.blas import *  # noqa: F401,F403
from ._types import set_default_device, get_default_device  # noqa: F401
from .type_info import (finfo, iinfo, promote_types, result_type, can_cast,  # noqa: F401
                        is_floating_point, is_complex, is_nonzero)
from . import accelerator, backends  # noqa: F401
from . import _methods, _malloc
from . import distributed  # noqa: F401
from . import autograd, nn, optim, utils, cuda, models  # noqa: F401
from .autograd.anomaly import is_anomaly_enabled, is_anomaly_check_nan_enabled  # noqa: F401
from . import viz  # noqa: F401
from . import special, linalg, sparse, optimize, integrate  # noqa: F401
from . import distributions  # noqa: F401
from . import testing  # noqa: F401
from . import profiler  # noqa: F401
from .io import save, load  # noqa: F401
from . import serialization  # noqa: F401
from .rng import initial_seed, get_rng_state, set_rng_state, randint_like  # noqa: F401
from .special import erf, erfc, erfinv, logit, xlogy  # noqa: F401
from .linalg.legacy import svd, qr, cholesky, logdet, chain_matmul  # noqa: F401
from .linalg.lu import lu  # noqa: F401
from .nn.toplevel import (dropout, conv1d, conv2d, layer_norm, batch_norm, embedding,  # noqa
                          pdist, cosine_similarity, pairwise_distance)
from .linalg import matrix_exp  # noqa: F401
from .linalg.aliases import det, slogdet, inverse, pinverse, norm  # noqa: F401

__version__ = "0.1.0"

_methods.install()
_malloc.tune()

# the public dtype objects print as PyTorch's (`torch.float32`) and compare equal to NumPy's
float16 = half = _public(_np_dtypes.float16)
float32 = float = _public(_np_dtypes.float32)
float64 = double = _public(_np_dtypes.float64)
int8, uint8 = _public(_np_dtypes.int8), _public(_np_dtypes.uint8)
int16 = short = _public(_np_dtypes.int16)
int32 = int = _public(_np_dtypes.int32)
int64 = long = _public(_np_dtypes.int64)
bool = _public(_np_dtypes.bool)  # noqa: A001
if _np_dtypes.ml_dtypes is not None:      # else __getattr__ says what to install
    bfloat16 = _public(_np_dtypes.bfloat16)
    BFloat16Tensor = _BFloat16Tensor


def __getattr__(name):
    """Only for torch.bfloat16 without ml_dtypes: an AttributeError naming the package."""
    hint = f": {_np_dtypes.NO_BFLOAT16}" if name in ("bfloat16", "BFloat16Tensor") else ""
    raise AttributeError(f"module 'tapegrad' has no attribute '{name}'{hint}")


def is_tensor(obj):
    """Whether `obj` is a tapegrad Tensor, as torch.is_tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """The number of elements of `input`, as torch.numel."""
    return input.numel()
