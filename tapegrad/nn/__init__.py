"""torch.nn: modules, parameters, layers and losses."""
from .parameter import Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict  # noqa: F401
from .linear import Identity, Linear  # noqa: F401
from .conv import Conv2d  # noqa: F401
from .conv_more import Conv1d, Conv3d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from .upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: F401
from .upsampling import PixelShuffle, PixelUnshuffle  # noqa: F401
from .fold import Fold, Unfold  # noqa: F401
from .normalization_more import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, RMSNorm  # noqa
from .dropout_channels import Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from .lazy import LazyLinear  # noqa: F401
from .param_containers import ParameterList, ParameterDict  # noqa: F401
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d  # noqa: F401
from .pooling1d import MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool2d  # noqa: F401
from .bilinear import Bilinear  # noqa: F401
from .embedding_bag import EmbeddingBag  # noqa: F401
from .normalize import Softmin  # noqa: F401
from .padding_layers import (ZeroPad1d, ZeroPad2d, ZeroPad3d, ConstantPad1d,  # noqa: F401
                             ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
                             ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                             ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d)
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .activation import (ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Softmax,  # noqa: F401
                         LogSoftmax)
from .flatten import Flatten, Unflatten  # noqa: F401
from .activation_more import (Hardtanh, ReLU6, ELU, SELU, CELU, Softplus,  # noqa: F401
                              Softsign, Hardsigmoid, Hardswish, Threshold, Softshrink,
                              Hardshrink, Mish, LogSigmoid, Tanhshrink, GLU, PReLU)
from .loss import (MSELoss, L1Loss, NLLLoss, CrossEntropyLoss, BCELoss,  # noqa: F401
                   BCEWithLogitsLoss)
from .loss_more import (SmoothL1Loss, HuberLoss, KLDivLoss, MarginRankingLoss,  # noqa
                        TripletMarginLoss, CosineEmbeddingLoss, PoissonNLLLoss, GaussianNLLLoss,
                        MultiLabelSoftMarginLoss, HingeEmbeddingLoss, SoftMarginLoss,
                        CosineSimilarity, PairwiseDistance)
from .ctc import CTCLoss  # noqa: F401
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa
from .attention import MultiheadAttention  # noqa: F401
from .transformer import (TransformerEncoderLayer, TransformerEncoder,  # noqa: F401
                          TransformerDecoderLayer, TransformerDecoder, Transformer)
from . import functional, init, utils  # noqa: F401
from . import parallel  # noqa: F401
