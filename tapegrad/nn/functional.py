"""torch.nn.functional: the functions behind the layers and losses, by PyTorch's names.

Each is defined next to its module (activation.py, conv.py, loss.py, ...); this is the index.
"""
from ..ops.unary import tanh, sigmoid  # noqa: F401
from .activation import relu, leaky_relu, gelu, silu, softmax, log_softmax  # noqa: F401
from .conv import conv2d  # noqa: F401
from .conv_more import conv1d, conv3d, conv_transpose1d, conv_transpose2d  # noqa: F401
from .upsampling import interpolate, upsample, pixel_shuffle, pixel_unshuffle  # noqa: F401
from .fold import fold, unfold  # noqa: F401
from .normalization_more import group_norm, instance_norm, rms_norm  # noqa: F401
from .dropout_channels import dropout1d, dropout2d, dropout3d  # noqa: F401
from .dropout import dropout  # noqa: F401
from .activation_more import (hardtanh, hardtanh_, relu6, elu, elu_, selu, selu_,  # noqa
                              celu, celu_, softplus, softsign, hardsigmoid, hardswish,
                              threshold, threshold_, softshrink, hardshrink, mish,
                              logsigmoid, tanhshrink, glu, prelu)
from .embedding import embedding, one_hot  # noqa: F401
from .linear import linear  # noqa: F401
from .loss import (mse_loss, l1_loss, nll_loss, cross_entropy, binary_cross_entropy,  # noqa
                   binary_cross_entropy_with_logits)
from .loss_more import (smooth_l1_loss, huber_loss, kl_div, margin_ranking_loss,  # noqa
                        triplet_margin_loss, cosine_embedding_loss, poisson_nll_loss,
                        gaussian_nll_loss, multilabel_soft_margin_loss, hinge_embedding_loss,
                        soft_margin_loss, cosine_similarity, pairwise_distance)
from .ctc import ctc_loss  # noqa: F401
from .normalization import batch_norm, layer_norm  # noqa: F401
from .padding import pad  # noqa: F401
from .pooling import max_pool2d, avg_pool2d, adaptive_avg_pool2d  # noqa: F401
from .pooling1d import (max_pool1d, avg_pool1d, adaptive_avg_pool1d,  # noqa: F401
                        adaptive_max_pool2d)
from .bilinear import bilinear  # noqa: F401
from .embedding_bag import embedding_bag  # noqa: F401
from .normalize import normalize, softmin  # noqa: F401
from .sampling import affine_grid, grid_sample  # noqa: F401
from .attention import scaled_dot_product_attention  # noqa: F401
