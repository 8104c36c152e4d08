"""torch.nn: modules, parameters, layers and losses."""
from .parameter import Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict  # noqa: F401
from .linear import Identity, Linear  # noqa: F401
from .conv import Conv2d  # noqa: F401
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .activation import (ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Softmax,  # noqa: F401
                         LogSoftmax)
from .flatten import Flatten, Unflatten  # noqa: F401
from .loss import (MSELoss, L1Loss, NLLLoss, CrossEntropyLoss, BCELoss,  # noqa: F401
                   BCEWithLogitsLoss)
from . import functional, init  # noqa: F401
