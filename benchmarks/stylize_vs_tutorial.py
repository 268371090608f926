"""Seconds per iteration of ``neural_style.stylize`` against the PyTorch tutorial's implementation.

The baseline is the algorithm of the official PyTorch tutorial "Neural Transfer Using
PyTorch" written out plainly: an ``nn.Sequential`` of normalisation, the VGG layers
and loss modules inserted after the tapped layers, trimmed after the last loss,
``requires_grad_(False)`` on the network, and ``torch.optim.LBFGS`` on the input
image with a closure that clamps the image, zeroes the gradient and sums the losses.
Both use the same network weights, layers, images, size and optimiser (L-BFGS); each
timing covers the optimisation loop only (model set-up excluded), divided by the loss
evaluations made.

    python benchmarks/stylize_vs_tutorial.py                      # CPU, 256 px, shared VGG16
    python benchmarks/stylize_vs_tutorial.py --device cuda --size 512 --model vgg19 --weights torchvision

Prints both figures and the ratio neural-style / tutorial (lower is better).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.core.features import layer_names, parse_layers  # noqa: E402
from neural_style.core.weights import load_weights  # noqa: E402
from neural_style.io.images import resize_long_side, resize_to, to_tensor  # noqa: E402
from neural_style.settings import StylizeSettings  # noqa: E402
from neural_style.style_transfer.gatys import run_stylize  # noqa: E402

SHARED = ROOT.parent / "shared"


# ---- the tutorial, written out plainly -------------------------------------------------
class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        self.loss = F.mse_loss(gram_matrix(input), self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean.to(img)) / self.std.to(img)


def tutorial_model(cnn, names, style_img, content_img, content_layers, style_layers):
    model = nn.Sequential(Normalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
    content_losses, style_losses = [], []
    for name, layer in zip(names, cnn.children()):
        if isinstance(layer, nn.ReLU):
            layer = nn.ReLU(inplace=False)  # as the tutorial: in-place ReLUs break the loss taps
        model.add_module(name, layer)
        if name in content_layers:
            loss = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = StyleLoss(model(style_img).detach())
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], (ContentLoss, StyleLoss)):
            break
    return model[: i + 1], style_losses, content_losses


def run_tutorial(cnn, names, content_img, style_img, num_steps, content_layers, style_layers,
                 style_weight=1e6, content_weight=1):
    model, style_losses, content_losses = tutorial_model(cnn, names, style_img, content_img, content_layers,
                                                         style_layers)
    input_img = content_img.clone()
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    start = time.perf_counter()
    while run[0] < num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = sum(sl.loss for sl in style_losses) * style_weight
            content_score = sum(cl.loss for cl in content_losses) * content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            return loss
        optimizer.step(closure)
    if input_img.is_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / run[0]
# -----------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--content", default=str(SHARED / "images/content/tubingen.jpg"))
    p.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    p.add_argument("--weights", default=str(SHARED / "weights/vgg16-hed.pth"))
    p.add_argument("--model", default=None)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iterations", type=int, default=40, help="loss evaluations per timing")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each is kept")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()

    device = torch.device(args.device)
    weights = load_weights(args.weights, args.model, progress=False)
    model = weights.model
    content_layers = list(parse_layers(StylizeSettings.content_layers))
    style_layers = list(parse_layers(StylizeSettings.style_layers))

    from torchvision.models import vgg16, vgg19
    cnn = {"vgg16": vgg16, "vgg19": vgg19}[model]().features
    cnn.load_state_dict(weights.state)  # strict: every key checked
    cnn = cnn.to(device).eval()
    content = resize_long_side(to_tensor(args.content), args.size).to(device)
    # The tutorial needs style and content of one size (the style goes through the content loss taps).
    style = resize_to(to_tensor(args.style), tuple(content.shape[-2:])).to(device)

    ours, ours_fp32, theirs = [], [], []
    for _ in range(args.rounds):
        theirs.append(run_tutorial(cnn, layer_names(model), content, style, args.iterations, content_layers, style_layers))
        for precision, times in (("auto", ours), ("fp32", ours_fp32)):
            result = run_stylize(content, style, weights=args.weights, model=args.model, size=None,
                                 iterations=args.iterations, device=device, precision=precision,
                                 download_progress=False)
            times.append(result.run.seconds / result.run.iterations)
            if precision == "auto":
                auto_precision = result.precision
    figures = {
        "device": str(device), "model": model, "size": list(content.shape[-2:]), "iterations": args.iterations,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "neural_style_s_per_it": min(ours), "tutorial_s_per_it": min(theirs), "ratio": min(ours) / min(theirs),
        "default_precision": auto_precision, "neural_style_fp32_s_per_it": min(ours_fp32),
        "ratio_fp32": min(ours_fp32) / min(theirs),
    }
    print(f"device {device} ({torch.get_num_threads()} threads), {model}, {content.shape[-1]}x{content.shape[-2]}, "
          f"{args.iterations} evaluations x {args.rounds} rounds")
    print(f"tutorial     {figures['tutorial_s_per_it']:.4f} s/iteration")
    print(f"neural-style {figures['neural_style_s_per_it']:.4f} s/iteration  (default: --precision auto = {auto_precision})")
    print(f"neural-style {figures['neural_style_fp32_s_per_it']:.4f} s/iteration  (--precision fp32)")
    print(f"ratio        {figures['ratio']:.3f}  (neural-style default / tutorial; target <= 0.8)")
    print(f"ratio fp32   {figures['ratio_fp32']:.3f}  (neural-style fp32 / tutorial)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
