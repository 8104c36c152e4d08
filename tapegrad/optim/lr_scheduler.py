"""torch.optim.lr_scheduler: learning-rate schedules that rewrite the optimizer's group lrs.

Each schedule follows torch's own arithmetic: the chained (recursive) form on `step()`, the
closed form on `step(epoch)`, so the learning rates agree with torch's to the last bit.
"""
import math
from bisect import bisect_right
from collections import Counter

from .cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR  # noqa: F401
from .plateau import ReduceLROnPlateau  # noqa: F401
from .scheduler_base import LRScheduler, _LambdaSchedule
from .schedulers_more import (  # noqa: F401
    ChainedScheduler, ConstantLR, LinearLR, MultiplicativeLR, PolynomialLR, SequentialLR)


class LambdaLR(_LambdaSchedule):
    """Set each lr to initial_lr * lr_lambda(epoch) (torch.optim.lr_scheduler.LambdaLR).

    ``lr_lambda`` is one function of the epoch, or a list with one per parameter group.
    ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch`` is the index of the last
    epoch done (-1: start fresh, with each group's lr saved as its initial_lr).
    """

    def get_lr(self):
        """The learning rates for this epoch: initial_lr * lr_lambda(last_epoch) per group."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    """Multiply the lrs by ``gamma`` every ``step_size`` epochs (torch.optim.lr_scheduler.StepLR).

    ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch`` is the index of the last
    epoch done (-1: start fresh, with each group's lr saved as its initial_lr).
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this epoch, one per parameter group (torch's chained form)."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lrs by ``gamma`` at each epoch in ``milestones`` (lr_scheduler.MultiStepLR).

    ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch`` is the index of the last
    epoch done (-1: start fresh, with each group's lr saved as its initial_lr).
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this epoch, one per parameter group (torch's chained form)."""
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lrs by ``gamma`` every epoch (torch.optim.lr_scheduler.ExponentialLR).

    ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch`` is the index of the last
    epoch done (-1: start fresh, with each group's lr saved as its initial_lr).
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this epoch, one per parameter group (torch's chained form)."""
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing of each lr from its initial value to ``eta_min`` over ``T_max`` epochs.

    Mirrors torch.optim.lr_scheduler.CosineAnnealingLR (SGDR without restarts), in torch's recursive
    form; past T_max the lr climbs back, as in torch. ``optimizer`` is the Optimizer whose group lrs
    it sets; ``last_epoch`` is the index of the last epoch done (-1: start fresh, with each group's
    lr saved as its initial_lr).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this epoch, one per parameter group (torch's chained form)."""
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and e > 0:
            return [lo + (base - lo) * (1 + math.cos(e * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            # past the trough the recursion divides by zero: step back up by the half period
            return [lr + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                    for base, lr in zip(self.base_lrs, self._lrs())]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
                * (lr - lo) + lo for lr in self._lrs()]

    def _get_closed_form_lr(self):
        lo = self.eta_min
        return [lo + (base - lo) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]
