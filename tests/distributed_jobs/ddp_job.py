"""DistributedDataParallel checks, run under `mpiexec -n 2` by tests/test_distributed.py:
equivalence with one process on the whole batch, overlap, no_sync, unused parameters, buffers,
state_dict keys. A failed check raises, and the job aborts."""
import copy

import numpy as np

import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, n = dist.get_rank(), dist.get_world_size()
PER_RANK, STEPS = 8, 3


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(),
                         nn.Linear(8, 3))


def close(a, b, what):
    a, b = (x.detach().numpy() if isinstance(x, tg.Tensor) else x for x in (a, b))
    assert np.allclose(a, b, rtol=1e-5, atol=1e-6), (what, np.abs(a - b).max())


rng = np.random.default_rng(0)
X = tg.from_numpy(rng.standard_normal((PER_RANK * n, 6)).astype(np.float32))
Y = tg.from_numpy(rng.standard_normal((PER_RANK * n, 3)).astype(np.float32))
mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)

# ---- N steps on n ranks == one process on the concatenated batch --------------------------
tg.manual_seed(rank)         # different on every rank: DDP must broadcast rank 0's
model = mlp()
ddp = DDP(model, bucket_cap_mb=0.0001)       # ~100 bytes: three buckets
assert len(ddp._buckets) >= 3, len(ddp._buckets)
reference = copy.deepcopy(model)             # rank 0's initial parameters, on every rank
assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
opt = tg.optim.SGD(ddp.parameters(), lr=0.1)
ref_opt = tg.optim.SGD(reference.parameters(), lr=0.1)
order = []      # (parameter, buckets started when its gradient was final), in replay order
for p in model.parameters():
    p.register_post_accumulate_grad_hook(lambda p: order.append(ddp._next_bucket))
# the replay reaches the first layer's output after the later layers' rules ran, and before
# the first layer's own rule: buckets started by then started during the replay
early = []


def watch_layer_one(module, args, out):
    out.register_hook(lambda g: early.append(ddp._next_bucket))


model[0].register_forward_hook(watch_layer_one)
for step in range(STEPS):
    opt.zero_grad()
    order.clear()
    early.clear()
    nn.functional.mse_loss(ddp(X[mine]), Y[mine]).backward()
    opt.step()
    ref_opt.zero_grad()
    nn.functional.mse_loss(reference(X), Y).backward()
    ref_opt.step()
    # overlap: some bucket was on the wire while other gradients were still being computed
    assert len(order) == len(list(model.parameters()))
    assert order[0] == 0 and any(k > 0 for k in order[:-1]), order
    assert early and early[0] > 0, ("no bucket started before the replay reached layer 1", early)
for (name, p), q in zip(model.named_parameters(), reference.parameters()):
    close(p, q, f"DDP vs one process: {name}")

# ---- no_sync: accumulate locally, then average the sum --------------------------------------
tg.manual_seed(5)
model = mlp()
ddp = DDP(model)
local = copy.deepcopy(model)
with ddp.no_sync():
    nn.functional.mse_loss(ddp(X[mine]), Y[mine]).backward()
nn.functional.mse_loss(local(X[mine]), Y[mine]).backward()
for p, q in zip(model.parameters(), local.parameters()):
    close(p.grad, q.grad, "no_sync keeps local gradients")
nn.functional.mse_loss(ddp(X[mine] * 2), Y[mine]).backward()
nn.functional.mse_loss(local(X[mine] * 2), Y[mine]).backward()
for p, q in zip(model.parameters(), local.parameters()):
    total = q.grad.clone()
    dist.all_reduce(total, op=dist.ReduceOp.AVG)
    close(p.grad, total, "the synchronised backward averages the accumulated sum")


# ---- unused parameters --------------------------------------------------------------------
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk, self.extra, self.never = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x, use_extra):
        y = self.trunk(x)
        return self.extra(y) if use_extra else y


x = tg.ones(2, 4) * (rank + 1)
ddp = DDP(Branchy(), find_unused_parameters=True)
ddp(x, use_extra=rank == 0).sum().backward()
m = ddp.module
assert m.never.weight.grad is None, "no rank used it: its grad stays None"
assert m.extra.weight.grad is not None, "rank 0 used it: every rank gets the average"
expected = m.extra.weight.grad.clone()
dist.broadcast(expected, src=0)
close(m.extra.weight.grad, expected, "locally unused, globally used")
ddp = DDP(Branchy())
ddp(x, use_extra=True).sum().backward()      # `never` got no gradient: its bucket never started
try:
    ddp(x, use_extra=True)
    raise AssertionError("a forward after an unfinished reduction was accepted")
except RuntimeError as e:
    assert "Expected to have finished reduction in the prior iteration" in str(e)

# ---- buffers: rank 0's at construction and before every forward with grad -----------------
net = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
ddp = DDP(net)
bn = net[1]
bn.running_mean.fill_(float(rank + 1))
ddp.eval()
ddp(tg.ones(4, 3))
close(bn.running_mean, np.ones(3), "running_mean broadcast from rank 0 at forward")
with tg.no_grad():
    bn.running_mean.fill_(float(rank + 1))
    ddp(tg.ones(4, 3))
close(bn.running_mean, np.full(3, rank + 1.0), "no broadcast without grad")

print(f"ddp ok on rank {rank}", flush=True)
dist.destroy_process_group()
