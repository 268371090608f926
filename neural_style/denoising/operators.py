"""The linear degradations of image restoration, each with its adjoint: ``A = M . S . K``.

    y = A x + n,    A = M (a mask of known pixels) . S (antialiased downsampling) . K (blur)

Every operator maps (B, C, H_in, W_in) float tensors to (B, C, H_out, W_out) and has ``forward``
and ``adjoint`` (the transpose: ``<A x, y> = <x, A^T y>``, checked by the inner-product test in
tests/denoising/test_restore_operators.py for every operator and their chain).

- :class:`Blur`: convolution with a kernel, **with unknown boundaries**: x is larger than y by the
  kernel's size less one, and y keeps only the "valid" part of ``k * x``, the pixels whose every tap
  falls inside x (Almeida & Figueiredo 2013). No boundary condition is assumed, so nothing wraps
  around: a circular (FFT) model of a blur that did not wrap leaves a ringing band at the borders.
  The pixels beyond y's border are estimated with the rest, and cropped away. Computed by FFT or
  by direct convolution (:data:`DIRECT_MAX_TAPS`, measured by benchmarks/blur_fft_vs_direct.py):
  the circular convolution of x zero-padded to any size at least its own is exact on the valid part,
  so the FFT runs at the next even size whose only prime factors are 2, 3, 5 and 7 (:func:`fast_length`).
- :class:`Downsample`: the antialiased bicubic reduction of torch's
  ``F.interpolate(mode="bicubic", antialias=True, align_corners=False)``, the filter of Pillow's
  ``Image.resize(..., Image.BICUBIC)`` for reductions (Keys' cubic, a = -0.5, stretched by the factor),
  any factor. Written as two matrices, ``S x = R_h x R_w^T``, made by that function from the identity,
  so that the model is that function exactly.
- :class:`Mask`: keeps the known pixels (1) and zeroes the others (0); its own adjoint.

Reference:
    M. S. C. Almeida and M. A. T. Figueiredo, "Deconvolving images with unknown boundaries using the
    alternating direction method of multipliers", IEEE Trans. Image Processing 22(8), 2013.
"""

import functools
import math
from dataclasses import dataclass
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

#: Kernels up to this many taps (kh x kw) are applied by direct convolution, larger ones by FFT. Measured by
#: benchmarks/blur_fft_vs_direct.py (768x512, float32, 2 cores, one forward and adjoint pass): FFT was faster
#: from the smallest kernel on, 2.2x at 3 x 3 grey and 6.6x colour, 18-23x at 15 x 15; so only a 1 x 1
#: kernel (a plain scaling) runs directly.
DIRECT_MAX_TAPS = 1
#: The prime factors of the sizes the FFT runs at (:func:`fast_length`): pocketfft (torch's CPU FFT) and
#: cuFFT have kernels for them, while a size with a large prime factor takes Bluestein's algorithm. Measured
#: (float32, 3 channels, one rfft2 and irfft2, the fastest of 10, one thread): 526 x 782 (a 768 x 512 photo
#: under a 15 px kernel; 263 is prime) 15-18 ms, 540 x 784 4.5 ms; two threads: 262 x 262 1.46 ms, 270 x 270
#: 0.53 ms. The length is also even: with 3 channels, the fastest of 7, two threads, an odd length took 1.5-2.1x
#: the time per pixel of its even neighbours on the last axis (rfft2's real one: 7-smooth lengths 288-800 by
#: 256) and 1.0-1.5x on the first (525, 567 and 625 by 512): a 500 x 500 photo under a 15 px kernel, x 514 x
#: 514, ran at 525 x 525 in 4.5 ms and runs at 540 x 540 in 2.7 ms.
FFT_FACTORS = (2, 3, 5, 7)
#: Power iterations estimating an operator's squared norm, and the margin put on the estimate.
POWER_ITERATIONS, NORM_MARGIN = 30, 1.02

Shape = Tuple[int, int]


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, 1, *x.shape[-2:])


@dataclass(frozen=True)
class Blur:
    """Convolution with ``kernel`` keeping the valid part (module doc).

    Attributes:
        kernel: (kh, kw) float, odd sides, non-negative, summing to 1.
        out_shape: (H, W) of the blurred image y; x is (H + kh - 1, W + kw - 1).
        fft: apply by FFT (else direct convolution).
    """

    kernel: torch.Tensor
    out_shape: Shape
    fft: bool

    @property
    def in_shape(self) -> Shape:
        return (self.out_shape[0] + self.kernel.shape[0] - 1, self.out_shape[1] + self.kernel.shape[1] - 1)

    @property
    def margin(self) -> Shape:
        """(top, left): where y's first pixel sits in x (half the kernel's sides)."""
        return self.kernel.shape[0] // 2, self.kernel.shape[1] // 2

    @property
    def fft_shape(self) -> Shape:
        """(H, W) the FFT runs at: :func:`fast_length` of each side of x."""
        return fast_length(self.in_shape[0]), fast_length(self.in_shape[1])

    @functools.cached_property
    def _spectrum32(self) -> torch.Tensor:
        return torch.fft.rfft2(self.kernel.float(), s=self.fft_shape)

    def spectrum(self, like: torch.Tensor) -> torch.Tensor:
        """The rfft2 of the kernel at :attr:`fft_shape`, its first tap at (0, 0): ``irfft2(rfft2(x) * spectrum)``
        is x's circular convolution with the kernel, y's first pixel at (kh - 1, kw - 1). Kept for float32, made
        afresh for another dtype (the device is the kernel's)."""
        if like.dtype == torch.float32:
            return self._spectrum32
        return torch.fft.rfft2(self.kernel.to(like.dtype), s=self.fft_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh, kw = self.kernel.shape
        if self.fft:
            full = torch.fft.irfft2(torch.fft.rfft2(x, s=self.fft_shape) * self.spectrum(x), s=self.fft_shape)
            return full[..., kh - 1:self.in_shape[0], kw - 1:self.in_shape[1]]
        weight = self.kernel.flip(0, 1).to(x.dtype)[None, None]
        return F.conv2d(_flat(x), weight).view(*x.shape[:-2], *self.out_shape)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        kh, kw = self.kernel.shape
        if self.fft:
            (height, width), (fh, fw) = self.in_shape, self.fft_shape
            placed = F.pad(y, (kw - 1, fw - width, kh - 1, fh - height))
            full = torch.fft.irfft2(torch.fft.rfft2(placed) * self.spectrum(y).conj(), s=self.fft_shape)
            return full[..., :height, :width]
        weight = self.kernel.flip(0, 1).to(y.dtype)[None, None]
        return F.conv_transpose2d(_flat(y), weight).view(*y.shape[:-2], *self.in_shape)


def fast_length(n: int) -> int:
    """The smallest even length >= ``n`` whose only prime factors are :data:`FFT_FACTORS` (1 for 1)."""
    if n <= 1:
        return 1
    while True:
        rest = n
        for factor in FFT_FACTORS:
            while rest % factor == 0:
                rest //= factor
        if rest == 1 and n % 2 == 0:
            return n
        n += 1


def resampling_matrix(size_in: int, size_out: int, dtype=torch.float64) -> torch.Tensor:
    """(size_out, size_in): the antialiased bicubic resampling of one axis, as torch computes it.

    Row ``i`` holds the weights of output pixel ``i``: ``F.interpolate(..., mode="bicubic",
    antialias=True, align_corners=False)`` applied to the identity."""
    eye = torch.eye(size_in, dtype=dtype).view(size_in, 1, 1, size_in)
    return F.interpolate(eye, size=(1, size_out), mode="bicubic", antialias=True, align_corners=False)[:, 0, 0].T


@dataclass(frozen=True)
class Downsample:
    """Antialiased bicubic reduction from ``in_shape`` to ``out_shape`` (module doc).

    Attributes:
        rows: (H_out, H_in) float32, from :func:`resampling_matrix`.
        cols: (W_out, W_in) float32.
    """

    rows: torch.Tensor
    cols: torch.Tensor

    @classmethod
    def between(cls, in_shape: Shape, out_shape: Shape, device=None) -> "Downsample":
        """The reduction from ``in_shape`` to ``out_shape`` (H, W), its matrices on ``device``."""
        return cls(resampling_matrix(in_shape[0], out_shape[0]).to(device, torch.float32),
                   resampling_matrix(in_shape[1], out_shape[1]).to(device, torch.float32))

    @property
    def in_shape(self) -> Shape:
        return self.rows.shape[1], self.cols.shape[1]

    @property
    def out_shape(self) -> Shape:
        return self.rows.shape[0], self.cols.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows, cols = self.rows.to(x), self.cols.to(x)
        return rows @ x @ cols.T

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        rows, cols = self.rows.to(y), self.cols.to(y)
        return rows.T @ y @ cols


@dataclass(frozen=True)
class Mask:
    """Keeps the known pixels: ``known`` (1, 1, H, W) float, 1 known and 0 missing (every channel alike)."""

    known: torch.Tensor

    @property
    def in_shape(self) -> Shape:
        return tuple(self.known.shape[-2:])

    out_shape = in_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.known.to(x)

    adjoint = forward


@dataclass(frozen=True)
class Chain:
    """Operators applied in order (``ops[0]`` first): ``A = ops[-1] . ... . ops[0]``."""

    ops: Sequence

    @property
    def in_shape(self) -> Shape:
        return self.ops[0].in_shape

    @property
    def out_shape(self) -> Shape:
        return self.ops[-1].out_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.ops:
            x = op.forward(x)
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        for op in reversed(self.ops):
            y = op.adjoint(y)
        return y


def norm2(op, channels: int = 1, device=None) -> float:
    """An upper estimate of ``||A||^2`` (the largest eigenvalue of ``A^T A``) by power iteration from a
    seeded random start (made on the CPU, then moved to ``device``), times :data:`NORM_MARGIN` (0 for an
    operator that zeroes everything)."""
    x = torch.randn(1, channels, *op.in_shape, generator=torch.Generator().manual_seed(0)).to(device)
    value = 0.0
    for _ in range(POWER_ITERATIONS):
        x = op.adjoint(op.forward(x))
        value = float(x.norm())
        if value == 0 or not math.isfinite(value):
            return 0.0
        x = x / value
    return NORM_MARGIN * value


def use_fft(kernel: torch.Tensor) -> bool:
    """Whether a blur by ``kernel`` runs by FFT: more than :data:`DIRECT_MAX_TAPS` taps (kh x kw, zeros
    included: a direct convolution visits every one)."""
    return kernel.numel() > DIRECT_MAX_TAPS
