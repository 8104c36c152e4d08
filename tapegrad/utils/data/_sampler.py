"""The samplers' base class, in a module of its own so that the distributed sampler can
subclass it without importing the package that exports it (the other samplers are in
`tapegrad.utils.data`)."""


class Sampler:
    """Base of the samplers, which iterate over dataset indices (torch.utils.data.Sampler).

    Subclasses define ``__iter__`` (and ``__len__`` when they can); ``data_source`` is
    accepted and ignored, as in torch.
    """

    def __init__(self, data_source=None):
        pass
