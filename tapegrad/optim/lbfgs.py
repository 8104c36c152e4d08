"""torch.optim.LBFGS: limited-memory BFGS over all parameters as one flat vector.

Each `step(closure)` runs up to `max_iter` iterations; the closure re-evaluates the loss and its
gradients. The arithmetic follows torch's (minFunc's) order, in the parameters' dtype.
"""
import numpy as np

from .._tensor import Tensor, _leaf
from ..grad_mode import enable_grad
from ..tape import bump_version
from .optimizer import Optimizer, _validate


class LBFGS(Optimizer):
    """Limited-memory BFGS (torch.optim.LBFGS); ``step(closure)`` re-evaluates the loss.

    ``params`` must form one parameter group. ``lr`` is the step length, ``max_iter`` the
    iterations per step, ``max_eval`` the function evaluations per step (default
    max_iter * 5 / 4), ``tolerance_grad`` and ``tolerance_change`` the stopping tolerances on
    the gradient and on the change of loss or parameters, ``history_size`` the number of
    curvature pairs kept, and ``line_search_fn`` None or 'strong_wolfe', as in
    torch.optim.LBFGS.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        _validate(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p._grad is None
                               else p._grad._data.reshape(-1) for p in self._params])

    def _add(self, t, d):
        """params += t * d, d flat."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (t * d[offset:offset + n]).reshape(p._data.shape)
            offset += n
            bump_version(p)

    def _set(self, values):
        for p, v in zip(self._params, values):
            np.copyto(p._data, v)
            bump_version(p)

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss), self._flat_grad()

    def _directional(self, closure, x, t, d):
        """Loss and gradient at x + t d; the parameters are put back to x after."""
        self._add(t, d)
        loss, g = self._evaluate(closure)
        self._set(x)
        return loss, g

    def step(self, closure):
        """Run up to max_iter L-BFGS iterations; returns the loss the closure gave first."""
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        line_search, history = group["line_search_fn"], group["history_size"]
        if line_search not in (None, "strong_wolfe"):
            raise RuntimeError(f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, "
                               f"got {line_search!r}")
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        # the history, as arrays; a loaded state_dict may hold tensors
        d, t = _np(state.get("d")), _np(state.get("t"))
        dirs = [_np(v) for v in state.get("old_dirs") or []]
        stps = [_np(v) for v in state.get("old_stps") or []]
        ro = [_np(v) for v in state.get("ro") or []]
        h_diag, prev_g = _np(state.get("H_diag")), _np(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                dirs, stps, ro, h_diag = [], [], [], 1
            else:
                y = g - prev_g
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:      # keep the pair only when the curvature is positive
                    if len(dirs) == history:
                        dirs.pop(0), stps.pop(0), ro.pop(0)
                    dirs.append(y)
                    stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                al = state.setdefault("al", [None] * history)
                d = _two_loop(g, dirs, stps, ro, h_diag, al)
            prev_g = g.copy()
            prev_loss = loss
            # the first step is scaled down: nothing is known of the curvature yet
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = g.dot(d)
            if gtd > -tol_change:   # not a descent direction
                break

            ls_evals = 0
            if line_search is not None:
                x0 = [p._data.copy() for p in self._params]
                loss, g, t, ls_evals = _strong_wolfe(
                    lambda x, t, d: self._directional(closure, x, t, d), x0, t, d, loss, g,
                    gtd, tolerance_change=tol_change, max_ls=max_eval - evals)
                self._add(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._add(t, d)
                converged = False
                if n_iter != max_iter:
                    loss, g = self._evaluate(closure)
                    converged = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=_leaf(d), t=t, old_dirs=[_leaf(v) for v in dirs],
                     old_stps=[_leaf(v) for v in stps], ro=ro, H_diag=h_diag,
                     prev_flat_grad=_leaf(prev_g), prev_loss=prev_loss)
        return orig_loss


def _np(v):
    """An array from a state value (a tensor of ours or an array); None and numbers pass."""
    return v._data if isinstance(v, Tensor) else v


def _two_loop(g, dirs, stps, ro, h_diag, al):
    """The L-BFGS direction -H g by the two-loop recursion over the stored pairs."""
    q = -g
    for i in range(len(dirs) - 1, -1, -1):
        al[i] = stps[i].dot(q) * ro[i]
        q -= dirs[i] * al[i]
    r = q * h_diag
    for i in range(len(dirs)):
        be = dirs[i].dot(r) * ro[i]
        r += stps[i] * (al[i] - be)
    return r


def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through two points with slopes, clamped to bounds."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(d2_square)
    if x1 <= x2:
        pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(pos, lo), hi)


def _strong_wolfe(obj, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A line search for the strong Wolfe conditions (bracketing, then zoom), as minFunc's."""
    d_norm = np.abs(d).max()
    f_new, g_new = obj(x, t, d)
    evals, ls_iter = 1, 0
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g, br_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [gtd_prev, gtd_new]
            break
        # extrapolate: somewhere between a little past t and ten times t
        step = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                          bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = step
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        br, br_f, br_g, br_gtd = [0, t], [f, f_new], [g, g_new], [None, None]

    # zoom into the bracket until a point satisfies the conditions
    stuck = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = _cubic_min(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        # too near an end of the bracket: move away from it, unless the last try was fine
        eps = 0.1 * (max(br) - min(br))
        if min(max(br) - t, t - min(br)) < eps:
            if stuck or t >= max(br) or t <= min(br):
                t = max(br) - eps if abs(t - max(br)) < abs(t - min(br)) else min(br) + eps
                stuck = False
            else:
                stuck = True
        else:
            stuck = False
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = \
                    br[low], br_f[low], br_g[low], br_gtd[low]
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new, gtd_new
    return br_f[low], br_g[low], br[low], evals
