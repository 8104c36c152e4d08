"""Module semantics: registration by attribute, traversal, state_dict round trips and strict
errors, modes, gradients, conversions, hooks, containers and repr (compared with PyTorch's)."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn

torch = pytest.importorskip("torch")


def small_cnn(m):
    """A model with every kind of state: parameters, buffers, nested and repeated children."""
    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.features = m.Sequential(m.Conv2d(3, 8, 3, padding=1, bias=False),
                                         m.BatchNorm2d(8), m.ReLU(inplace=True), m.MaxPool2d(2))
            self.blocks = m.ModuleList([m.Conv2d(8, 8, 3, padding=1) for _ in range(2)])
            self.heads = m.ModuleDict({"cls": m.Linear(8, 10), "box": m.Linear(8, 4)})
            self.pool = m.AdaptiveAvgPool2d(1)
            self.register_buffer("scale", torch_or_tg(m).ones(1))
            self.register_buffer("cache", torch_or_tg(m).zeros(2), persistent=False)

        def forward(self, x):
            x = self.features(x)
            for block in self.blocks:
                x = x + block(x)
            x = self.pool(x).flatten(1) * self.scale
            return self.heads["cls"](x), self.heads["box"](x)
    return Net()


def torch_or_tg(m):
    return tg if m is nn else torch


# ---- registration and traversal ------------------------------------------------------------------
def test_state_dict_keys_and_shapes_equal_torch():
    ours, theirs = small_cnn(nn), small_cnn(torch.nn)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert isinstance(ours_sd, OrderedDict)
    assert list(ours_sd) == list(theirs_sd)
    for k in theirs_sd:
        assert tuple(ours_sd[k].shape) == tuple(theirs_sd[k].shape), k
        assert ours_sd[k].dtype == theirs_sd[k].numpy().dtype, k
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]


def test_forward_matches_torch_after_loading_its_state():
    ours, theirs = small_cnn(nn), small_cnn(torch.nn)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        for a, b in zip(ours(tg.tensor(x)), theirs(torch.tensor(x))):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4,
                                       atol=1e-5)


def test_registration_order_and_kinds():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(tg.zeros(2))
            self.child = nn.Linear(2, 2)
            self.register_buffer("stat", tg.ones(3))
            self.a = nn.Parameter(tg.ones(1))
            self.plain = 5
    m = M()
    assert list(m._parameters) == ["b", "a"]
    assert [n for n, _ in m.named_parameters()] == ["b", "a", "child.weight", "child.bias"]
    assert list(m.state_dict()) == ["b", "a", "stat", "child.weight", "child.bias"]
    assert m.plain == 5 and "plain" not in m._parameters
    assert m.stat.shape == (3,)
    assert {"a", "b", "child", "stat"} <= set(dir(m))


def test_replacing_and_deleting_children_and_parameters():
    model = nn.Sequential(OrderedDict(body=nn.Linear(4, 8), fc=nn.Linear(8, 3)))
    old = model.fc
    model.fc = nn.Linear(8, 10)
    assert model.fc is not old and model(tg.randn(2, 4)).shape == (2, 10)
    assert list(model.state_dict())[-2:] == ["fc.weight", "fc.bias"]
    model.fc = None
    assert "fc.weight" not in model.state_dict()
    del model.fc
    assert not hasattr(model, "fc")
    lin = nn.Linear(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    del lin.weight
    assert list(lin.state_dict()) == []
    # an attribute assigned as a plain value and then as a Parameter moves to _parameters
    m = nn.Module()
    m.w = 1
    m.w = nn.Parameter(tg.ones(1))
    assert "w" in m._parameters and "w" not in m.__dict__


def test_assignment_errors():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = tg.ones(2, 2)
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="as child module '0'"):
        setattr(seq, "0", 3)
    with pytest.raises(KeyError, match="already exists"):
        lin.register_buffer("weight", tg.ones(1))
    with pytest.raises(TypeError, match="buffer 'b'"):
        lin.register_buffer("b", 3)
    with pytest.raises(TypeError, match="parameter 'c'"):
        lin.register_parameter("c", tg.ones(1))
    with pytest.raises(KeyError, match="contain"):
        lin.add_module("x.y", nn.ReLU())
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'foo'"):
        lin.foo

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        nn.Module()(1)


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(model.parameters())) == 2
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert len(list(model.modules())) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_named_parameters_prefix_and_recurse():
    model = nn.Sequential(nn.Linear(2, 2))
    assert [n for n, _ in model.named_parameters(prefix="net")] == ["net.0.weight", "net.0.bias"]
    assert list(model.named_parameters(recurse=False)) == []
    assert model.get_submodule("0") is model[0]
    assert model.get_parameter("0.bias") is model[0].bias
    with pytest.raises(AttributeError):
        model.get_submodule("1")


# ---- state_dict ----------------------------------------------------------------------------------
def test_state_dict_round_trip_and_independence():
    a, b = small_cnn(nn), small_cnn(nn)
    sd = a.state_dict()
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy())
    # state_dict values are detached views: they do not require grad, and loading copies
    assert not sd["blocks.0.weight"].requires_grad
    assert b.blocks[0].weight is not a.blocks[0].weight
    assert b.state_dict(keep_vars=True)["blocks.0.weight"] is b.blocks[0].weight


def test_load_state_dict_accepts_torch_tensors_and_arrays():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    ours.load_state_dict({"weight": np.ones((2, 3)), "bias": np.zeros(2)})
    assert ours.weight.dtype == tg.float32 and (ours.weight.detach().numpy() == 1).all()


def test_strict_loading_lists_every_problem_and_loads_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    bad = {"0.weight": tg.ones(3, 3), "0.bias": tg.ones(3), "1.weight": tg.ones(3),
           "extra": tg.ones(1), "1.extra": tg.ones(1)}
    with pytest.raises(RuntimeError) as err:
        model.load_state_dict(bad)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.bias", "1.running_mean", "1.running_var", ' \
           '"1.num_batches_tracked".' in msg
    assert 'Unexpected key(s) in state_dict: "extra", "1.extra".' in msg
    assert "size mismatch for 0.weight: copying a param with shape torch.Size([3, 3]) from " \
           "checkpoint, the shape in current model is torch.Size([3, 2])." in msg
    for k, v in model.state_dict().items():    # not even the matching keys were copied
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_non_strict_loading_reports_keys_but_still_refuses_shape_mismatches():
    model = nn.Linear(2, 3)
    result = model.load_state_dict({"weight": tg.ones(3, 2), "foo": tg.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["foo"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['foo'])"
    assert (model.weight.detach().numpy() == 1).all()
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        model.load_state_dict({"bias": tg.ones(2)}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([1, 2])


def test_load_state_dict_assign_keeps_requires_grad():
    model = nn.Linear(2, 2)
    model.bias.requires_grad_(False)
    new = {"weight": tg.full((2, 2), 3.0), "bias": tg.zeros(2)}
    model.load_state_dict(new, assign=True)
    assert isinstance(model.weight, nn.Parameter) and model.weight.requires_grad
    assert not model.bias.requires_grad
    assert (model.weight.detach().numpy() == 3).all()


# ---- modes, gradients, conversions ---------------------------------------------------------------
def test_train_eval_recurse():
    model = small_cnn(nn)
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_zero_grad_and_requires_grad():
    model = nn.Linear(3, 2)
    model(tg.randn(4, 3)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert (model.weight.grad.numpy() == 0).all()
    model.zero_grad()
    assert model.weight.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert not model(tg.randn(1, 3)).requires_grad


def test_apply_runs_children_first():
    order = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert model.apply(lambda m: order.append(type(m).__name__)) is model
    assert order == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_to_dtype_keeps_parameter_objects_and_integer_buffers():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model(tg.randn(3, 2)).sum().backward()
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == tg.float64
    assert weight.grad.dtype == tg.float64
    assert model[1].running_mean.dtype == tg.float64
    assert model[1].num_batches_tracked.dtype == tg.int64
    assert model(tg.randn(3, 2, dtype=tg.float64)).dtype == tg.float64
    model.to(tg.float32).to("cpu").to(tg.device("cpu"), tg.float16).float()
    assert weight.dtype == tg.float32 and model.cpu() is model
    with pytest.raises(TypeError, match="floating point"):
        model.to(tg.int64)
    with pytest.raises(RuntimeError, match="cuda"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        model.cuda()


# ---- hooks ---------------------------------------------------------------------------------------
def test_forward_hooks():
    lin = nn.Linear(2, 2)
    seen = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: seen.append(out.shape) or out + 1)
    out = lin(tg.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.tile(lin.bias.detach().numpy() + 1, (3, 1)))
    assert seen == [(3, 2)]
    pre.remove()
    post.remove()
    with lin.register_forward_hook(lambda m, a, o: o * 0):
        assert (lin(tg.ones(1, 2)).detach().numpy() == 0).all()
    assert (lin(tg.ones(1, 2)).detach().numpy() != 0).any()


def test_hooks_with_kwargs_and_prepend():
    calls = []

    class Add(nn.Module):
        def forward(self, x, y=0):
            return x + y
    m = Add()
    m.register_forward_hook(lambda mod, a, o: calls.append("second"))
    m.register_forward_hook(lambda mod, a, o: calls.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, a, kw: (a, {"y": kw["y"] * 10}), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, kw, o: o + kw["y"], with_kwargs=True)
    assert m(tg.tensor(1.0), y=tg.tensor(2.0)).item() == 41.0
    assert calls == ["first", "second"]


# ---- containers ----------------------------------------------------------------------------------
def test_sequential_indexing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert head(tg.randn(4, 2)).shape == (4, 3)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is layers[2]
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    seq.insert(1, nn.Tanh())
    assert isinstance(seq[1], nn.Tanh) and len(seq) == 4
    assert len(seq + nn.Sequential(nn.ReLU())) == 5
    named = nn.Sequential(OrderedDict(first=nn.ReLU(), second=nn.Tanh()))
    assert list(named.state_dict()) == [] and named.first is named[0]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml += [nn.Tanh()]
    ml.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == ["Sigmoid", "Linear", "ReLU", "Tanh"]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]
    assert isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 3
    del ml[0]
    assert isinstance(ml[0], nn.Linear)
    md = nn.ModuleDict({"b": nn.Linear(1, 2), "a": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md) == ["b", "a", "c"] and "a" in md and len(md) == 3
    assert md.pop("a").__class__ is nn.ReLU and list(md.keys()) == ["b", "c"]
    md.update([("d", nn.Identity())])
    assert [k for k, _ in md.items()] == ["b", "c", "d"]
    with pytest.raises(NotImplementedError):
        ml(tg.ones(1))


# ---- repr ----------------------------------------------------------------------------------------
def test_repr_matches_torch():
    assert repr(small_cnn(nn)) == repr(small_cnn(torch.nn))
    for make in [
        lambda m: m.Conv2d(3, 4, (3, 5), padding="same"),
        lambda m: m.Conv2d(3, 4, 3, padding=1, dilation=2, groups=1, padding_mode="reflect"),
        lambda m: m.Conv2d(4, 4, 1, stride=2, groups=2, bias=False),
        lambda m: m.BatchNorm1d(5, momentum=None, affine=False),
        lambda m: m.BatchNorm2d(5, bias=False, track_running_stats=False),
        lambda m: m.LayerNorm((3, 4), eps=1e-3, elementwise_affine=False),
        lambda m: m.LayerNorm(4, bias=False),
        lambda m: m.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0,
                              scale_grad_by_freq=True, sparse=True),
        lambda m: m.Dropout(0.2, inplace=True),
        lambda m: m.LeakyReLU(0.2, True), lambda m: m.GELU("tanh"), lambda m: m.SiLU(True),
        lambda m: m.Softmax(), lambda m: m.LogSoftmax(1), lambda m: m.Tanh(),
        lambda m: m.MaxPool2d((2, 3), 1, 1, ceil_mode=True),
        lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
        lambda m: m.AdaptiveAvgPool2d((None, 3)), lambda m: m.Flatten(0, 2),
        lambda m: m.Unflatten(1, (2, 5)), lambda m: m.Identity(),
        lambda m: m.ModuleList([m.ReLU(), m.ReLU(), m.Linear(2, 2), m.ReLU()]),
        lambda m: m.ModuleList(), lambda m: m.Sequential(),
        lambda m: m.MSELoss(), lambda m: m.BCEWithLogitsLoss(),
    ]:
        assert repr(make(nn)) == repr(make(torch.nn))


def test_parameter():
    p = nn.Parameter(tg.tensor([1.0, 2.0]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    out = p * 2 + tg.exp(p)
    assert type(out) is tg.Tensor and out.requires_grad
    assert not nn.Parameter(tg.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(tg.tensor([1, 2]))
    data = tg.ones(2)
    shared = nn.Parameter(data)
    with tg.no_grad():
        shared.mul_(3)
    assert (data.numpy() == 3).all()     # a Parameter shares memory with its data


def test_copy_and_pickle():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    model(tg.randn(2, 3, 4, 4)).sum().backward()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert list(clone.state_dict()) == list(model.state_dict())
        w, w2 = model[0].weight, clone[0].weight
        assert isinstance(w2, nn.Parameter) and w2 is not w and w2.requires_grad
        np.testing.assert_array_equal(w2.detach().numpy(), w.detach().numpy())
        with tg.no_grad():
            w2.zero_()
        assert w.detach().numpy().any()
    assert copy.deepcopy(model)[0].weight.grad is not None
