"""The NumPy floor of the CNN workloads: LeNet and ResNet-18 written out by hand in NumPy.

Each layer has a forward that keeps what its backward reads and a backward written out by
hand; convolution is im2col (a strided window view copied into columns) and one GEMM, its input
gradient a GEMM and col2im (one strided add per kernel offset). This is the program a careful
NumPy user would write for one network, with no autodiff bookkeeping at all, so an autodiff
library that runs the same step in the same time adds nothing to it.

Layers hold their parameters as float32 arrays in PyTorch's layout, loaded from a state_dict,
so that the floor computes the same step as the libraries it is compared with (bench checks
that its loss matches tapegrad's).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Layer:
    params = ()          # names of parameter attributes, in state_dict order
    buffers = ()

    def load(self, state, prefix):
        for name in self.params + self.buffers:
            setattr(self, name, np.array(state[prefix + name], np.float32))
        self.grads = {}
        return self

    def parameters(self):
        """(array, name) pairs, for the optimizer."""
        return [(self, name) for name in self.params]


class Conv(Layer):
    def __init__(self, stride=1, padding=0, bias=False, input_grad=True):
        self.stride, self.padding, self.input_grad = stride, padding, input_grad
        self.params = ("weight", "bias") if bias else ("weight",)

    def forward(self, x):
        s, p = self.stride, self.padding
        O, C, kh, kw = self.weight.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]
        N, _, Ho, Wo = win.shape[:4]
        cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, N * Ho * Wo)
        out = self.weight.reshape(O, -1) @ cols
        if "bias" in self.params:
            out += self.bias[:, None]
        self.saved = x.shape, xp.shape, cols
        return out.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)

    def backward(self, g):
        x_shape, xp_shape, cols = self.saved
        O, C, kh, kw = self.weight.shape
        N, _, Ho, Wo = g.shape
        gt = g.transpose(1, 0, 2, 3).reshape(O, -1)
        self.grads["weight"] = (gt @ cols.T).reshape(self.weight.shape)
        if "bias" in self.params:
            self.grads["bias"] = gt.sum(1)
        if not self.input_grad:
            return None
        dcols = (self.weight.reshape(O, -1).T @ gt).reshape(C, kh, kw, N, Ho, Wo)
        dxp = np.zeros(xp_shape, g.dtype)
        s, p = self.stride, self.padding
        for i in range(kh):
            for j in range(kw):
                dxp[:, :, i:i + s * Ho:s, j:j + s * Wo:s] += dcols[:, i, j].transpose(1, 0, 2, 3)
        return dxp[:, :, p:p + x_shape[2], p:p + x_shape[3]]


class ReLU(Layer):
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, g):
        return g * self.mask


class MaxPool(Layer):
    def __init__(self, kernel, stride, padding=0):
        self.k, self.s, self.p = kernel, stride, padding

    def forward(self, x):
        k, s, p = self.k, self.s, self.p
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf) if p else x
        win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]
        win = win.reshape(win.shape[:4] + (k * k,))
        self.arg = win.argmax(-1)
        self.shapes = x.shape, xp.shape
        return np.take_along_axis(win, self.arg[..., None], -1)[..., 0]

    def backward(self, g):
        (_, _, H, W), xp_shape = self.shapes
        k, s, p = self.k, self.s, self.p
        Ho, Wo = g.shape[2:]
        dxp = np.zeros(xp_shape, g.dtype)
        for i in range(k):
            for j in range(k):
                dxp[:, :, i:i + s * Ho:s, j:j + s * Wo:s] += g * (self.arg == i * k + j)
        return dxp[:, :, p:p + H, p:p + W]


class BatchNorm(Layer):
    params, buffers = ("weight", "bias"), ("running_mean", "running_var")
    momentum, eps = 0.1, 1e-5

    def forward(self, x):
        mean = x.mean((0, 2, 3))
        centered = x - mean[:, None, None]
        var = (centered * centered).mean((0, 2, 3))
        invstd = 1 / np.sqrt(var + self.eps)
        xhat = centered * invstd[:, None, None]
        m = x.size // x.shape[1]
        self.running_mean += self.momentum * (mean - self.running_mean)
        self.running_var += self.momentum * (var * m / (m - 1) - self.running_var)
        self.saved = xhat, invstd
        return xhat * self.weight[:, None, None] + self.bias[:, None, None]

    def backward(self, g):
        xhat, invstd = self.saved
        m = g.size // g.shape[1]
        sum_g, sum_gx = g.sum((0, 2, 3)), (g * xhat).sum((0, 2, 3))
        self.grads["weight"], self.grads["bias"] = sum_gx, sum_g
        scale = (self.weight * invstd / m)[:, None, None]
        return scale * (m * g - sum_g[:, None, None] - xhat * sum_gx[:, None, None])


class Linear(Layer):
    params = ("weight", "bias")

    def forward(self, x):
        self.x = x
        return x @ self.weight.T + self.bias

    def backward(self, g):
        self.grads["weight"], self.grads["bias"] = g.T @ self.x, g.sum(0)
        return g @ self.weight


class Flatten(Layer):
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, g):
        return g.reshape(self.shape)


class GlobalAvgPool(Layer):
    def forward(self, x):
        self.shape = x.shape
        return x.mean((2, 3))

    def backward(self, g):
        n = self.shape[2] * self.shape[3]
        return np.broadcast_to((g / n)[:, :, None, None], self.shape)


class Sequential(Layer):
    def __init__(self, **layers):
        self.layers = layers

    def load(self, state, prefix):
        for name, layer in self.layers.items():
            layer.load(state, f"{prefix}{name}.")
        return self

    def parameters(self):
        return [p for layer in self.layers.values() for p in layer.parameters()]

    def forward(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def backward(self, g):
        for layer in reversed(self.layers.values()):
            g = layer.backward(g)
        return g


class BasicBlock(Sequential):
    """ResNet's two 3x3 convolutions plus a shortcut (a 1x1 convolution where the shape changes)."""

    def __init__(self, stride, downsample):
        super().__init__(conv1=Conv(stride, 1), bn1=BatchNorm(), relu1=ReLU(), conv2=Conv(1, 1),
                         bn2=BatchNorm())
        if downsample:
            self.layers["downsample"] = Sequential(**{"0": Conv(stride), "1": BatchNorm()})
        self.relu = ReLU()

    def forward(self, x):
        L = self.layers
        out = x
        for name in ("conv1", "bn1", "relu1", "conv2", "bn2"):
            out = L[name].forward(out)
        shortcut = L["downsample"].forward(x) if "downsample" in L else x
        return self.relu.forward(out + shortcut)

    def backward(self, g):
        g = self.relu.backward(g)
        L, main = self.layers, g
        for name in ("bn2", "conv2", "relu1", "bn1", "conv1"):
            main = L[name].backward(main)
        return main + (L["downsample"].backward(g) if "downsample" in L else g)


def lenet():
    """PyTorch's "Neural Networks" tutorial LeNet, for 1x28x28 inputs."""
    return Sequential(conv1=Conv(bias=True, input_grad=False), r1=ReLU(), p1=MaxPool(2, 2),
                      conv2=Conv(bias=True), r2=ReLU(), p2=MaxPool(2, 2), flat=Flatten(),
                      fc1=Linear(), r3=ReLU(), fc2=Linear(), r4=ReLU(), fc3=Linear())


def resnet18():
    stages = {}
    for i, (stride, down) in enumerate([(1, False), (2, True), (2, True), (2, True)], 1):
        stages[f"layer{i}"] = Sequential(**{"0": BasicBlock(stride, down),
                                            "1": BasicBlock(1, False)})
    return Sequential(conv1=Conv(2, 3, input_grad=False), bn1=BatchNorm(), relu=ReLU(),
                      maxpool=MaxPool(3, 2, 1), **stages, avgpool=GlobalAvgPool(),
                      flat=Flatten(), fc=Linear())


def cross_entropy(logits, target):
    """Mean cross-entropy of class indices, and its gradient for the logits."""
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    rows = np.arange(len(target))
    loss = np.mean(np.log(s[:, 0]) - z[rows, target])
    grad = e / s
    grad[rows, target] -= 1
    return loss, grad / len(target)


class SGD:
    """torch.optim.SGD's update: the momentum buffer starts as the first gradient."""

    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum, self.bufs = params, lr, momentum, {}

    def step(self):
        for layer, name in self.params:
            g = layer.grads[name]
            if self.momentum:
                buf = self.bufs.get((id(layer), name))
                if buf is None:
                    buf = self.bufs[id(layer), name] = g.copy()
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            p = getattr(layer, name)
            p -= self.lr * g
