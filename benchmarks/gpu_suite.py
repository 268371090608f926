"""GPU figures for stylize (run where a GPU is lent; about 8 minutes on one H200).

1. 512 px, 500 L-BFGS iterations, VGG19 (random weights: timing only; no download there) at
   each precision: wall time, peak GPU memory, final total loss.
2. Seconds per objective evaluation + backward at 1024 px for fp32, bf16, fp16, each also with
   channels_last, and bf16 under torch.compile; the fastest whose loss stays within 1% of fp32.
3. 2048 and 4096 px coarse to fine (scales auto, the default schedule): wall time, peak memory.

    python benchmarks/gpu_suite.py --json $OUT/gpu.json            # on the GPU
    python benchmarks/gpu_suite.py --device cpu --tiny              # dry run here, tiny sizes
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.core.features import layer_names  # noqa: E402
from neural_style.core.objective import PerceptualObjective, load_loss_network  # noqa: E402
from neural_style.core.weights import features_keys  # noqa: E402
from neural_style.style_transfer.gatys import run_stylize  # noqa: E402

CONTENT, STYLE = ROOT / "examples/inputs/kodim23.jpg", ROOT / "examples/inputs/starry_night.jpg"


def random_vgg19(path: Path) -> Path:
    g = torch.Generator().manual_seed(0)
    state = {f"features.{k}": (torch.randn(s, generator=g) * (2 / (s[1] * 9)) ** 0.5 if k.endswith("weight")
                               else torch.zeros(s)) for k, s in features_keys("vgg19").items()}
    torch.save(state, path)
    return path


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def peak(device):
    return torch.cuda.max_memory_allocated() / 2**30 if torch.device(device).type == "cuda" else None


def reset(device):
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()


def full_runs(args, weights, precisions):
    rows = []
    for precision in precisions:
        reset(args.device)
        start = time.perf_counter()
        r = run_stylize(CONTENT, STYLE, size=args.small, iterations=args.iterations, weights=weights,
                        precision=precision, device=args.device, scales="none", download_progress=False)
        sync(args.device)
        rows.append({"test": f"{args.small}px x {args.iterations}", "precision": precision,
                     "seconds": time.perf_counter() - start, "peak_gib": peak(args.device),
                     "total": r.final_losses["total"]})
        print(rows[-1], flush=True)
    return rows


def variants(args, weights):
    """Seconds per evaluation + backward of the objective, per precision/layout/compile variant."""
    rows, device = [], torch.device(args.device)
    x0 = torch.rand(1, 3, args.mid, args.mid, generator=torch.Generator().manual_seed(1)).to(device)
    for name, dtype, layout, compiled in [("fp32", None, False, False), ("bf16", torch.bfloat16, False, False),
                                          ("fp16", torch.float16, False, False),
                                          ("fp32+cl", None, True, False), ("bf16+cl", torch.bfloat16, True, False),
                                          ("fp16+cl", torch.float16, True, False),
                                          ("bf16+compile", torch.bfloat16, False, True)]:
        if device.type == "cpu" and dtype is torch.float16:
            continue
        net = load_loss_network("relu4_2", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", weights=weights,
                                device=device, autocast=dtype)
        if layout:
            net.extractor.to(memory_format=torch.channels_last)
        objective = PerceptualObjective(net, [x0.flip(-1)], [1.0], content_weight=1, style_weight=5, tv_weight=2,
                                        tv_beta=2)
        if compiled:
            objective.extractor = torch.compile(objective.extractor)
        targets = objective.content_targets(x0.flip(-2))
        x = (x0.contiguous(memory_format=torch.channels_last) if layout else x0).clone().requires_grad_(True)
        times = []
        for _ in range(args.repeats + 2):
            sync(device)
            start = time.perf_counter()
            terms = objective(x, targets)
            terms["total"].backward()
            sync(device)
            times.append(time.perf_counter() - start)
            x.grad = None
        rows.append({"test": f"evaluation {args.mid}px", "variant": name, "s_per_eval": min(times[2:]),
                     "total": float(terms["total"].detach())})
        print(rows[-1], flush=True)
    base = rows[0]["total"]
    ok = [r for r in rows if abs(r["total"] - base) <= 0.01 * abs(base)]
    fastest = min(ok, key=lambda r: r["s_per_eval"])
    print(f"fastest within 1% of fp32: {fastest['variant']} ({fastest['s_per_eval'] / rows[0]['s_per_eval']:.2f}x "
          f"fp32's time)", flush=True)
    return rows, fastest["variant"]


def multiscale(args, weights, precision):
    rows = []
    for size in args.large:
        reset(args.device)
        start = time.perf_counter()
        r = run_stylize(CONTENT, STYLE, size=size, scales="auto", weights=weights, precision=precision,
                        device=args.device, download_progress=False,
                        iterations=None if not args.tiny else 2)
        sync(args.device)
        rows.append({"test": f"{size}px coarse to fine", "precision": precision, "seconds": time.perf_counter() - start,
                     "peak_gib": peak(args.device), "scales": [s.long_side for s in r.scales],
                     "tile_size": r.tile_size, "total": r.final_losses["total"]})
        print(rows[-1], flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--tiny", action="store_true", help="tiny sizes: a dry run on the CPU")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    args.small, args.iterations, args.mid, args.repeats, args.large = (
        (48, 5, 64, 2, [96, 128]) if args.tiny else (512, 500, 1024, 10, [2048, 4096]))
    with tempfile.TemporaryDirectory() as folder:
        weights = str(random_vgg19(Path(folder) / "vgg19-random.pth"))
        assert "relu5_1" in layer_names("vgg19")
        precisions = ["fp32", "bf16"] + (["fp16"] if torch.device(args.device).type == "cuda" else [])
        rows = full_runs(args, weights, precisions)
        evaluation, fastest = variants(args, weights)
        best_precision = fastest.split("+")[0]
        rows += evaluation + multiscale(args, weights, best_precision)
    if args.json:
        args.json.write_text(json.dumps({"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
                                         "torch": torch.__version__, "fastest": fastest, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
