"""Temporal consistency of stylize on clips: the warping error of Lai et al. (2018) and the style loss
per frame, independent frames against Ruder et al.'s temporal loss, in one run.

Clips (all made here or read from ../shared/video, downscaled for a CPU):
- pan, zoom, rotate: a Kodak photo moved by a known affine motion per frame, so the flow is exact;
- object: a square of one photo sliding over another photo that pans the other way (disocclusions
  behind the square; exact flows, the mask from the forward-backward check of those flows);
- bikes, bunny: the first frames of ../shared/video/bikes.mp4 and bigbuckbunny.mp4 (flow: DIS on the
  input frames, as the method uses).

For each clip: ``independent`` (--temporal-weight 0: every frame from its content with the first
frame's iterations, what a user gets running stylize per frame) and ``temporal`` (the default
--temporal-weight, or each of --weights; later frames with --iterations). Printed per clip and run:
the warping error (mean over consecutive frame pairs of the masked mean squared difference between
output t and output t-1 warped by the input's flow, [0, 1] scale), its ratio to independent frames,
the mean style loss per frame and its ratio, and the mean seconds of later frames over the first's.

    python benchmarks/video_consistency.py                       # all clips, 128 px, 10 frames
    python benchmarks/video_consistency.py --clips pan --frames 6 --size 96 --weights 10,50,200

--models PLAIN.pth,TEMPORAL.pth: instead of stylize, two fast networks of the same training, without
and with ``train --temporal-weight``, applied frame by frame (``transfer``); the same metric, and the
style loss of each output frame under the networks' own training objective (style from the model
file, VGG16 from ../shared/weights).

Needs ../shared/weights/vgg16-hed.pth (real VGG features), PyAV and OpenCV (the video extra).
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.io.video import read_video  # noqa: E402
from neural_style.settings import TEMPORAL_WEIGHT, StylizeSettings, VideoSettings  # noqa: E402
from neural_style.video.flow import consistency_mask, optical_flow, warping_error  # noqa: E402
from neural_style.video.stylize import frame_path, stylize_clip  # noqa: E402

SHARED = ROOT.parent / "shared"
WEIGHTS = SHARED / "weights" / "vgg16-hed.pth"
STYLE = ROOT / "examples" / "inputs" / "starry_night.jpg"


def _photo(name: str) -> torch.Tensor:
    image = Image.open(SHARED / "denoise" / "Kodak24" / name).convert("RGB")
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None].float() / 255


def _affine_frames(base: torch.Tensor, matrices, size):
    """Frames ``frame_t(p) = base(A_t p)`` (normalised coordinates), the exact backward flows t -> t-1 and the
    consistency masks of the exact forward and backward flows."""
    h, w = size
    frames, flows = [], []
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)], -1)  # (H, W, 3)
    for a in matrices:
        grid = points @ torch.tensor(a, dtype=torch.float32).T
        frames.append(F.grid_sample(base, grid[None], mode="bicubic", align_corners=True).clamp(0, 1))
    def flow(a, b):  # frame_a(p) = frame_b(q) with A_b q = A_a p
        full = lambda m: np.vstack([m, [0, 0, 1]])  # noqa: E731
        q = points @ torch.tensor(np.linalg.solve(full(b), full(a))[:2], dtype=torch.float32).T
        return torch.stack([(q[..., 0] - xs) * (w - 1) / 2, (q[..., 1] - ys) * (h - 1) / 2])[None]

    masks = []
    for before, now in zip(matrices, matrices[1:]):
        flows.append(flow(now, before))
        masks.append(consistency_mask(flow(before, now), flows[-1]))
    return frames, flows, masks


def make_affine(kind: str, n: int, size):
    base = _photo({"pan": "kodim05.png", "zoom": "kodim08.png", "rotate": "kodim13.png"}[kind])
    matrices = []
    for t in range(n):
        if kind == "pan":
            s, angle, shift = 0.6, 0.0, (-0.3 + 0.6 * t / max(n - 1, 1), 0.0)
        elif kind == "zoom":
            s, angle, shift = 0.75 - 0.25 * t / max(n - 1, 1), 0.0, (0.0, 0.0)
        else:
            s, angle, shift = 0.6, math.radians(15 * t / max(n - 1, 1)), (0.0, 0.0)
        c, si = math.cos(angle) * s, math.sin(angle) * s
        matrices.append([[c, -si, shift[0]], [si, c, shift[1]]])
    return _affine_frames(base, matrices, size)


def make_object(n: int, size):
    """A 0.35-size square of kodim23 moving right over kodim03 panning left: exact flows; the mask from
    the forward-backward check of the exact flows (disocclusions behind the square)."""
    h, w = size
    back = F.interpolate(_photo("kodim03.png"), size=(h, w + 2 * n), mode="bilinear", align_corners=False)
    side = int(0.35 * h)
    square = F.interpolate(_photo("kodim23.png"), size=(side, side), mode="bilinear", align_corners=False)
    frames, positions = [], []
    for t in range(n):
        frame = back[..., :, 2 * n - 2 * t: 2 * n - 2 * t + w].clone()  # background pans: content moves right 2 px
        x0, y0 = 4 + 4 * t, h // 3
        frame[..., y0:y0 + side, x0:x0 + side] = square
        frames.append(frame)
        positions.append((x0, y0))
    backward, forward = [], []
    for t in range(1, n):
        b = torch.zeros(1, 2, h, w)
        b[:, 0] = -2.0  # background: frame_t(p) = frame_{t-1}(p - 2)
        x0, y0 = positions[t]
        b[:, 0, y0:y0 + side, x0:x0 + side] = -4.0  # the square moved 4 px right
        f = torch.zeros(1, 2, h, w)
        f[:, 0] = 2.0
        x1, y1 = positions[t - 1]
        f[:, 0, y1:y1 + side, x1:x1 + side] = 4.0
        backward.append(b)
        forward.append(f)
    masks = [consistency_mask(f, b) for f, b in zip(forward, backward)]
    return frames, backward, masks


def read_real(name: str, n: int, long_side: int):
    clip = read_video(SHARED / "video" / name, max_frames=n)
    frames = []
    for array in clip.frames:
        image = Image.fromarray(array)
        scale = long_side / max(image.size)
        image = image.resize((round(image.width * scale) // 2 * 2, round(image.height * scale) // 2 * 2),
                             Image.LANCZOS)
        frames.append(torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None].float() / 255)
    return frames, None, None


def _uint8(frame: torch.Tensor) -> np.ndarray:
    return (frame[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def flows_and_masks(frames, flows, masks):
    """Input flows (exact where known, else DIS) and consistency masks for frames 1..N-1."""
    arrays = [_uint8(f) for f in frames]
    if flows is None:
        flows = [optical_flow(arrays[t], arrays[t - 1]) for t in range(1, len(arrays))]
    if masks is None:
        forward = [optical_flow(arrays[t - 1], arrays[t]) for t in range(1, len(arrays))]
        masks = [consistency_mask(f, b) for f, b in zip(forward, flows)]
    return flows, masks


def run(clip_file: Path, count: int, out: Path, temporal_weight: float, args):
    settings = StylizeSettings(size=None, iterations=args.iterations if temporal_weight else args.first_iterations,
                               weights=str(WEIGHTS), precision="fp32", seed=0)
    video = VideoSettings(temporal_weight=temporal_weight, first_frame_iterations=args.first_iterations)
    start = time.perf_counter()
    result = stylize_clip(clip_file, [STYLE], str(out) + "/", settings, video)
    seconds = time.perf_counter() - start
    outputs = [torch.from_numpy(np.asarray(Image.open(frame_path(out, i))).copy()).permute(2, 0, 1)[None].float()
               / 255 for i in range(count)]
    style = [r.losses["style"] for r in result.frames]
    times = [r.seconds for r in result.frames]
    return outputs, float(np.mean(style)), float(np.mean(times[1:]) / times[0]), seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clips", default="pan,zoom,rotate,object,bikes,bunny")
    p.add_argument("--frames", type=int, default=10)
    p.add_argument("--size", type=int, default=128, help="long side of the frames")
    p.add_argument("--weights", default=str(TEMPORAL_WEIGHT), help="temporal weights to compare (comma-separated)")
    p.add_argument("--iterations", type=int, default=None, help="later frames' iterations [the default]")
    p.add_argument("--first-iterations", type=int, default=300)
    p.add_argument("--models", default=None, help="PLAIN.pth,TEMPORAL.pth: compare two fast networks instead")
    args = p.parse_args()
    if not WEIGHTS.is_file():
        sys.exit(f"needs {WEIGHTS}")
    from neural_style.settings import VIDEO_ITERATIONS

    args.iterations = args.iterations or VIDEO_ITERATIONS
    h = args.size * 2 // 3 // 2 * 2
    print(f"frames {args.frames}, {args.size} px, first frame {args.first_iterations} iterations, later "
          f"{args.iterations}; independent frames: {args.first_iterations} each; torch threads "
          f"{torch.get_num_threads()}", flush=True)
    print(f"{'clip':8} {'run':16} {'warp err':>9} {'ratio':>6} {'style':>8} {'ratio':>6} {'later/first s':>13} "
          f"{'total s':>8}", flush=True)
    summary = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for name in args.clips.split(","):
            if name in ("pan", "zoom", "rotate"):
                frames, flows, masks = make_affine(name, args.frames, (h, args.size))
            elif name == "object":
                frames, flows, masks = make_object(args.frames, (h, args.size))
            else:
                frames, flows, masks = read_real({"bikes": "bikes.mp4", "bunny": "bigbuckbunny.mp4"}[name],
                                                 args.frames, args.size)
            flows, masks = flows_and_masks(frames, flows, masks)
            if args.models:
                summary += compare_models(name, frames, flows, masks, args.models.split(","))
                continue
            clip_file = _lossless(work, name, frames)
            base = None
            for weight in [0.0] + [float(w) for w in args.weights.split(",")]:
                outputs, style, later, seconds = run(clip_file, len(frames), work / f"{name}-{weight:g}", weight,
                                                     args)
                error = warping_error(outputs, flows, masks)
                if base is None:
                    base = (error, style)
                label = "independent" if weight == 0 else f"temporal {weight:g}"
                print(f"{name:8} {label:16} {error:9.5f} {error / base[0]:6.2f} {style:8.4f} {style / base[1]:6.2f} "
                      f"{later:13.2f} {seconds:8.1f}", flush=True)
                summary.append((name, weight, error / base[0], style / base[1], later))
    if args.models:
        rows = [r for r in summary if r[1] == "temporal"]
        print(f"temporal network: warping error {np.mean([r[2] for r in rows]):.2f}x the plain network's (max "
              f"{max(r[2] for r in rows):.2f}), style loss {np.mean([r[3] for r in rows]):.2f}x (max "
              f"{max(r[3] for r in rows):.2f}) [targets: <= 0.5x, within 10%]", flush=True)
        return
    for weight in sorted({w for _, w, *_ in summary if w}):
        rows = [r for r in summary if r[1] == weight]
        print(f"temporal {weight:g}: warping error {np.mean([r[2] for r in rows]):.2f}x independent (max "
              f"{max(r[2] for r in rows):.2f}), style loss {np.mean([r[3] for r in rows]):.2f}x (max "
              f"{max(r[3] for r in rows):.2f}), later frames {np.mean([r[4] for r in rows]):.2f}x the first's time "
              f"(max {max(r[4] for r in rows):.2f}) [targets: <= 0.3x, <= 1.1x, <= 0.6x]", flush=True)


def compare_models(name, frames, flows, masks, paths):
    """Warping error and style loss of two networks' outputs on ``frames``: rows (clip, label, ratios)."""
    from neural_style.fast.model_file import load_model
    from neural_style.fast.training import training_objective
    from neural_style.settings import TrainSettings

    rows, base = [], None
    for label, path in zip(("plain", "temporal"), paths):
        net, meta = load_model(path)
        settings = TrainSettings(**{**meta["settings"], "weights": str(WEIGHTS)})
        objective = training_objective(meta["style"], settings, download_progress=False)
        with torch.no_grad():
            outputs = [net(f).clamp(0, 1) for f in frames]
            style = float(np.mean([objective(y, objective.content_targets(x))["style"].item()
                                   for x, y in zip(frames, outputs)]))
        outputs = [torch.from_numpy(_uint8(y).copy()).permute(2, 0, 1)[None].float() / 255 for y in outputs]
        error = warping_error(outputs, flows, masks)
        base = base or (error, style)
        print(f"{name:8} {label + ' network':16} {error:9.5f} {error / base[0]:6.2f} {style:8.4f} "
              f"{style / base[1]:6.2f}", flush=True)
        rows.append((name, label, error / base[0], style / base[1], 0.0))
    return rows


def _lossless(work: Path, name: str, frames) -> Path:
    """The clip as an APNG (lossless: the benchmark measures stylize, not the video codec)."""
    images = [Image.fromarray(_uint8(f)) for f in frames]
    path = work / f"{name}.png"
    images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    return path


if __name__ == "__main__":
    main()
