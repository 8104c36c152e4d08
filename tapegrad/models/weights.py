"""Pretrained weights: torchvision-style `WeightsEnum` entries and the checkpoint cache lookup.

Nothing is downloaded (tapegrad works offline): a checkpoint is looked up by its file name in
`$TAPEGRAD_HOME/checkpoints` (default `~/.cache/tapegrad/checkpoints`), then in PyTorch's hub
cache `$TORCH_HOME/hub/checkpoints` (default `~/.cache/torch/hub/checkpoints`), so a file that
torchvision already downloaded is found where it is.
"""
import enum
import os
from dataclasses import dataclass, field

from ..io import load


def _cache_root():
    return os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")


def tapegrad_checkpoint_dir():
    """`$TAPEGRAD_HOME/checkpoints`; TAPEGRAD_HOME defaults to `~/.cache/tapegrad`."""
    home = os.environ.get("TAPEGRAD_HOME") or os.path.join(_cache_root(), "tapegrad")
    return os.path.join(os.path.expanduser(home), "checkpoints")


def torch_checkpoint_dir():
    """PyTorch's hub cache, as torch.hub.get_dir() places it, plus `checkpoints`."""
    home = os.environ.get("TORCH_HOME") or os.path.join(_cache_root(), "torch")
    return os.path.join(os.path.expanduser(home), "hub", "checkpoints")


@dataclass(frozen=True)
class Weights:
    """One pretrained checkpoint: where torchvision publishes it and what it was trained for."""

    url: str
    num_classes: int
    meta: dict = field(default_factory=dict, compare=False, hash=False)


class WeightsEnum(enum.Enum):
    """Base of `ResNet18_Weights` etc. (torchvision.models.WeightsEnum); `DEFAULT` aliases
    the recommended member."""

    @property
    def url(self):
        return self.value.url

    @property
    def num_classes(self):
        return self.value.num_classes

    @property
    def meta(self):
        return self.value.meta

    @property
    def filename(self):
        return self.value.url.rsplit("/", 1)[-1]

    @classmethod
    def verify(cls, obj):
        """A member of this enum from a member, its name ('DEFAULT', 'IMAGENET1K_V1' or
        'ResNet18_Weights.IMAGENET1K_V1'), or None."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj[len(cls.__name__) + 1:] if obj.startswith(cls.__name__ + ".") else obj
            if name in cls.__members__:
                return cls.__members__[name]
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                        f"{obj!r}")

    def cached_path(self):
        """The checkpoint file in the first cache that holds it; FileNotFoundError (saying where
        to put it) when none does."""
        dirs = [tapegrad_checkpoint_dir(), torch_checkpoint_dir()]
        for d in dirs:
            path = os.path.join(d, self.filename)
            if os.path.isfile(path):
                return path
        raise FileNotFoundError(
            f"{type(self).__name__}.{self.name}: the checkpoint {self.filename} is not in the "
            f"cache, and tapegrad does not download. Download {self.url} and save it as "
            f"{os.path.join(dirs[1], self.filename)} (PyTorch's hub cache, $TORCH_HOME) or "
            f"{os.path.join(dirs[0], self.filename)} ($TAPEGRAD_HOME), or pass the file's "
            "path as weights=")

    def get_state_dict(self, progress=True, check_hash=False):
        """The checkpoint's state_dict, read from the cache with tapegrad.load (progress and
        check_hash are torchvision's arguments; there is no download to report or check)."""
        return load(self.cached_path())

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"


def resolve(weights, enum_cls):
    """None, a member of enum_cls (from a member or its name), or an existing checkpoint path."""
    if isinstance(weights, str) and not os.path.isfile(weights):
        try:
            return enum_cls.verify(weights)
        except TypeError:
            pass
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"weights={path!r} is neither a checkpoint file nor one of "
                                    f"{enum_cls.__name__}'s names "
                                    f"({', '.join(enum_cls.__members__)})")
        return path
    return enum_cls.verify(weights)     # None, a member, or TypeError naming the enum


def read_state_dict(weights):
    """The state_dict of a resolved `weights` (an enum member or a path), via tapegrad.load."""
    return weights.get_state_dict() if isinstance(weights, WeightsEnum) else load(weights)
