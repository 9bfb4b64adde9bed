#!/usr/bin/env python3
"""Make reference models with PyTorch and export them to ONNX (and safetensors).

    python3 scripts/make_torch_models.py --out /tmp/models [--exporter legacy|dynamo]

Writes vgg.onnx (conv-BN-ReLU stages, flatten into linear), resnet.onnx (basic blocks with
identity and projection shortcuts), concat.onnx (inception-style branches), depthwise.onnx
(MobileNet-style separable blocks), plus vgg.safetensors (a plain sequential state_dict).
BN is folded into the convs by the legacy exporter in eval mode, kept by dynamo: both
are what users send. Seeded: the same command writes the same weights.
"""
import argparse
import os

import torch
import torch.nn as nn


def vgg():
    layers, c = [], 3
    for w in (16, 32, 64):
        layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
        c = w
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


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
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(Basic(16, 16, 1), Basic(16, 16, 1))
        self.layer2 = nn.Sequential(Basic(16, 32, 2), Basic(32, 32, 1))
        self.layer3 = nn.Sequential(Basic(32, 64, 2))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.b1 = nn.Conv2d(16, 8, 1)
        self.b2 = nn.Sequential(nn.Conv2d(16, 8, 1), nn.ReLU(), nn.Conv2d(8, 12, 3, padding=1))
        self.mix = nn.Conv2d(20, 24, 3, stride=2, padding=1)
        self.fc = nn.Linear(24 * 16 * 16, 10)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = torch.cat([torch.relu(self.b1(x)), torch.relu(self.b2(x))], 1)
        x = torch.relu(self.mix(x))
        return self.fc(x.view(x.size(0), -1))


def depthwise():
    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]
    return nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
                         *block(16, 32, 1), *block(32, 64, 2), *block(64, 64, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


MODELS = {"vgg": vgg, "resnet": ResNet, "concat": Concat, "depthwise": depthwise}


def randomize_bn(model, gen):
    # Fresh BN layers are the identity; give them statistics so that BN handling is tested.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.rand(m.num_features, generator=gen) + 0.5
            m.bias.data = torch.randn(m.num_features, generator=gen) * 0.1
            m.running_mean = torch.randn(m.num_features, generator=gen) * 0.1
            m.running_var = torch.rand(m.num_features, generator=gen) + 0.5


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--exporter", choices=["legacy", "dynamo"], default="legacy")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, make in MODELS.items():
        torch.manual_seed(args.seed)
        model = make()
        randomize_bn(model, torch.Generator().manual_seed(args.seed))
        model.eval()
        x = torch.randn(1, 3, 32, 32)
        path = os.path.join(args.out, f"{name}.onnx")
        torch.onnx.export(model, (x,), path, dynamo=args.exporter == "dynamo", input_names=["input"],
                          output_names=["logits"], opset_version=17 if args.exporter == "legacy" else None,
                          **({"external_data": False} if args.exporter == "dynamo" else {}))
        print("wrote", path)
        if name == "vgg":
            from safetensors.torch import save_file
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(args.out, "vgg.safetensors"))
            print("wrote", os.path.join(args.out, "vgg.safetensors"))


if __name__ == "__main__":
    main()
