"""torch.nn.utils: gradient clipping, parameters as one vector, parametrizations."""
from .clip_grad import (clip_grad_norm_, clip_grad_value_, get_total_norm,  # noqa: F401
                        clip_grads_with_norm_)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import parametrize, parametrizations  # noqa: F401
from . import rnn  # noqa: F401
