"""torch.nn.TransformerEncoderLayer / TransformerEncoder, TransformerDecoderLayer /
TransformerDecoder and Transformer: PyTorch's submodule names (state_dict keys), defaults and
initialisation, on nn.MultiheadAttention."""
import copy

from .. import creation
from . import init
from .activation import relu, gelu
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return relu
        if activation == "gelu":
            return gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise RuntimeError(f"activation should be relu/gelu or a callable, not {activation!r}")
    return activation


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class _Layer(Module):
    """What encoder and decoder layers share: the feed-forward block and the options."""

    def _common(self, d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                norm_first, bias, kw):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.activation = _activation(activation)
        self.activation_relu_or_gelu = 1 if self.activation is relu else \
            2 if self.activation is gelu else 0
        return dict(eps=layer_norm_eps, bias=bias, **kw)

    def _ff_block(self, x, dropout):
        # on 2-D rows: one addmm per Linear, forward and backward
        rows = x.reshape(-1, x.shape[-1])
        y = self.linear2(self.dropout(self.activation(self.linear1(rows))))
        return dropout(y.reshape(x.shape))


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block, each residual with a LayerNorm.

    Mirrors torch.nn.TransformerEncoderLayer.

    Parameters
    ----------
    d_model : int
        Feature size of the input and output.
    nhead : int
        Attention heads (d_model must be divisible by it).
    dim_feedforward : int
        Hidden size of the feed-forward block (Linear, activation, dropout, Linear).
    dropout : float
        Dropout on the attention weights, after attention, and inside and after the
        feed-forward block.
    activation : str or callable
        'relu', 'gelu' or a function of one tensor.
    layer_norm_eps : float
        The LayerNorms' eps.
    batch_first : bool
        Inputs are (N, S, E) instead of (S, N, E).
    norm_first : bool
        LayerNorm before each block (pre-norm) instead of after the residual sum.
    bias : bool
        Whether the Linear layers and LayerNorms have biases.
    device, dtype
        Where and in which dtype the parameters are created.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        norm = self._common(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                            norm_first, bias, kw)
        self.norm1 = LayerNorm(d_model, **norm)
        self.norm2 = LayerNorm(d_model, **norm)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Encode ``src`` (S, N, E) ((N, S, E) with batch_first); returns the same shape.

        ``src_mask`` (S, S) masks attention between positions, ``src_key_padding_mask`` (N, S)
        marks padded positions (True = ignored), ``is_causal`` says src_mask is causal.
        """
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=bool(is_causal))[0]
        return self.dropout1(x)


class TransformerDecoderLayer(_Layer):
    """Self-attention, attention over the encoder's memory and a feed-forward block.

    As torch.nn.TransformerDecoderLayer: each block has a residual connection and a
    LayerNorm. ``d_model``, ``nhead``, ``dim_feedforward``, ``dropout``, ``activation``,
    ``layer_norm_eps``, ``batch_first``, ``norm_first``, ``bias``, ``device`` and ``dtype``
    as in :class:`TransformerEncoderLayer`.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, **kw)
        norm = self._common(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                            norm_first, bias, kw)
        self.norm1 = LayerNorm(d_model, **norm)
        self.norm2 = LayerNorm(d_model, **norm)
        self.norm3 = LayerNorm(d_model, **norm)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """Decode ``tgt`` (T, N, E) against the encoder output ``memory`` (S, N, E).

        ``tgt_mask`` (T, T) and ``memory_mask`` (T, S) mask attention, ``tgt_key_padding_mask``
        (N, T) and ``memory_key_padding_mask`` (N, S) mark padded positions (True = ignored);
        ``tgt_is_causal`` and ``memory_is_causal`` say the masks are causal.
        """
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=bool(is_causal), need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=bool(is_causal),
                                need_weights=False)[0]
        return self.dropout2(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer``, then ``norm``.

    Mirrors torch.nn.TransformerEncoder. ``norm`` is an optional final module (a LayerNorm);
    ``enable_nested_tensor`` and ``mask_check`` are accepted for compatibility (tapegrad has
    no nested tensors).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run ``src`` through every layer, then the norm.

        ``mask``, ``src_key_padding_mask`` and ``is_causal`` are passed to each layer as src_mask,
        src_key_padding_mask and is_causal.
        """
        out = src
        for mod in self.layers:
            out = mod(out, src_mask=mask, is_causal=bool(is_causal),
                      src_key_padding_mask=src_key_padding_mask)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then ``norm``.

    Mirrors torch.nn.TransformerDecoder; ``norm`` is an optional final module (a LayerNorm).
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run ``tgt`` through every layer against ``memory``, then the norm.

        ``tgt_mask``, ``memory_mask``, ``tgt_key_padding_mask``, ``memory_key_padding_mask``,
        ``tgt_is_causal`` and ``memory_is_causal`` are passed to each layer.
        """
        out = tgt
        for mod in self.layers:
            out = mod(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """An encoder and a decoder stack with final LayerNorms (torch.nn.Transformer).

    Every parameter of more than one dimension is re-initialised with ``xavier_uniform_``.
    ``num_encoder_layers`` and ``num_decoder_layers`` set the depths, or ``custom_encoder``
    and ``custom_decoder`` replace the stacks; ``d_model``, ``nhead``, ``dim_feedforward``,
    ``dropout``, ``activation``, ``layer_norm_eps``, ``batch_first``, ``norm_first``,
    ``bias``, ``device`` and ``dtype`` as in :class:`TransformerEncoderLayer`.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        layer = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                     layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                     norm_first=norm_first, bias=bias, **kw)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **layer), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **layer), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode ``src`` (S, N, E), then decode ``tgt`` (T, N, E) against it; returns (T, N, E).

        ``src_mask``, ``src_key_padding_mask`` and ``src_is_causal`` go to the encoder;
        ``tgt_mask``, ``memory_mask``, ``tgt_key_padding_mask``, ``memory_key_padding_mask``,
        ``tgt_is_causal`` and ``memory_is_causal`` to the decoder (see TransformerDecoderLayer).
        """
        batched = src.dim() == 3
        b = 0 if self.batch_first else 1
        if batched and src.shape[b] != tgt.shape[b]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) causal mask: -inf above the diagonal (future positions), 0 elsewhere.

        ``dtype`` and ``device`` are those of the mask tensor.
        """
        return creation.full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(1)
