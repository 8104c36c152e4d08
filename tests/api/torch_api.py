"""The curated public API of PyTorch that tapegrad follows: the names PyTorch's tutorials and
examples use most, by namespace, and what is deliberately absent or not yet built (MISSING).

tests/test_api_names.py checks that each name exists in tapegrad (or is in MISSING, with a
reason) and, where PyTorch's signature can be read, that the parameter names agree.
"""

TORCH = """
tensor as_tensor from_numpy zeros ones empty full zeros_like ones_like empty_like full_like eye
arange linspace logspace rand randn rand_like randn_like randint randint_like randperm normal
bernoulli multinomial manual_seed seed initial_seed Generator get_rng_state set_rng_state
Tensor FloatTensor DoubleTensor HalfTensor LongTensor IntTensor ShortTensor CharTensor ByteTensor
BoolTensor Size device dtype float16 half float32 float float64 double bfloat16 int8 uint8 int16
short int32 int int64 long bool complex64 cfloat
get_default_dtype set_default_dtype set_default_device get_default_device is_tensor numel
is_floating_point is_complex is_nonzero result_type can_cast promote_types finfo iinfo
no_grad enable_grad set_grad_enabled inference_mode is_grad_enabled is_inference_mode_enabled
set_printoptions set_num_threads get_num_threads save load pi e inf nan
add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow neg negative
abs absolute exp exp2 log log2 log10 log1p expm1 sqrt rsqrt square reciprocal sign sgn sin cos
tan asin acos atan atan2 arcsin arccos arctan sinh cosh tanh asinh acosh atanh sigmoid logit
erf erfc erfinv floor ceil round trunc frac clamp clip clamp_min clamp_max maximum minimum fmax
fmin lerp hypot logaddexp xlogy where nan_to_num relu
eq ne lt le gt ge equal allclose isclose isnan isinf isfinite isposinf isneginf logical_not
logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor bitwise_not
sum mean prod max min amax amin argmax argmin logsumexp all any count_nonzero nansum nanmean
var std var_mean std_mean median nanmedian mode quantile nanquantile norm dist cumsum cumprod
cummax cummin logcumsumexp sort argsort msort topk kthvalue unique unique_consecutive bincount
histc searchsorted bucketize
reshape view_as_real flatten unflatten squeeze unsqueeze transpose swapaxes swapdims permute t
movedim moveaxis broadcast_to broadcast_tensors broadcast_shapes flip fliplr flipud roll rot90
cat concat concatenate stack hstack vstack dstack column_stack split chunk tensor_split narrow
unbind gather scatter scatter_add index_select masked_select masked_fill take take_along_dim
index_add nonzero argwhere diag diag_embed diagonal diagflat triu tril tril_indices triu_indices
meshgrid cartesian_prod combinations repeat_interleave tile
matmul mm bmm mv dot vdot outer inner ger addmm addmv addbmm baddbmm einsum tensordot kron cross
trace det logdet slogdet inverse pinverse matrix_exp cholesky lu svd qr cdist chain_matmul
softmax log_softmax dropout conv1d conv2d layer_norm batch_norm embedding pdist
clone detach cosine_similarity pairwise_distance complex real imag angle
"""

TENSOR = """
shape dtype device requires_grad grad grad_fn is_leaf data T mT ndim
size dim numel nelement element_size item tolist numpy backward detach detach_ requires_grad_
retain_grad register_hook zero_ clone contiguous is_contiguous stride to cpu cuda type type_as
float double half int long bool short byte char is_floating_point is_complex is_nonzero
new_ones new_zeros new_full new_empty new_tensor
add sub mul div true_divide floor_divide remainder fmod pow neg abs exp log log2 log10 log1p expm1
sqrt rsqrt square reciprocal sign sin cos tan asin acos atan atan2 sinh cosh tanh sigmoid erf
floor ceil round trunc frac clamp clip maximum minimum lerp where relu softmax log_softmax
eq ne lt le gt ge equal allclose isclose isnan isinf isfinite logical_not logical_and logical_or
sum mean prod max min amax amin argmax argmin logsumexp all any count_nonzero var std median
norm cumsum cumprod sort argsort topk unique
view view_as reshape reshape_as flatten unflatten squeeze unsqueeze transpose permute t expand
expand_as repeat tile flip roll movedim split chunk narrow unbind gather scatter scatter_add
index_select masked_fill masked_select index_add index_put nonzero diag diagonal triu tril
matmul mm bmm mv dot outer trace det inverse
add_ sub_ mul_ div_ pow_ clamp_ neg_ exp_ sqrt_ abs_ fill_ copy_ masked_fill_ scatter_
scatter_add_ index_add_ uniform_ normal_ relu_ sigmoid_ tanh_ unsqueeze_ squeeze_ t_
random_ bernoulli_ exponential_ fill_diagonal_ clamp_min clamp_max
"""

NN = """
Module Sequential ModuleList ModuleDict Parameter ParameterList ParameterDict Identity
Linear Bilinear LazyLinear Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d
MaxPool1d MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool2d
BatchNorm1d BatchNorm2d LayerNorm GroupNorm InstanceNorm1d InstanceNorm2d RMSNorm TransformerDecoder
Dropout Dropout1d Dropout2d Embedding EmbeddingBag RNN LSTM GRU RNNCell LSTMCell GRUCell
Transformer TransformerEncoder TransformerEncoderLayer TransformerDecoderLayer MultiheadAttention
ReLU ReLU6 LeakyReLU PReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Softmax LogSoftmax Softplus
Softsign Hardtanh Hardswish Hardsigmoid Tanhshrink Threshold GLU
Flatten Unflatten Upsample PixelShuffle Unfold Fold ZeroPad2d ConstantPad1d ConstantPad2d
ReflectionPad2d ReplicationPad2d CosineSimilarity PairwiseDistance
MSELoss L1Loss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss SmoothL1Loss HuberLoss
KLDivLoss MarginRankingLoss TripletMarginLoss CosineEmbeddingLoss PoissonNLLLoss GaussianNLLLoss
MultiLabelSoftMarginLoss HingeEmbeddingLoss SoftMarginLoss CTCLoss
"""

INIT = """
calculate_gain uniform_ normal_ constant_ ones_ zeros_ eye_ xavier_uniform_ xavier_normal_
kaiming_uniform_ kaiming_normal_ orthogonal_ trunc_normal_ sparse_
"""

NN_UTILS = """
clip_grad_norm_ clip_grad_value_ parameters_to_vector vector_to_parameters
rnn.pad_sequence rnn.pack_padded_sequence rnn.pad_packed_sequence rnn.pack_sequence
rnn.unpad_sequence rnn.unpack_sequence rnn.PackedSequence rnn.invert_permutation
"""

FUNCTIONAL = """
relu relu6 leaky_relu elu selu celu gelu silu mish sigmoid tanh softmax log_softmax softmin rms_norm
softplus softsign hardtanh hardswish hardsigmoid glu logsigmoid threshold prelu
linear bilinear conv1d conv2d conv3d conv_transpose1d conv_transpose2d max_pool1d max_pool2d
avg_pool1d avg_pool2d adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool2d
batch_norm layer_norm group_norm instance_norm normalize dropout dropout1d dropout2d embedding
one_hot pad interpolate upsample pixel_shuffle unfold fold grid_sample affine_grid
cosine_similarity pairwise_distance scaled_dot_product_attention
mse_loss l1_loss cross_entropy nll_loss binary_cross_entropy binary_cross_entropy_with_logits
smooth_l1_loss huber_loss kl_div margin_ranking_loss triplet_margin_loss cosine_embedding_loss
poisson_nll_loss gaussian_nll_loss multilabel_soft_margin_loss hinge_embedding_loss
soft_margin_loss
"""

OPTIM = """
Optimizer SGD Adam AdamW Adagrad RMSprop Adadelta Adamax NAdam RAdam ASGD LBFGS SparseAdam
"""

LR_SCHEDULER = """
LRScheduler StepLR MultiStepLR ExponentialLR CosineAnnealingLR ReduceLROnPlateau LambdaLR
MultiplicativeLR LinearLR ConstantLR OneCycleLR CosineAnnealingWarmRestarts CyclicLR PolynomialLR
SequentialLR ChainedScheduler
"""

DATA = """
Dataset IterableDataset TensorDataset DataLoader random_split Subset ConcatDataset
Sampler RandomSampler SequentialSampler BatchSampler SubsetRandomSampler WeightedRandomSampler
default_collate get_worker_info
"""

AUTOGRAD = """
grad backward Function Variable no_grad enable_grad set_grad_enabled gradcheck gradgradcheck
functional.jacobian functional.hessian functional.vjp functional.jvp functional.hvp
functional.vhp function.FunctionCtx function.once_differentiable
"""

MISC = """
torch.linalg.norm torch.linalg.vector_norm torch.linalg.matrix_norm torch.linalg.inv
torch.linalg.det torch.linalg.slogdet torch.linalg.solve torch.linalg.cholesky torch.linalg.qr
torch.linalg.svd torch.linalg.svdvals torch.linalg.eigh torch.linalg.eigvalsh torch.linalg.lstsq
torch.linalg.pinv torch.linalg.matrix_exp torch.linalg.matrix_rank torch.linalg.cross
torch.linalg.multi_dot
torch.cuda.is_available torch.cuda.device_count torch.cuda.manual_seed
torch.cuda.manual_seed_all torch.cuda.synchronize torch.cuda.empty_cache
torch.accelerator.is_available torch.accelerator.current_accelerator
torch.accelerator.device_count torch.backends.mps.is_available torch.backends.mps.is_built
torch.backends.cudnn.benchmark torch.backends.cudnn.deterministic torch.backends.cudnn.enabled
torch.backends.cudnn.allow_tf32 torch.backends.cuda.matmul
torch.special.expit torch.special.logit torch.special.erf torch.special.gammaln
torch.special.digamma torch.special.xlogy torch.special.entr torch.special.log_softmax
torch.distributions.Normal torch.distributions.Categorical torch.distributions.Bernoulli
torch.distributions.Uniform torch.distributions.MultivariateNormal torch.distributions.Beta
torch.distributions.Gamma torch.distributions.Dirichlet torch.distributions.kl_divergence
torch.testing.assert_close torch.profiler.profile torch.utils.benchmark.Timer
torch.nn.utils.parametrize.register_parametrization
torch.nn.utils.parametrizations.weight_norm torch.nn.utils.parametrizations.spectral_norm
torch.nn.utils.parametrizations.orthogonal
torch.compile torch.jit.script torch.jit.trace torch.onnx.export
"""


def _qualified(prefix, block):
    return [f"{prefix}.{name}" for name in block.split()]


NAMES = (_qualified("torch", TORCH) + _qualified("torch.Tensor", TENSOR)
         + _qualified("torch.nn", NN) + _qualified("torch.nn.init", INIT)
         + _qualified("torch.nn.utils", NN_UTILS) + _qualified("torch.nn.functional", FUNCTIONAL)
         + _qualified("torch.optim", OPTIM) + _qualified("torch.optim.lr_scheduler", LR_SCHEDULER)
         + _qualified("torch.utils.data", DATA) + _qualified("torch.autograd", AUTOGRAD)
         + MISC.split())

# the recurrent and attention modules are issue 13's (fused primitives, not compositions)
SEQUENCE = "not yet built: sequence models and attention (issue 13)"

MISSING = {
    # absent: built by no one yet, or out of scope
    "torch.complex64": "no complex dtypes: tapegrad's tensors are real",
    "torch.cfloat": "no complex dtypes: tapegrad's tensors are real",
    "torch.view_as_real": "no complex dtypes: tapegrad's tensors are real",
    "torch.complex": "no complex dtypes: tapegrad's tensors are real",
    "torch.real": "no complex dtypes: tapegrad's tensors are real",
    "torch.imag": "no complex dtypes: tapegrad's tensors are real",
    "torch.angle": "no complex dtypes: tapegrad's tensors are real",
    "torch.compile": "out of scope: no compiler (tapegrad is eager NumPy)",
    "torch.jit.script": "out of scope: no TorchScript",
    "torch.jit.trace": "out of scope: no TorchScript",
    "torch.onnx.export": "out of scope: no ONNX export",
}
