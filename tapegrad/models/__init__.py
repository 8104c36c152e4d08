"""torchvision.models: ResNet-18/34/50 with torchvision's state_dict layout and weights enums."""
from .resnet import (ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50,
                     ResNet18_Weights, ResNet34_Weights, ResNet50_Weights)
from .weights import Weights, WeightsEnum

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "Weights", "WeightsEnum"]
