"""PyTorch's "A Gentle Introduction to torch.autograd", the autograd part, run on tapegrad.

Run it with `python examples/autograd_tutorial.py`. The tutorial's code runs unchanged under
`import tapegrad as torch`; where it freezes resnet18's parameters, two plain tensors stand in
for the network, and a look at the tape that records it all is added.
"""
import tapegrad as torch

# The tutorial opens with one training step of a pretrained resnet18 (torchvision.models):
# that part goes here once tapegrad.nn, tapegrad.optim and tapegrad.models exist.

# ---- Differentiation in Autograd -------------------------------------------------------------
# requires_grad=True tells autograd to track every operation on a and b.
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3 * a**3 - b**2

# Q is a vector, so backward() needs the gradient of Q with respect to itself (dQ/dQ = 1).
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# dQ/da = 9a^2 and dQ/db = -2b now sit in a.grad and b.grad.
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)

# Equivalently, aggregate Q into a scalar and call backward() implicitly.
a.grad = None
b.grad = None
Q = 3 * a**3 - b**2
Q.sum().backward()
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)

# ---- The tape --------------------------------------------------------------------------------
# tapegrad records the forward pass as a Wengert list: one line per primitive op, in the order
# they ran. backward() replays it from the end.
with torch.Tape() as tape:
    Q = 3 * a**3 - b**2
print(f"Q = 3*a**3 - b**2 recorded {len(tape)} entries:")
print(tape)
print(f"Q.grad_fn: {Q.grad_fn.name()}")

# ---- Exclusion from the DAG ------------------------------------------------------------------
# An op's output requires gradients if any of its inputs does.
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

# Freezing: the tutorial sets requires_grad = False on every resnet18 parameter but the new
# classifier's. Frozen tensors get no gradient, and ops that touch only frozen tensors are not
# recorded at all: here only the classifier's matmul and the sum are on the tape.
backbone = torch.randn(5, 5, requires_grad=True)
classifier = torch.randn(5, 2, requires_grad=True)
backbone.requires_grad = False
with torch.Tape() as tape:
    loss = (torch.tanh(x @ backbone) @ classifier).sum()
print(f"Recorded with the backbone frozen: {[e.name() for e in tape]}")
loss.backward()
print(f"backbone.grad: {backbone.grad}, classifier.grad.shape: {classifier.grad.shape}")

# The same exclusion as a context manager: nothing inside no_grad() is recorded.
with torch.no_grad():
    c = x + z
print(f"Inside no_grad, does `x + z` require gradients?: {c.requires_grad}")

# no_grad is how parameters are updated in place without recording the update.
w = torch.tensor([1., -2., 3.], requires_grad=True)
loss = (0.5 * w**2).sum()
loss.backward()
with torch.no_grad():
    w -= 0.1 * w.grad
print(f"w after one SGD step on 0.5*w**2: {w}")
