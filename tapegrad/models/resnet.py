"""ResNet-18/34/50 with torchvision's architecture and state_dict keys (torchvision.models.resnet).

The layout (module names, registration order, shapes) is torchvision's, so its checkpoints load
with `load_state_dict`: conv1 bn1 relu maxpool layer1..layer4 avgpool fc, each block
conv/bn pairs plus `downsample = Sequential(conv1x1, bn)` where the shape changes. ResNet-50 is
the "v1.5" variant (stride on the 3x3 conv), as in torchvision. One difference: ReLU runs out
of place (torchvision's is in place, which changes no value): a tapegrad in-place op computes
its result apart and then copies it in, so it would save no memory and cost a copy.
"""
from .. import nn
from ..ops.shape import flatten
from .weights import Weights, WeightsEnum, read_state_dict, resolve


def conv3x3(in_planes, out_planes, stride=1):
    """3x3 convolution, padding that keeps the size at stride 1, no bias (a BN follows)."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4, and a shortcut (ResNet-50)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.ResNet: a 7x7 stem, four stages of `block`, global pooling and fc.

    Initialisation is torchvision's: kaiming-normal (fan_out, relu) convolutions, BN weight 1
    and bias 0; zero_init_residual zeroes each block's last BN weight.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.bn2.weight if isinstance(m, BasicBlock) else m.bn3.weight)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


_BASE = "https://download.pytorch.org/models/"


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet18-f37072fd.pth", 1000,
                            {"num_params": 11689512, "acc@1": 69.758, "acc@5": 89.078})
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet34-b627a593.pth", 1000,
                            {"num_params": 21797672, "acc@1": 73.314, "acc@5": 91.420})
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_BASE + "resnet50-0676ba61.pth", 1000,
                            {"num_params": 25557032, "acc@1": 76.130, "acc@5": 92.862})
    IMAGENET1K_V2 = Weights(_BASE + "resnet50-11ad3fa6.pth", 1000,
                            {"num_params": 25557032, "acc@1": 80.858, "acc@5": 95.434})
    DEFAULT = IMAGENET1K_V2


def _resnet(block, layers, weights, enum_cls, num_classes, zero_init_residual):
    weights = resolve(weights, enum_cls)
    if isinstance(weights, WeightsEnum) and num_classes != weights.num_classes:
        raise ValueError(f"The parameter 'num_classes' expected value {weights.num_classes} but "
                         f"got {num_classes} instead: load {weights!r} with its "
                         f"{weights.num_classes} classes, then replace `fc`")
    model = ResNet(block, layers, num_classes, zero_init_residual)
    if weights is not None:
        model.load_state_dict(read_state_dict(weights))
    return model


def resnet18(*, weights=None, progress=True, num_classes=1000, zero_init_residual=False):
    """torchvision.models.resnet18. `weights`: None (fresh initialisation), a
    `ResNet18_Weights` member or name (read from the checkpoint cache), or a checkpoint path;
    `progress` is accepted as in torchvision, with no download to report."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, ResNet18_Weights, num_classes,
                   zero_init_residual)


def resnet34(*, weights=None, progress=True, num_classes=1000, zero_init_residual=False):
    """torchvision.models.resnet34; `weights` as in resnet18."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, ResNet34_Weights, num_classes,
                   zero_init_residual)


def resnet50(*, weights=None, progress=True, num_classes=1000, zero_init_residual=False):
    """torchvision.models.resnet50 (v1.5); `weights` as in resnet18."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, ResNet50_Weights, num_classes,
                   zero_init_residual)
