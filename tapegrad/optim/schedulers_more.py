"""More of torch.optim.lr_scheduler: warm-up factors, polynomial decay, and schedule composition.

As in lr_scheduler.py, `step()` uses torch's recursive form and `step(epoch)` its closed form,
so the learning rates agree with torch's bit for bit.
"""
from bisect import bisect_right

from .plateau import ReduceLROnPlateau
from .scheduler_base import LRScheduler, _LambdaSchedule


class MultiplicativeLR(_LambdaSchedule):
    """Multiply each lr by lr_lambda(epoch) every epoch (torch.optim.lr_scheduler.MultiplicativeLR).

    ``lr_lambda`` is one function of the epoch, or a list with one per parameter group.
    ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch`` is the index of the last
    epoch done (-1: start fresh).
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        for fn in lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self):
        """The learning rates for this step, one per parameter group (torch's chained form)."""
        if self._is_initial:
            return self._lrs()
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._lrs())]


class ConstantLR(LRScheduler):
    """Scale the lrs by ``factor`` for the first ``total_iters`` epochs, then restore them.

    Mirrors torch.optim.lr_scheduler.ConstantLR (a warm-up). ``optimizer`` is the Optimizer whose
    group lrs it sets; ``last_epoch`` is the index of the last epoch done (-1: start fresh).
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this step, one per parameter group (torch's chained form)."""
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _get_closed_form_lr(self):
        done = self.last_epoch >= self.total_iters
        return [base * (self.factor + done * (1 - self.factor)) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lrs by a factor moving linearly from ``start_factor`` to ``end_factor``.

    Mirrors torch.optim.lr_scheduler.LinearLR: the factor reaches end_factor after ``total_iters``
    epochs and stays there. ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch``
    is the index of the last epoch done (-1: start fresh).
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this step, one per parameter group (torch's chained form)."""
        e, a, b = self.last_epoch, self.start_factor, self.end_factor
        if e == 0:
            return [lr * a for lr in self._lrs()]
        if self._is_initial or e > self.total_iters:
            return self._lrs()
        # the ratio of this epoch's factor to the last one's
        ratio = 1.0 + (b - a) / (self.total_iters * a + (e - 1) * (b - a))
        return [lr * ratio for lr in self._lrs()]

    def _get_closed_form_lr(self):
        a, b = self.start_factor, self.end_factor
        return [base * (a + (b - a) * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the lrs as lr * (1 - epoch / total_iters) ** power (lr_scheduler.PolynomialLR).

    After ``total_iters`` epochs the lr stays at 0; ``power`` is the polynomial's degree.
    ``optimizer`` is the Optimizer whose group lrs it sets; ``last_epoch`` is the index of the last
    epoch done (-1: start fresh).
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """The learning rates for this step, one per parameter group (torch's chained form)."""
        e, n = self.last_epoch, self.total_iters
        if self._is_initial or e > n:
            return self._lrs()
        factor = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power
        return [lr * factor for lr in self._lrs()]

    def _get_closed_form_lr(self):
        n = self.total_iters
        return [base * (1.0 - min(n, self.last_epoch) / n) ** self.power
                for base in self.base_lrs]


def _check_children(kind, optimizer, schedulers):
    if len(schedulers) < 1:
        raise ValueError(f"{kind} expects at least one scheduler, but got no scheduler.")
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{kind} at index {i} should have `optimizer` as its attribute.")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{kind} does not support `ReduceLROnPlateau` scheduler as it "
                             "requires additional kwargs to be specified when calling `step`, "
                             f"but got one at index {i} in the given schedulers sequence.")
        if s.optimizer is not optimizer:
            raise ValueError(f"{kind} expects all schedulers to belong to the same optimizer, "
                             f"but got scheduler {type(s).__name__} at index {i} with another "
                             f"optimizer than the {type(optimizer).__name__} given.")


class _Composite(LRScheduler):
    """Saves its child schedules' states inside its own, as torch does."""

    def state_dict(self):
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict):
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, saved in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(saved)


class SequentialLR(_Composite):
    """Run each of ``schedulers`` in turn, switching at the epochs in ``milestones``.

    Mirrors torch.optim.lr_scheduler.SequentialLR: there is one milestone fewer than
    schedules, all of which drive ``optimizer``. ``last_epoch`` as in the other schedules.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_children(type(self).__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be "
                             "one more than the number of milestone points, but got number of "
                             f"schedulers {len(schedulers)} and the number of milestones to be "
                             f"equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # undo the steps the children took when they were built: the first one starts afresh
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo(self, sched):
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            sched._update_lr(0)     # a schedule taking over starts at its epoch 0
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedScheduler(_Composite):
    """Step all of ``schedulers`` in order on every ``step()`` (lr_scheduler.ChainedScheduler).

    Their effects compound. ``optimizer`` defaults to the schedules' common optimizer (they
    must all share one).
    """

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        optimizer = optimizer or (schedulers[0].optimizer if schedulers else None)
        _check_children(type(self).__name__, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = self._lrs()

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = self._lrs()
