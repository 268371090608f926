"""Fast style networks: neural-style against pytorch/examples' fast_neural_style, in one run.

- Inference: seconds per 1024x1024 image through neural-style's TransformerNet against the
  pytorch/examples TransformerNet written out plainly below (same widths, 5 residual
  blocks, nearest upsampling + conv), both in eval mode under no_grad.
- Training: images per second of neural-style's Trainer.train_step against a plain training
  loop as in pytorch/examples (transformer forward, VGG16 features of output and input up
  to relu4_3, MSE content loss at relu2_2, Gram style losses, Adam), same batch size, image
  size and VGG weights.

    python benchmarks/fast_style_vs_examples.py            # CPU, shared VGG16
Prints both figures and the ratios (inference: neural-style / examples, target <= 1.0;
training: neural-style / examples images per second, target >= 1.0).
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.core.weights import load_weights  # noqa: E402
from neural_style.fast.training import Trainer  # noqa: E402
from neural_style.fast.transfer import apply_model  # noqa: E402
from neural_style.fast.transformer import TransformerNet  # noqa: E402
from neural_style.io.images import resize_long_side, to_tensor  # noqa: E402
from neural_style.settings import TrainSettings  # noqa: E402

SHARED = ROOT.parent / "shared"


# ---- pytorch/examples fast_neural_style, written out plainly -----------------------------
class ConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        return self.conv(self.pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.in1 = ConvLayer(c, c, 3, 1), nn.InstanceNorm2d(c, affine=True)
        self.conv2, self.in2 = ConvLayer(c, c, 3, 1), nn.InstanceNorm2d(c, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        return x + self.in2(self.conv2(self.relu(self.in1(self.conv1(x)))))


class UpsampleConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel, stride, upsample):
        super().__init__()
        self.upsample = upsample
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        x = nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv(self.pad(x))


class ExamplesTransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.in1 = ConvLayer(3, 32, 9, 1), nn.InstanceNorm2d(32, affine=True)
        self.conv2, self.in2 = ConvLayer(32, 64, 3, 2), nn.InstanceNorm2d(64, affine=True)
        self.conv3, self.in3 = ConvLayer(64, 128, 3, 2), nn.InstanceNorm2d(128, affine=True)
        self.res = nn.Sequential(*[ResidualBlock(128) for _ in range(5)])
        self.deconv1, self.in4 = UpsampleConvLayer(128, 64, 3, 1, 2), nn.InstanceNorm2d(64, affine=True)
        self.deconv2, self.in5 = UpsampleConvLayer(64, 32, 3, 1, 2), nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


class ExamplesVgg16(nn.Module):
    """Slices of VGG16 up to relu1_2, relu2_2, relu3_3, relu4_3."""

    def __init__(self, state):
        super().__init__()
        from torchvision.models import vgg16

        features = vgg16().features
        features.load_state_dict(state)
        self.slices = nn.ModuleList([features[:4], features[4:9], features[9:16], features[16:23]])
        self.requires_grad_(False)

    def forward(self, x):
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out


def examples_gram(y):
    b, ch, h, w = y.size()
    features = y.view(b, ch, w * h)
    return features.bmm(features.transpose(1, 2)) / (ch * h * w)
# -------------------------------------------------------------------------------------------


def time_it(fn, repeats):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", default=str(SHARED / "weights/vgg16-hed.pth"))
    p.add_argument("--style", default=str(ROOT / "examples/inputs/starry_night.jpg"))
    p.add_argument("--dataset", default=str(SHARED / "train/photos"))
    p.add_argument("--size", type=int, default=1024, help="inference image side")
    p.add_argument("--image-size", type=int, default=128, help="training image size")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=5, help="training steps per timing")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.manual_seed(0)

    # inference
    x = torch.rand(1, 3, args.size, args.size)
    ours, theirs = TransformerNet().eval(), ExamplesTransformerNet().eval()
    with torch.no_grad():
        t_theirs = time_it(lambda: theirs(x * 255), args.repeats)
        t_ours = time_it(lambda: apply_model(ours, x), args.repeats)  # what `transfer` runs
    print(f"inference {args.size}x{args.size}: examples {t_theirs:.3f} s, neural-style {t_ours:.3f} s, "
          f"ratio {t_ours / t_theirs:.3f} (target <= 1.0)")

    # training
    config = TrainSettings(image_size=args.image_size, batch_size=args.batch_size, iterations=10**9,
                         weights=args.weights, model="vgg16")
    trainer = Trainer(args.style, args.dataset, config, download_progress=False)
    batch = trainer.next_batch()
    vgg = ExamplesVgg16(load_weights(args.weights, "vgg16").state)
    net = ExamplesTransformerNet()
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        style = resize_long_side(to_tensor(args.style), args.image_size)
        gram_style = [examples_gram(f) for f in vgg((style - mean) / std)]

    def plain_step():
        for _ in range(args.steps):
            optimizer.zero_grad()
            y = net(batch * 255) / 255
            features_y = vgg((y - mean) / std)
            features_x = vgg((batch - mean) / std)
            content = 1e5 * nn.functional.mse_loss(features_y[1], features_x[1])
            style_loss = sum(nn.functional.mse_loss(examples_gram(fy), gs.expand(len(batch), -1, -1))
                             for fy, gs in zip(features_y, gram_style))
            (content + 1e10 * style_loss).backward()
            optimizer.step()

    def our_step():
        for _ in range(args.steps):
            trainer.train_step()

    t_plain = time_it(plain_step, args.repeats)
    t_ours = time_it(our_step, args.repeats)
    ips_plain = args.steps * args.batch_size / t_plain
    ips_ours = args.steps * args.batch_size / t_ours
    print(f"training {args.image_size} px, batch {args.batch_size}: examples {ips_plain:.2f} images/s, "
          f"neural-style {ips_ours:.2f} images/s, ratio {ips_ours / ips_plain:.3f} (target >= 1.0)")


if __name__ == "__main__":
    main()
