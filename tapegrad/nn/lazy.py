"""`LazyLinear` (torch.nn.LazyLinear): a Linear whose in_features the first input sets."""
from .. import creation
from ..grad_mode import no_grad
from .linear import Linear
from .module import Module
from .parameter import Parameter


class LazyLinear(Linear):
    """A Linear whose in_features the first input sets (torch.nn.LazyLinear).

    The weight and (if ``bias``) the bias are empty placeholders until the first call, which
    gives them their shapes in place (optimizers built earlier keep the same Parameters),
    initialises them as Linear does and turns the module into a Linear. ``out_features`` is
    the output size; ``device`` and ``dtype`` place the parameters.
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features, self.out_features = 0, out_features
        self.weight = Parameter(creation.empty(0, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(0, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self):
        """True: the parameters wait for the first input to get their shapes."""
        return True

    def reset_parameters(self):
        """Nothing to initialise before the shapes are known."""

    def initialize_parameters(self, input):
        """Shape the parameters for the last dim of ``input`` and initialise them (PyTorch's)."""
        if input.ndim == 0:
            raise RuntimeError(f"{self!r}: expected an input with at least 1 dimension")
        self.in_features = int(input.shape[-1])
        with no_grad():
            self.weight.data = creation.empty((self.out_features, self.in_features),
                                              dtype=self.weight.dtype)
            if self.bias is not None:
                self.bias.data = creation.empty(self.out_features, dtype=self.bias.dtype)
        self.__class__ = self.cls_to_become
        self.reset_parameters()

    def forward(self, input):
        self.initialize_parameters(input)
        return self.forward(input)

    def extra_repr(self):
        return f"in_features=0, out_features={self.out_features}, bias={self.bias is not None}"
