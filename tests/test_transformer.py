"""nn.MultiheadAttention and the Transformer modules against PyTorch: ours loaded with torch's
state_dict, the same inputs and masks, in float64; outputs, input gradients and every parameter
gradient (eval mode, or training with dropout 0), a few SGD steps, and PyTorch's names."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

E, H, L, S, N = 8, 2, 4, 5, 3


def _pair(make, train=False):
    torch.manual_seed(0)
    theirs = make(torch.nn).double().train(train)
    ours = make(tg.nn).double().train(train)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _tensor(lib, a):
    """Inputs and finite float masks require grad; bool and -inf (causal) masks do not (PyTorch
    may replace a causal mask by its is_causal flag, leaving it out of the graph)."""
    if a is None or a.dtype == bool:
        return None if a is None else lib.tensor(a)
    return lib.tensor(a, requires_grad=bool(np.isfinite(a).all()))


def _check(ours, theirs, arrays, call, seed=1, rtol=1e-9, atol=1e-11):
    """call(module, lib, *tensors) -> tensor or tuple; every output, input grad, param grad."""
    results = []
    for lib, mod in ((tg, ours), (torch, theirs)):
        ts = [_tensor(lib, a) for a in arrays]
        outs = call(mod, lib, *ts)
        outs = [o for o in (outs if isinstance(outs, tuple) else (outs,)) if o is not None]
        rng = np.random.default_rng(seed)
        loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
        loss.backward()
        got = [o.detach().numpy() for o in outs]
        got += [t.grad.numpy() for t in ts if t is not None and t.requires_grad]
        got += [(n, p.grad.numpy()) for n, p in mod.named_parameters()]
        results.append(got)
    assert len(results[0]) == len(results[1])
    for a, b in zip(*results):
        if isinstance(a, tuple):
            assert a[0] == b[0]
            a, b = a[1], b[1]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _mha(**kw):
    return lambda nn: nn.MultiheadAttention(E, H, **kw)


KPM = np.zeros((N, S), bool)
KPM[0, -2:] = True
KPM[2, 0] = True
CAUSAL_BOOL = ~np.tril(np.ones((L, S), bool))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", ["plain", "masks", "heads", "kv_dims", "no_bias"])
def test_multihead_attention(batch_first, case):
    kw = dict(batch_first=batch_first)
    if case == "kv_dims":
        kw.update(kdim=3, vdim=6)
    if case == "no_bias":
        kw.update(bias=False)
    ours, theirs = _pair(_mha(**kw))
    kd, vd = kw.get("kdim", E), kw.get("vdim", E)
    shape = (lambda n, t, d: (n, t, d)) if batch_first else (lambda n, t, d: (t, n, d))
    arrays = [_x(*shape(N, L, E)), _x(*shape(N, S, kd), seed=1), _x(*shape(N, S, vd), seed=2)]
    mask_kw = {}
    if case == "masks":
        arrays += [KPM, _x(L, S, seed=3)]
        mask_kw = dict(average_attn_weights=True)
    elif case == "heads":
        arrays += [None, np.broadcast_to(CAUSAL_BOOL, (N * H, L, S)).copy()]
        mask_kw = dict(average_attn_weights=False)

    def call(mod, lib, q, k, v, kpm=None, am=None):
        return mod(q, k, v, key_padding_mask=kpm, attn_mask=am, **mask_kw)
    _check(ours, theirs, arrays, call)


def test_multihead_attention_unbatched_no_weights_and_causal_hint():
    ours, theirs = _pair(_mha(dropout=0.0), train=True)
    mask = np.triu(np.full((L, L), -np.inf), 1)

    def call(mod, lib, x, m):
        return mod(x, x, x, attn_mask=m, need_weights=False, is_causal=True)
    _check(ours, theirs, [_x(L, E), mask], call)
    out, w = ours(*(tg.tensor(_x(L, E)),) * 3, need_weights=False)
    assert w is None and out.shape == (L, E)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        ours(*(tg.tensor(_x(L, E)),) * 3, is_causal=True)


def test_multihead_attention_names_and_errors():
    m = tg.nn.MultiheadAttention(E, H, kdim=3, vdim=6)
    t = torch.nn.MultiheadAttention(E, H, kdim=3, vdim=6)
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    m = tg.nn.MultiheadAttention(E, H)
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (E + 3 * E))         # xavier_uniform_ on (3E, E)
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    with pytest.raises(AssertionError, match="divisible"):
        tg.nn.MultiheadAttention(E, 3)
    with pytest.raises(ValueError, match="not supported"):
        tg.nn.MultiheadAttention(E, H, add_bias_kv=True)


def _layer_call(mod, lib, x, m=None, kpm=None):
    return mod(x, src_mask=m, src_key_padding_mask=kpm)


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True, activation="gelu"),
                                dict(batch_first=True, layer_norm_eps=1e-3)],
                         ids=["post_norm", "pre_norm_gelu", "batch_first"])
def test_encoder_layer(kw):
    ours, theirs = _pair(lambda nn: nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, **kw),
                         train=True)
    x = _x(N, S, E) if kw.get("batch_first") else _x(S, N, E)
    _check(ours, theirs, [x, _x(S, S, seed=4), KPM], _layer_call)


def test_encoder_stack_with_norm():
    def make(nn):
        layer = nn.TransformerEncoderLayer(E, H, 16, batch_first=True)
        return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E), enable_nested_tensor=False)
    ours, theirs = _pair(make)
    mask = np.triu(np.full((S, S), -np.inf), 1)

    def call(mod, lib, x, m, kpm):
        return mod(x, mask=m, src_key_padding_mask=kpm)
    _check(ours, theirs, [_x(N, S, E), mask, KPM], call)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_and_stack(norm_first):
    def make(nn):
        layer = nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, norm_first=norm_first)
        return nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(E))
    ours, theirs = _pair(make, train=True)
    tgt_mask = np.triu(np.full((L, L), -np.inf), 1)

    def call(mod, lib, tgt, mem, tm, mkpm):
        return mod(tgt, mem, tgt_mask=tm, memory_key_padding_mask=mkpm)
    _check(ours, theirs, [_x(L, N, E), _x(S, N, E, seed=1), tgt_mask, KPM], call)


def test_transformer_and_sgd_steps():
    def make(nn):
        return nn.Transformer(E, H, 1, 1, 16, dropout=0.0, batch_first=True)
    ours, theirs = _pair(make)
    mask = tg.nn.Transformer.generate_square_subsequent_mask(L)
    want = torch.nn.Transformer.generate_square_subsequent_mask(L)
    np.testing.assert_array_equal(mask.numpy(), want.numpy())
    assert mask.dtype == tg.float32
    src, tgt = _x(N, S, E), _x(N, L, E, seed=1)

    def call(mod, lib, s, t, m):
        return mod(s, t, tgt_mask=m, src_key_padding_mask=lib.tensor(KPM),
                   memory_key_padding_mask=lib.tensor(KPM))
    _check(ours, theirs, [src, tgt, mask.numpy().astype(np.float64)], call)
    losses = []
    for lib, mod in ((tg, ours), (torch, theirs)):
        opt = lib.optim.SGD(mod.parameters(), lr=0.1)
        got = []
        for _ in range(3):
            opt.zero_grad()
            loss = (mod(lib.tensor(src), lib.tensor(tgt)) ** 2).mean()
            loss.backward()
            opt.step()
            got.append(loss.item())
        losses.append(got)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    with pytest.raises(RuntimeError, match="batch number"):
        ours(tg.tensor(src), tg.tensor(tgt[:1]))


def test_transformer_parameter_names_and_init():
    ours = tg.nn.Transformer(E, H, 2, 1, 16)
    theirs = torch.nn.Transformer(E, H, 2, 1, 16)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    w = ours.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (E + 16))       # xavier_uniform_
    with pytest.raises(RuntimeError, match="relu/gelu"):
        tg.nn.TransformerEncoderLayer(E, H, activation="tanh")


def test_dropout_in_training_mode():
    tg.manual_seed(0)
    m = tg.nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = tg.tensor(_x(N, L, E).astype(np.float32), requires_grad=True)
    out, w = m(x, x, x, average_attn_weights=False)
    dropped = w.detach().numpy() == 0
    assert dropped.any() and not dropped.all()
    kept = w.detach().numpy()[~dropped]
    assert kept.max() <= 2.0 + 1e-6           # probabilities scaled by 1/(1-p)
    (out.sum() + w.sum()).backward()
    assert x.grad is not None and m.in_proj_weight.grad is not None
    m.eval()
    out, w = m(x, x, x)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    layer = tg.nn.TransformerEncoderLayer(E, H, 16, dropout=0.3).train()
    layer(tg.tensor(_x(S, N, E).astype(np.float32))).sum().backward()
