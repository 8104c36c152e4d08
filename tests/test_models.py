"""tapegrad.models: torchvision's ResNet layout, checkpoint loading from the caches, and parity
with the same network built in torch.nn from a real torch.save checkpoint."""
import os

import numpy as np
import pytest

import tapegrad
from tapegrad import models, nn
from tapegrad.models import ResNet18_Weights, ResNet34_Weights, ResNet50_Weights

FILE18 = "resnet18-f37072fd.pth"


def arr(t):
    return t.detach().numpy()


# ---- layout ------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, entries, params", [
    (models.resnet18, 122, 11_689_512),
    (models.resnet34, 218, 21_797_672),
    (models.resnet50, 320, 25_557_032),
])
def test_state_dict_size(build, entries, params):
    model = build()
    assert len(model.state_dict()) == entries
    assert sum(p.numel() for p in model.parameters()) == params


def test_resnet18_keys_in_torchvision_order():
    keys = list(models.resnet18().state_dict())
    assert keys[:7] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"]
    assert "layer2.0.downsample.0.weight" in keys and "layer2.0.downsample.1.running_var" in keys
    assert "layer1.0.downsample.0.weight" not in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]


def test_resnet50_bottleneck_shapes():
    sd = models.resnet50().state_dict()
    assert tuple(sd["layer1.0.conv1.weight"].shape) == (64, 64, 1, 1)
    assert tuple(sd["layer1.0.conv3.weight"].shape) == (256, 64, 1, 1)
    assert tuple(sd["layer2.0.conv2.weight"].shape) == (128, 128, 3, 3)   # v1.5: stride here
    assert tuple(sd["layer4.0.downsample.0.weight"].shape) == (2048, 1024, 1, 1)
    assert tuple(sd["fc.weight"].shape) == (1000, 2048)


def test_initialisation_and_output_shape():
    tapegrad.manual_seed(0)
    model = models.resnet18(num_classes=10, zero_init_residual=True)
    w = arr(model.conv1.weight)
    # kaiming normal, fan_out mode: std = sqrt(2 / (64 * 7 * 7))
    assert abs(w.std() - np.sqrt(2 / (64 * 49))) < 0.003
    assert np.all(arr(model.layer1[0].bn2.weight) == 0)
    assert np.all(arr(model.bn1.weight) == 1) and np.all(arr(model.bn1.bias) == 0)
    assert model.fc.out_features == 10
    out = model(tapegrad.randn(2, 3, 32, 32))
    assert tuple(out.shape) == (2, 10) and out.dtype == tapegrad.float32
    assert tuple(models.resnet50().eval()(tapegrad.randn(1, 3, 32, 32)).shape) == (1, 1000)


def test_weights_enums():
    w = ResNet18_Weights.DEFAULT
    assert w is ResNet18_Weights.IMAGENET1K_V1 and w.filename == FILE18
    assert w.url == "https://download.pytorch.org/models/" + FILE18
    assert w.num_classes == 1000 and w.meta["num_params"] == 11_689_512
    assert ResNet34_Weights.DEFAULT.filename == "resnet34-b627a593.pth"
    assert ResNet50_Weights.DEFAULT is ResNet50_Weights.IMAGENET1K_V2
    assert ResNet50_Weights.IMAGENET1K_V1.filename == "resnet50-0676ba61.pth"
    assert ResNet18_Weights.verify("DEFAULT") is w
    assert ResNet18_Weights.verify("ResNet18_Weights.IMAGENET1K_V1") is w
    assert repr(w) == "ResNet18_Weights.IMAGENET1K_V1"


# ---- loading -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved18(tmp_path_factory):
    """A ResNet-18 checkpoint written by tapegrad.save, with non-trivial BN statistics."""
    tapegrad.manual_seed(1)
    model = models.resnet18()
    with tapegrad.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                b.normal_(0, 0.1)
    path = tmp_path_factory.mktemp("ckpt") / FILE18
    tapegrad.save(model.state_dict(), str(path))
    return model, str(path)


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        np.testing.assert_array_equal(arr(sa[k]), arr(sb[k]), err_msg=k)


def test_weights_path(saved18):
    model, path = saved18
    assert_same_state(models.resnet18(weights=path), model)
    import pathlib
    assert_same_state(models.resnet18(weights=pathlib.Path(path)), model)


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """Empty TORCH_HOME and TAPEGRAD_HOME under tmp_path; returns their checkpoint dirs."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TAPEGRAD_HOME", str(tmp_path / "tapegrad"))
    dirs = tmp_path / "torch" / "hub" / "checkpoints", tmp_path / "tapegrad" / "checkpoints"
    for d in dirs:
        d.mkdir(parents=True)
    return dirs


def test_torch_home_cache(saved18, caches):
    model, path = saved18
    os.symlink(path, caches[0] / FILE18)
    assert_same_state(models.resnet18(weights=ResNet18_Weights.DEFAULT), model)
    assert_same_state(models.resnet18(weights="IMAGENET1K_V1"), model)


def test_tapegrad_home_cache_comes_first(saved18, caches):
    model, path = saved18
    os.symlink(path, caches[1] / FILE18)
    tapegrad.save(models.resnet18().state_dict(), str(caches[0] / FILE18))
    assert ResNet18_Weights.DEFAULT.cached_path() == str(caches[1] / FILE18)
    assert_same_state(models.resnet18(weights=ResNet18_Weights.DEFAULT), model)


def test_default_cache_dirs(tmp_path, monkeypatch):
    for var in ("TORCH_HOME", "TAPEGRAD_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        models.resnet18(weights=ResNet18_Weights.DEFAULT)
    assert os.path.join(str(tmp_path), ".cache", "torch", "hub", "checkpoints", FILE18) in \
        str(info.value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(FileNotFoundError, match="xdg"):
        models.resnet18(weights=ResNet18_Weights.DEFAULT)


def test_missing_checkpoint_says_where(caches):
    with pytest.raises(FileNotFoundError) as info:
        models.resnet18(weights=ResNet18_Weights.DEFAULT)
    msg = str(info.value)
    assert str(caches[0] / FILE18) in msg and str(caches[1] / FILE18) in msg
    assert ResNet18_Weights.DEFAULT.url in msg


def test_bad_weights_arguments(tmp_path, caches):
    with pytest.raises(FileNotFoundError, match="neither a checkpoint file"):
        models.resnet18(weights=str(tmp_path / "nope.pth"))
    with pytest.raises(TypeError, match="ResNet18_Weights"):
        models.resnet18(weights=ResNet34_Weights.DEFAULT)
    with pytest.raises(ValueError, match="num_classes"):
        models.resnet18(weights=ResNet18_Weights.DEFAULT, num_classes=10)


def test_wrong_checkpoint_loads_nothing(saved18, tmp_path):
    path = tmp_path / "r34.pth"
    tapegrad.save(models.resnet34().state_dict(), str(path))
    with pytest.raises(RuntimeError, match="Unexpected key"):
        models.resnet18(weights=str(path))


# ---- fine-tuning -------------------------------------------------------------------------------
def test_frozen_backbone_new_fc():
    tapegrad.manual_seed(2)
    model = models.resnet18()
    model.requires_grad_(False)
    model.fc = nn.Linear(512, 3)
    before = {k: arr(v).copy() for k, v in model.state_dict().items()}
    opt = tapegrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = tapegrad.randn(2, 3, 32, 32), tapegrad.tensor([0, 2])
    for _ in range(2):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    assert [n for n, p in model.named_parameters() if p.grad is not None] == \
        ["fc.weight", "fc.bias"]
    for k, v in model.state_dict().items():
        changed = not np.array_equal(arr(v), before[k])
        # BN running statistics move in train mode even when its parameters are frozen
        assert changed == (k.startswith("fc.") or "running" in k or "batches" in k), k


# ---- parity with torch -------------------------------------------------------------------------
def torch_resnet18(torch):
    """ResNet-18 written directly in torch.nn, with torchvision's module names."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None if stride == 1 and cin == cout else tnn.Sequential(
                tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            widths = (64, 64, 128, 256, 512)
            for i in range(4):
                cin, cout = widths[i], widths[i + 1]
                setattr(self, f"layer{i + 1}", tnn.Sequential(
                    Block(cin, cout, 1 if i == 0 else 2), Block(cout, cout, 1)))
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


@pytest.fixture(scope="module")
def torch_pair(tmp_path_factory):
    """(torch model, tapegrad model loaded from that model's torch.save checkpoint)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch_resnet18(torch)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith(("bn1.weight", "bn2.weight", "1.weight")):
                t.uniform_(0.5, 1.5)
            elif name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif name.endswith(("running_mean", "bias")):
                t.normal_(0, 0.1)
    path = tmp_path_factory.mktemp("torch") / FILE18
    torch.save(net.state_dict(), str(path))
    return torch, net, str(path)


def close(got, want, tol=2e-4):
    """Equal to float32 rounding accumulated through the network: relative to the largest."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    scale = max(float(np.abs(want).max()), 1e-12)
    assert float(np.abs(got - want).max()) <= tol * scale + 1e-7


def test_torch_layout_matches(torch_pair):
    torch, net, _ = torch_pair
    ours = models.resnet18().state_dict()
    theirs = net.state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours.items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.items()]
    assert ours["bn1.num_batches_tracked"].dtype == tapegrad.int64


def test_torch_checkpoint_eval_forward(torch_pair):
    torch, net, path = torch_pair
    model = models.resnet18(weights=path).eval()
    net.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    with tapegrad.no_grad():
        got = model(tapegrad.from_numpy(x))
    assert got.dtype == tapegrad.float32
    close(arr(got), want)


def test_torch_checkpoint_training_steps(torch_pair, tmp_path):
    torch, net, path = torch_pair
    model = models.resnet18(weights=path).train()
    net = torch_resnet18(torch)
    net.load_state_dict(torch.load(path))
    net.train()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 64, 64)).astype(np.float32)
    y = np.array([3, 997])
    opt = tapegrad.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    for step in range(2):
        opt.zero_grad()
        topt.zero_grad()
        loss = nn.functional.cross_entropy(model(tapegrad.from_numpy(x)), tapegrad.from_numpy(y))
        tloss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        tloss.backward()
        close(loss.item(), tloss.item(), 1e-5)
        tparams = dict(net.named_parameters())
        for name, p in model.named_parameters():
            close(arr(p.grad), tparams[name].grad.numpy(), 1e-3)
        opt.step()
        topt.step()
    theirs = net.state_dict()
    for name, v in model.state_dict().items():
        close(arr(v), theirs[name].numpy(), 1e-4)
