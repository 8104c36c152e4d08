"""torch.autograd: gradients of tensors, custom Functions, numerical checks, functional API."""
from ..engine import backward, grad  # noqa: F401
from ..grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from .variable import Variable  # noqa: F401
from . import function, functional, profiler  # noqa: F401
from .explain import explain  # noqa: F401
from .anomaly import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled,  # noqa: F401
                      is_anomaly_check_nan_enabled)
from .memory import memory_report  # noqa: F401
from . import anomaly as anomaly_mode  # noqa: F401
