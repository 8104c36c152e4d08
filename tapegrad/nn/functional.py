"""torch.nn.functional: the functions behind the layers and losses, by PyTorch's names.

Each is defined next to its module (activation.py, conv.py, loss.py, ...); this is the index.
"""
from ..ops.unary import tanh, sigmoid  # noqa: F401
from .activation import relu, leaky_relu, gelu, silu, softmax, log_softmax  # noqa: F401
from .conv import conv2d  # noqa: F401
from .dropout import dropout  # noqa: F401
from .embedding import embedding, one_hot  # noqa: F401
from .linear import linear  # noqa: F401
from .loss import (mse_loss, l1_loss, nll_loss, cross_entropy, binary_cross_entropy,  # noqa
                   binary_cross_entropy_with_logits)
from .normalization import batch_norm, layer_norm  # noqa: F401
from .padding import pad  # noqa: F401
from .pooling import max_pool2d, avg_pool2d, adaptive_avg_pool2d  # noqa: F401
