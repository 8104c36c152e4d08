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
