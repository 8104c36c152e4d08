"""PyTorch's "A Gentle Introduction to torch.autograd", the autograd part, run on tapegrad.

Run it with `python examples/autograd_tutorial.py`. The tutorial's code runs unchanged under
`import tapegrad as torch` (resnet18 comes from tapegrad.models instead of torchvision), and a
look at the tape that records it all is added. The pretrained weights are used when
resnet18-f37072fd.pth is in the PyTorch hub cache; otherwise fresh weights are (no network).
"""
import tapegrad as torch
from tapegrad import nn, optim
from tapegrad.models import resnet18, ResNet18_Weights


def cached_weights():
    """ResNet18_Weights.DEFAULT when its checkpoint is in the cache, else None (fresh weights),
    after showing tapegrad's own message about the missing file, once."""
    try:
        ResNet18_Weights.DEFAULT.cached_path()
    except FileNotFoundError as missing:
        print(f"{missing}\n-> using freshly initialised weights")
        return None
    return ResNet18_Weights.DEFAULT


WEIGHTS = cached_weights()

# ---- Usage: one training step of resnet18 ---------------------------------------------------
model = resnet18(weights=WEIGHTS)
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)
prediction = model(data)                      # forward pass
loss = (prediction - labels).sum()
loss.backward()                               # backward pass
optim_ = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
optim_.step()                                 # gradient descent
print(f"resnet18 training step done; loss was {loss.item():.4f}")

# ---- Differentiation in Autograd -------------------------------------------------------------
# requires_grad=True tells autograd to track every operation on a and b.
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3 * a**3 - b**2

# Q is a vector, so backward() needs the gradient of Q with respect to itself (dQ/dQ = 1).
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# dQ/da = 9a^2 and dQ/db = -2b now sit in a.grad and b.grad.
print(f"after Q.backward(gradient=external_grad), 9*a**2 == a.grad: {9 * a**2 == a.grad}")
print(f"after Q.backward(gradient=external_grad), -2*b == b.grad: {-2 * b == b.grad}")

# Equivalently, aggregate Q into a scalar and call backward() implicitly.
a.grad = None
b.grad = None
Q = 3 * a**3 - b**2
Q.sum().backward()
print(f"after Q.sum().backward(), 9*a**2 == a.grad: {9 * a**2 == a.grad}")
print(f"after Q.sum().backward(), -2*b == b.grad: {-2 * b == b.grad}")

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


# ---- Finetuning: freeze resnet18, train only a new classifier -----------------------------------
model = resnet18(weights=WEIGHTS)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)                 # the new classifier: unfrozen by default
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
conv1_before = model.conv1.weight.detach().clone()
model(torch.rand(2, 3, 64, 64)).sum().backward()
optimizer.step()
trainable = [name for name, p in model.named_parameters() if p.grad is not None]
print(f"Parameters that got gradients: {trainable}")
print(f"Frozen conv1 unchanged: {torch.equal(model.conv1.weight, conv1_before)}")
