"""Small programs written the way PyTorch's tutorials write them, run on tapegrad as `torch`.

Each is a whole script in a function: it must run to the end and learn (its loss falls well
below where it started); the thresholds leave room for any CPU's roundoff.
"""
import math

import tapegrad as torch
from tapegrad import nn


def test_polynomial_fit_with_tensors_and_autograd():
    # "Learning PyTorch with examples": fit y = sin(x) by a cubic, by hand, then with nn + optim
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a, b, c, d = (torch.randn((), requires_grad=True) for _ in range(4))
    learning_rate = 1e-6
    first = None
    for t in range(500):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        first = first or loss.item()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    assert loss.item() < first / 10

    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    loss_fn = nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    losses = []
    for t in range(300):
        loss = loss_fn(model(xx), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert losses[-1] < losses[0] / 5


def test_classifier_on_two_spirals_of_points():
    torch.manual_seed(1)
    n = 200
    angle = torch.rand(n) * 3 * math.pi
    label = torch.randint(0, 2, (n,))
    radius = angle / (3 * math.pi)
    sign = label.float() * 2 - 1
    points = torch.stack([radius * torch.cos(angle) * sign, radius * torch.sin(angle) * sign], 1)
    points = points + 0.02 * torch.randn(n, 2)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(300):
        optimizer.zero_grad()
        loss = criterion(model(points), label)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(points).argmax(1) == label).float().mean().item()
    assert accuracy > 0.9


def test_autoencoder_compresses_low_rank_data():
    torch.manual_seed(2)
    data = torch.randn(256, 3) @ torch.randn(3, 20)

    class AutoEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 3))
            self.decoder = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 20))

        def forward(self, x):
            return self.decoder(self.encoder(x))

    model = AutoEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=64,
                                         shuffle=True)
    first = nn.functional.mse_loss(model(data), data).item()
    for epoch in range(40):
        for (batch,) in loader:
            loss = nn.functional.mse_loss(model(batch), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        assert nn.functional.mse_loss(model(data), data).item() < first / 4


def test_policy_gradient_learns_the_better_arm():
    # REINFORCE on a 3-armed bandit whose arm 2 pays most
    torch.manual_seed(3)
    payout = torch.tensor([0.2, 0.5, 0.9])
    logits = torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.SGD([logits], lr=0.5)
    for step in range(200):
        probs = torch.softmax(logits, dim=0)
        action = torch.multinomial(probs.detach(), 1).item()
        reward = float(torch.rand(()) < payout[action])
        loss = -torch.log_softmax(logits, dim=0)[action] * (reward - 0.5)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert torch.softmax(logits, dim=0).argmax().item() == 2


def test_tensors_tutorial():
    # "Tensors" (the 60-minute blitz): creation, attributes, indexing, joining, arithmetic,
    # in-place ops and the NumPy bridge
    import numpy as np
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    x_np = torch.from_numpy(np.array(data))
    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    shape = (2, 3,)
    rand_tensor, ones_tensor, zeros_tensor = torch.rand(shape), torch.ones(shape), torch.zeros(shape)
    tensor = torch.rand(3, 4)
    assert tensor.shape == torch.Size([3, 4]) and tensor.dtype == torch.float32
    assert str(tensor.device) == "cpu"
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())
    tensor = torch.ones(4, 4)
    tensor[:, 1] = 0
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    agg = tensor.sum()
    agg_item = agg.item()
    tensor.add_(5)
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    assert (n == 2).all()                       # the NumPy array shares the tensor's memory
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    assert t.tolist() == [2.0] * 5
    assert t1.shape == (4, 12) and torch.equal(y1, y2) and torch.equal(y1, y3)
    assert torch.equal(z1, z3) and agg_item == 12.0 and x_np.dtype == torch.int64
    assert x_ones.dtype == torch.int64 and x_rand.dtype == torch.float32
    assert rand_tensor.shape == ones_tensor.shape == zeros_tensor.shape == (2, 3)


def test_neural_networks_tutorial_lenet():
    # "Neural Networks" (the 60-minute blitz): LeNet with the functional API, zero_grad,
    # a loss, backward, and the manual SGD update before torch.optim
    import tapegrad.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            return self.fc3(f6)

    torch.manual_seed(4)
    net = Net()
    params = list(net.parameters())
    assert len(params) == 10 and params[0].size() == (6, 1, 5, 5)
    input = torch.randn(1, 1, 32, 32)
    out = net(input)
    net.zero_grad()
    out.backward(torch.randn(1, 10))
    target = torch.randn(10).view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(net(input), target)
    # the tutorial prints a few steps back along the graph (names differ: the MSE is composed)
    assert loss.grad_fn.next_functions[0][0].next_functions is not None
    net.zero_grad()
    assert net.conv1.bias.grad is None
    loss.backward()
    assert net.conv1.bias.grad.shape == (6,)
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    first = None
    for _ in range(20):
        optimizer.zero_grad()
        loss = criterion(net(input), target)
        first = first or loss.item()
        loss.backward()
        optimizer.step()
    assert loss.item() < first


def test_quickstart_build_model_train_loop_and_save(tmp_path):
    # "Quickstart" / "Build the Neural Network" / "Optimizing Model Parameters" /
    # "Save and Load the Model", on a synthetic FashionMNIST-shaped dataset
    from tapegrad.utils.data import DataLoader, Dataset, random_split

    class Synthetic(Dataset):
        def __init__(self, n):
            g = torch.Generator().manual_seed(5)
            self.labels = torch.randint(0, 10, (n,), generator=g)
            self.images = torch.randn(n, 1, 28, 28, generator=g) * 0.1
            self.images[torch.arange(n), 0, 2 * self.labels] += 1.0     # a row per class

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            return self.images[idx], self.labels[idx]

    training_data, test_data = random_split(Synthetic(320), [256, 64])
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    test_dataloader = DataLoader(test_data, batch_size=64)
    for X, y in test_dataloader:
        assert X.shape == (64, 1, 28, 28) and y.dtype == torch.int64
        break
    device = torch.accelerator.current_accelerator().type \
        if torch.accelerator.is_available() else "cpu"

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                nn.Linear(512, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    model = NeuralNetwork().to(device)
    logits = model(torch.rand(1, 28, 28, device=device))
    pred_probab = nn.Softmax(dim=1)(logits)
    assert pred_probab.argmax(1).shape == (1,)
    for name, param in model.named_parameters():
        assert param.requires_grad and name.startswith("linear_relu_stack.")
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

    def train(dataloader, model, loss_fn, optimizer):
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

    def test(dataloader, model, loss_fn):
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        return test_loss / len(dataloader), correct / len(dataloader.dataset)

    first, _ = test(test_dataloader, model, loss_fn)
    for t in range(5):
        train(train_dataloader, model, loss_fn, optimizer)
    last, accuracy = test(test_dataloader, model, loss_fn)
    assert last < first and accuracy > 0.5
    torch.save(model.state_dict(), tmp_path / "model.pth")
    model2 = NeuralNetwork().to(device)
    model2.load_state_dict(torch.load(tmp_path / "model.pth", weights_only=True))
    model2.eval()
    x = test_data[0][0]
    with torch.no_grad():
        assert torch.equal(model2(x), model.eval()(x))


def test_autograd_tutorial_jacobian_products_and_detach():
    # "Automatic Differentiation with torch.autograd"
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    assert z.grad_fn is not None and loss.grad_fn is not None
    loss.backward()
    assert w.grad.shape == (5, 3) and b.grad.shape == (3,)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    assert not z.requires_grad
    z_det = (torch.matmul(x, w) + b).detach()
    assert not z_det.requires_grad
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.clone()
    out.backward(torch.ones_like(out), retain_graph=True)
    assert torch.equal(inp.grad, 2 * first)             # gradients accumulate
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    assert torch.equal(inp.grad, first)
