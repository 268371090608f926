"""Blur by FFT or by direct convolution: which is faster at which kernel size (restore's choice).

For square kernels of growing side, on a colour and a grey image, times the forward and adjoint pass of
:class:`neural_style.denoising.operators.Blur` both ways (the fastest of --repeats, both in this process)
and prints the ratio direct / FFT and the kernel's taps (kh x kw): ``operators.DIRECT_MAX_TAPS`` is set from
the taps where the ratio crosses 1.

    python benchmarks/blur_fft_vs_direct.py
    python benchmarks/blur_fft_vs_direct.py --size 768x512 --repeats 5
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neural_style.denoising.kernels import box_kernel, motion_kernel  # noqa: E402
from neural_style.denoising.operators import Blur  # noqa: E402


def seconds(blur: Blur, x: torch.Tensor, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        blur.adjoint(blur.forward(x))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="768x512")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(f"torch threads {torch.get_num_threads()}, {width}x{height}")
    for channels in (3, 1):
        for name, kernel in [*((f"box:{n}", box_kernel(n)) for n in (3, 5, 7, 9, 11, 15)),
                             *((f"motion:{n},30", motion_kernel(n, 30)) for n in (5, 9, 15, 25))]:
            kernel = kernel.float()
            x = torch.rand(1, channels, height + kernel.shape[0] - 1, width + kernel.shape[1] - 1)
            direct = seconds(Blur(kernel, (height, width), fft=False), x, args.repeats)
            fft = seconds(Blur(kernel, (height, width), fft=True), x, args.repeats)
            taps = kernel.numel()  # a direct convolution visits every tap of the kernel's square
            print(f"C={channels} {name:>12} taps {taps:4d}: direct {direct * 1e3:7.2f} ms, FFT {fft * 1e3:7.2f} ms, "
                  f"direct/FFT {direct / fft:5.2f}", flush=True)


if __name__ == "__main__":
    main()
