"""Time and peak memory of denoise's TV and NLTV as the image grows: where ``regularizer="auto"`` stops
taking NLTV (``settings.denoise.AUTO_MAX_PIXELS``).

Each run is a fresh process (peak RSS by getrusage, the input included) on a colour ramp with noise of
sigma 0.1, sigma and lambda automatic; the ratio NLTV / TV is per size, from the same invocation.

With ``--restore blur`` or ``--restore mask``, restore's instead (``settings.restore``: the same limit):
a Gaussian blur of 1.6 px or half the pixels missing at random, at a fixed lambda (1e-3, sigma 2/255)
and ``--iterations`` per solve (NLTV: its TGV guide, its graph, then its solve), since a full automatic
restoration at 4 MP takes many minutes: the time ratio is per iteration budget, the memory the peak.

    python benchmarks/denoise_auto_size.py                    # 0.5, 1, 2 and 4 megapixels
    python benchmarks/denoise_auto_size.py --sides 724,1000
    python benchmarks/denoise_auto_size.py --sides 2000 --restore blur
"""

import argparse
import subprocess
import sys

#: The input every child makes: a colour ramp of side ``side`` with noise of sigma 0.1 (seed 0).
RAMP = """
import resource, sys, time, torch
side, regularizer = int(sys.argv[1]), sys.argv[2]
g = torch.Generator().manual_seed(0)
ramp = torch.linspace(0, 1, side)[None, None, None, :].expand(1, 3, side, side)
x = (ramp + 0.1 * torch.randn(1, 3, side, side, generator=g)).contiguous()
"""
CHILD = RAMP + """
from neural_style.denoising.solver import run_denoise
start = time.perf_counter()
run_denoise(x, regularizer=regularizer)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
CHILD_RESTORE = RAMP + """
from neural_style.denoising.degradation import Degradation
from neural_style.denoising.kernels import kernel_from_spec
from neural_style.denoising.restore import run_restore
kind, iterations = sys.argv[3], int(sys.argv[4])
x = x.clamp(0, 1)
if kind == "blur":
    degradation = Degradation(kernel=kernel_from_spec("gaussian:1.6"))
    y = x[..., 6:-6, 6:-6] + 2 / 255 * torch.randn(1, 3, side - 12, side - 12, generator=g)
else:
    known = torch.rand(side, side, generator=g) > 0.5
    degradation, y = Degradation(known=known), x * known
start = time.perf_counter()
run_restore(y, degradation, regularizer=regularizer, tv_weight=1e-3, sigma=2 / 255, iterations=iterations)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", default="724,1000,1414,2000", type=lambda s: [int(v) for v in s.split(",")])
    parser.add_argument("--restore", choices=("blur", "mask"), default=None, help="restore's, not denoise's")
    parser.add_argument("--iterations", type=int, default=60, help="per solve, with --restore")
    args = parser.parse_args()
    for side in args.sides:
        runs = {}
        for regularizer in ("tv", "nltv"):
            command = [sys.executable, "-c", CHILD, str(side), regularizer] if args.restore is None else [
                sys.executable, "-c", CHILD_RESTORE, str(side), regularizer, args.restore, str(args.iterations)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
            runs[regularizer] = (float(out[0]), float(out[1]))
        (tv_s, tv_mb), (nl_s, nl_mb) = runs["tv"], runs["nltv"]
        print(f"{side}x{side}x3 ({side * side / 1e6:.2f} MP): tv {tv_s:.1f} s {tv_mb:.0f} MiB, nltv {nl_s:.1f} s "
              f"{nl_mb:.0f} MiB, time ratio {nl_s / tv_s:.2f}", flush=True)


if __name__ == "__main__":
    main()
