"""The CNN workloads of bench.py: a LeNet and a ResNet-18 training step, per library.

Every library starts from the same float32 weights (tapegrad's initialisation, copied) and the
same data, and each case's first call returns its loss, which bench compares across libraries
before timing: the floor and the libraries compute the same step.
"""
import numpy as np

import numpy_cnn

LENET_BATCH, LENET_LR = 64, 0.01
# The tutorial's step has lr=1e-2, but its loss, sum(model(data) - labels), is unbounded below:
# repeated at that rate it overflows float32 within about 30 steps, and the benchmark would time
# inf/NaN arithmetic. A step costs the same at any nonzero rate; at 1e-6 the loss stays finite.
RESNET_LR, RESNET_MOMENTUM = 1e-6, 0.9


def lenet(T):
    """PyTorch's "Neural Networks" tutorial LeNet for 1x28x28 inputs, in library T's nn."""
    nn, F = T.nn, T.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 4 * 4, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = F.relu(self.fc1(T.flatten(x, 1)))
            return self.fc3(F.relu(self.fc2(x)))
    return LeNet()


def resnet18(T):
    """tapegrad.models.resnet18, torchvision's resnet18, or (no torchvision) the same network
    written here in torch.nn with torchvision's parameter names."""
    if T.__name__ == "tapegrad":
        from tapegrad.models import resnet18 as build
        return build()
    try:
        from torchvision.models import resnet18 as build
        return build()
    except ImportError:
        return _torch_resnet18(T)


def _torch_resnet18(torch):
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None if cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths = (64, 64, 128, 256, 512)
            for i in range(4):
                setattr(self, f"layer{i + 1}", nn.Sequential(
                    BasicBlock(widths[i], widths[i + 1], 1 if i == 0 else 2),
                    BasicBlock(widths[i + 1], widths[i + 1], 1)))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))
    return ResNet18()


def _models(mods, build):
    """{library: model} with tapegrad's initial weights; and those weights as NumPy arrays."""
    tg = mods["tapegrad"]
    tg.manual_seed(0)
    models = {"tapegrad": build(tg)}
    state = {k: v.numpy().copy() for k, v in models["tapegrad"].state_dict().items()}
    torch = mods.get("torch")
    if torch:
        models["torch"] = build(torch)
        models["torch"].load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    return models, state


def _torchlike_step(T, model, x, loss_of, lr, momentum):
    opt = T.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()

    def run():
        opt.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        opt.step()
        return loss.item()
    return run


def _numpy_step(net, x, loss_and_grad, lr, momentum):
    opt = numpy_cnn.SGD(net.parameters(), lr, momentum)

    def run():
        loss, g = loss_and_grad(net.forward(x))
        net.backward(g)
        opt.step()
        return float(loss)
    return run


def lenet_cases(mods):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((LENET_BATCH, 1, 28, 28)).astype(np.float32)
    y0 = rng.integers(0, 10, LENET_BATCH)
    models, state = _models(mods, lenet)
    cases = {"numpy": _numpy_step(numpy_cnn.lenet().load(state, ""), x0,
                                  lambda z: numpy_cnn.cross_entropy(z, y0), LENET_LR, 0.0)}
    for name, model in models.items():
        T = mods[name]
        loss_of = (lambda z, T=T, y=T.tensor(y0): T.nn.functional.cross_entropy(z, y))
        cases[name] = _torchlike_step(T, model, T.tensor(x0), loss_of, LENET_LR, 0.0)
    if mods.get("mygrad"):
        cases["mygrad"] = _mygrad_lenet(mods["mygrad"], state, x0, y0)
    return cases


def _mygrad_lenet(mg, state, x, y):
    from mygrad.nnet import conv_nd, max_pool, relu, softmax_crossentropy
    P = {k: mg.tensor(v.copy()) for k, v in state.items()}

    def conv(h, name):
        return conv_nd(h, P[name + ".weight"], stride=1) + P[name + ".bias"][:, None, None]

    def linear(h, name):
        return h @ P[name + ".weight"].T + P[name + ".bias"]

    def run():
        h = max_pool(relu(conv(x, "conv1")), (2, 2), (2, 2))
        h = max_pool(relu(conv(h, "conv2")), (2, 2), (2, 2))
        h = relu(linear(h.reshape(len(x), -1), "fc1"))
        loss = softmax_crossentropy(linear(relu(linear(h, "fc2")), "fc3"), y)
        loss.backward()
        for p in P.values():
            p.data -= LENET_LR * p.grad
        return loss.item()
    return run


def resnet_cases(mods, batch):
    """The autograd tutorial's step: loss = (model(data) - labels).sum(), SGD with momentum."""
    rng = np.random.default_rng(4)
    x0 = rng.random((batch, 3, 64, 64), dtype=np.float32)
    labels0 = rng.random((batch, 1000), dtype=np.float32)
    models, state = _models(mods, resnet18)
    net = numpy_cnn.resnet18().load(state, "")
    cases = {"numpy": _numpy_step(net, x0, lambda z: ((z - labels0).sum(), np.ones_like(z)),
                                  RESNET_LR, RESNET_MOMENTUM)}
    for name, model in models.items():
        T = mods[name]
        loss_of = (lambda z, labels=T.tensor(labels0): (z - labels).sum())
        cases[name] = _torchlike_step(T, model, T.tensor(x0), loss_of, RESNET_LR, RESNET_MOMENTUM)
    return cases


def first_losses(cases, label, notes, errors):
    """Run each case once (its first step, from the shared weights) and check the losses agree
    with tapegrad's to float32 rounding; a case that fails is dropped and reported."""
    losses = {}
    for name, fn in list(cases.items()):
        try:
            losses[name] = fn()
        except Exception as exc:   # an op a library lacks: report it, keep benchmarking
            errors.append(f"{label} / {name}: {type(exc).__name__}: {exc}")
            del cases[name]
    ref = losses.get("tapegrad")
    off = [n for n, v in losses.items() if not abs(v - ref) <= 1e-4 * max(1.0, abs(ref))]
    notes.append(f"{label.split(')')[0]}) first-step loss: "
                 + ", ".join(f"{n} {v:.6g}" for n, v in losses.items())
                 + ("" if not off else f" — DIFFERENT from tapegrad: {', '.join(off)}"))
