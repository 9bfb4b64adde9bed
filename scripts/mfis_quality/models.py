"""The two architectures of the paper's setting: a plain VGG-style net and a small ResNet, both
with BN. The classifier (`head`) is the only layer whose shape depends on the task."""
import torch
import torch.nn as nn


def conv_bn(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class VGG(nn.Module):
    """conv-BN-ReLU x5 in three stages (16, 32, 64) at 8x8, 4x4, 2x2 (max pooling between),
    flatten (64 x 2 x 2) into the head."""

    def __init__(self, classes):
        super().__init__()
        self.features = nn.Sequential(*conv_bn(1, 16), *conv_bn(16, 16), nn.MaxPool2d(2),
                                      *conv_bn(16, 32), *conv_bn(32, 32), nn.MaxPool2d(2),
                                      *conv_bn(32, 64))
        self.head = nn.Linear(64 * 2 * 2, classes)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """Stem 16, basic blocks 16-16 / 32-32 / 64 at 8x8, 4x4, 2x2 (residual adds couple channels),
    global average pooling."""

    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, 16))
        self.layer1 = nn.Sequential(Basic(16, 16, 1), Basic(16, 16, 1))
        self.layer2 = nn.Sequential(Basic(16, 32, 2), Basic(32, 32, 1))
        self.layer3 = nn.Sequential(Basic(32, 64, 2))
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


ARCH = {"vgg": VGG, "resnet": ResNet}


def make(arch, classes):
    return ARCH[arch](classes)


def params(model):
    """Parameters in the torch sense (weights, biases, BN scale and shift; not running stats)."""
    return sum(p.numel() for p in model.parameters())
