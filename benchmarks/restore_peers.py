"""Test data, degradations and peer restorers for benchmarks/restore_vs_peers.py (the method section).

Images are float64 numpy arrays in [0, 1]: (H, W) grey or (H, W, 3) colour. Every random draw uses
``numpy.random.default_rng(seed)`` (seed 0 unless told), drawn over the whole image array at once.

Test data
---------
``load_set(name, half)`` reads ../shared/denoise/<name>/*.png in sorted order: Set12 (12 grey PNGs
01..12, 256x256 and 512x512) or Kodak24 (24 colour PNGs kodim01..kodim24), as 8-bit / 255. ``half``
"first" is the first half of the sorted files (Set12 01-06, Kodak24 kodim01-12), used for tuning;
"second" is the rest, held out; "all" is every file.

Degradations
------------
- Blur: ``blur(clean, kernel, noise_sigma_255, seed)`` is the true convolution of each channel with
  the kernel (``scipy.ndimage.convolve``: the kernel is flipped, its centre is element
  (size // 2, size // 2)) with ``mode="reflect"`` boundary (half-sample symmetric: d c b a | a b c d)
  over the full image, so the blurred image has the clean image's size and no dark frame; then white
  Gaussian noise N(0, (noise_sigma_255 / 255)^2) is added. The result is neither rounded nor clipped.
  Kernels (all sum to 1, odd square size):
  ``gaussian_kernel(sigma)``: exp(-(x^2 + y^2) / (2 sigma^2)) sampled at the integer offsets of a
  (2 ceil(3 sigma) + 1)^2 grid, normalised;
  ``motion_kernel(length, angle_degrees)``: a segment of ``length`` pixels (from -(length - 1) / 2 to
  +(length - 1) / 2 along the direction angle_degrees, counter-clockwise from the +x axis with y up,
  i.e. row offset = -t sin(angle)) through the centre, sampled every 1/16 pixel with equal weights and
  each sample bilinearly splatted onto its four neighbouring pixels (antialiasing), the all-zero outer
  rings trimmed. The segment's ends fall on pixel centres, so a horizontal or vertical odd length
  covers exactly `length` pixels with relative weights 1/2, 1, ..., 1, 1/2 (the bilinear tent at the
  ends), e.g. length 5 at 0 degrees: (0.131, 0.246, 0.246, 0.246, 0.131) in the middle row of a 5 x 5;
  ``box_kernel(size)``: size x size of 1 / size^2 (size odd).
- Inpainting: ``random_mask(shape_hw, missing_fraction, seed)`` marks exactly
  round(missing_fraction * H * W) pixels, chosen uniformly without replacement, as unknown;
  ``text_mask(shape_hw, seed)`` draws lines of random words (from a fixed list, chosen by the seed)
  in DejaVuSans-Bold 24 px (strokes about 4 px wide) with Pillow's ImageDraw, a line every 40 px
  starting at a random x offset and a random y phase, and marks the pixels with ink (> 127 of 255) as
  unknown: about 16-18% of the pixels at 128 to 512 px sizes (LiberationSans-Bold, else Pillow's
  default font at 24 px, where DejaVu is missing).
  Both return a bool array, True = known. ``inpaint_input(clean, known)`` is the clean image with the
  unknown pixels (all channels) set to 0; no noise.
- Super-resolution: ``downsample(clean, factor)`` first crops H and W (from the bottom and right) to
  multiples of the integer factor, then reduces with ``torch.nn.functional.interpolate(size=(H /
  factor, W / factor), mode="bicubic", antialias=True, align_corners=False)`` on the (1, C, H, W)
  float64 tensor: the bicubic kernel with a = -0.5 stretched by the factor (an antialiasing
  prefilter), which equals Pillow's BICUBIC reduction to float32 precision. The small image is not
  clipped (slight overshoot). ``add_noise(image, sigma_255, seed)`` adds noise separately.
- ``degrade_blur``, ``degrade_inpaint`` and ``degrade_downsample`` wrap these and return a dict that
  describes the degradation (its parameters) together with the degraded image ("degraded").

Peers
-----
Each returns its output clipped to [0, 1] as float64, and the seconds of the call (time.perf_counter,
the peer alone, all channels); grey-only peers run per channel. The oracles choose their one parameter
by PSNR against the clean image, which no real user can do: an upper bound on the peer.

- ``richardson_lucy_oracle``: skimage.restoration.richardson_lucy (clip=False, filter_epsilon 1e-6)
  on the blurred image clipped to [0, 1] (RL needs non-negative data), started from 0.5 everywhere,
  run afresh for each iteration count in (5, 10, 20, 30, 50, 80, 120); the time is that of the best
  count's run. Boundary: scipy.signal.convolve(mode="same"), i.e. zeros outside the image, which does
  not match the reflect-blurred data near the border (the peer's own model, not ours).
- ``wiener_oracle``: skimage.restoration.wiener (Laplacian regulariser, clip=False) per channel at the
  best balance of numpy.logspace(-4, 0, 13). Boundary: circular (FFT with the kernel centred by
  uft.ir2tf), so the periodic wrap of the image's edges rings near the border.
- ``unsupervised_wiener``: skimage.restoration.unsupervised_wiener (Gibbs sampler estimating the
  noise and prior precisions, Laplacian regulariser, defaults otherwise, clip=False) per channel with
  ``rng=seed``: no parameter to tune. Boundary: circular, as wiener.
- ``inpaint_biharmonic``: skimage.restoration.inpaint_biharmonic(image, mask=~known,
  channel_axis=-1 for colour): the unknown pixels solve the biharmonic equation with the known ones as
  boundary conditions (exact known pixels kept); the image border is the domain's edge.
- ``cv2_inpaint``: cv2.inpaint with INPAINT_TELEA ("telea", fast marching) or INPAINT_NS ("ns",
  Navier-Stokes), inpaintRadius 3, on the 8-bit image round(255 x) (cv2 needs uint8) with the mask
  255 where unknown; the result / 255, with the known pixels put back at their exact float values
  (a no-op for these 8-bit test images, which round-trip exactly; the filled pixels stay 8-bit).
- ``pillow_upscale``: Pillow's Image.resize to (W, H) with BICUBIC (a = -0.5) or LANCZOS (a = 3)
  on mode "F" (float32, no 8-bit rounding) per channel, clipped.
- ``psnr(a, b)``: 10 log10(1 / mean((a - b)^2)) over the whole image and all channels (data range 1,
  no border excluded, outputs not rounded).

Edge handling (``pad``, default 0 = the peer as shipped): the three deconvolution peers take ``pad``;
pad > 0 extends the blurred image by ``pad`` pixels of half-sample reflection (numpy.pad
mode="symmetric", the same reflection the blur degradation uses) before the peer runs and crops its
output back, inside the timed call. This is the usual edge-handling trick: without it the peers'
zero ("same") or circular boundary costs more than deconvolution gains on 128 px crops (RL then loses
to the blurred input itself); ``DECONVOLUTION_PAD`` = 32 px is enough for kernels up to ~11 px (a
5 px box still gains ~1 dB from 10 to 32 px of padding on 128 px crops).

The busy competing process for timing under load is ``competing()`` in benchmarks/denoise_vs_skimage.py:
the main script imports it from there (not copied here).

    python benchmarks/restore_peers.py      # self-check on three 128x128 crops (~15 s on 2 cores)
"""

import itertools
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import convolve
from skimage.restoration import inpaint_biharmonic as biharmonic
from skimage.restoration import richardson_lucy as rl
from skimage.restoration import unsupervised_wiener as uw
from skimage.restoration import wiener as skimage_wiener

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "denoise"
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
WORDS = (
    "the quick brown fox jumps over lazy dog image restore noise blur paint pixel photo sample "
    "copyright draft 2024 kodak set twelve caption water mark holiday summer garden river"
).split()
RL_ITERATIONS = (5, 10, 20, 30, 50, 80, 120)
WIENER_BALANCES = np.logspace(-4, 0, 13)
DECONVOLUTION_PAD = 32


# ---------------------------------------------------------------- test data


def read_png(path) -> np.ndarray:
    """An 8-bit PNG as float64 in [0, 1]: (H, W) for grey, (H, W, 3) otherwise."""
    image = Image.open(path)
    image = image.convert("L" if image.mode in ("L", "1") else "RGB")
    return np.asarray(image, dtype=np.float64) / 255


def set_files(name: str) -> list:
    """The sorted PNG paths of Set12 or Kodak24."""
    files = sorted((SHARED / name).glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no PNG files in {SHARED / name}")
    return files


def seed_offset(name: str, half: str) -> int:
    """The index in the whole set of ``half``'s first image (images are degraded with seed = that index)."""
    return len(set_files(name)) // 2 if half == "second" else 0


def load_set(name: str, half: str = "all", limit=None) -> list:
    """[(file name, clean image)] of Set12 or Kodak24: half "first" (tuning), "second" (held out) or "all"."""
    files = set_files(name)
    middle = len(files) // 2
    files = {"first": files[:middle], "second": files[middle:], "all": files}[half]
    return [(path.name, read_png(path)) for path in files[:limit]]


def per_channel(function, image: np.ndarray) -> np.ndarray:
    """Apply a grey-only function to each channel of a colour image (or once to a grey one)."""
    if image.ndim == 2:
        return function(image)
    return np.stack([function(image[..., c]) for c in range(image.shape[2])], axis=-1)


# ---------------------------------------------------------------- blur


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Sampled isotropic Gaussian of standard deviation sigma, size 2 ceil(3 sigma) + 1, sum 1."""
    radius = int(math.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-(x**2) / (2 * sigma**2))
    kernel = np.outer(g, g)
    return kernel / kernel.sum()


def motion_kernel(length: float, angle_degrees: float, steps_per_pixel: int = 16) -> np.ndarray:
    """An antialiased line of `length` pixels through the centre (angle counter-clockwise, y up), sum 1."""
    half = (length - 1) / 2
    radius = int(math.ceil(half)) + 1
    size = 2 * radius + 1
    t = np.linspace(-half, half, max(2, int(math.ceil(2 * half * steps_per_pixel)) + 1))
    angle = math.radians(angle_degrees)
    cols, rows = radius + t * math.cos(angle), radius - t * math.sin(angle)
    kernel = np.zeros((size, size))
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            np.add.at(kernel, (np.minimum(r0 + dr, size - 1), np.minimum(c0 + dc, size - 1)), wr * wc)
    kernel[kernel < 1e-12] = 0
    while kernel.shape[0] > 1 and not (kernel[0].any() or kernel[-1].any() or kernel[:, 0].any() or kernel[:, -1].any()):
        kernel = kernel[1:-1, 1:-1]
    return kernel / kernel.sum()


def box_kernel(size: int) -> np.ndarray:
    """A size x size uniform kernel (size odd, so that it has a centre pixel), sum 1."""
    if size % 2 == 0:
        raise ValueError("box_kernel needs an odd size")
    return np.full((size, size), 1.0 / size**2)


def add_noise(image: np.ndarray, sigma_255: float, seed: int = 0) -> np.ndarray:
    """image + N(0, (sigma_255 / 255)^2) drawn over the whole array with default_rng(seed); not clipped."""
    rng = np.random.default_rng(seed)
    return image + rng.normal(0.0, sigma_255 / 255, image.shape)


def blur(clean: np.ndarray, kernel: np.ndarray, noise_sigma_255: float = 0.0, seed: int = 0) -> np.ndarray:
    """Per-channel true convolution with reflect boundary, then Gaussian noise; not clipped."""
    blurred = per_channel(lambda channel: convolve(channel, kernel, mode="reflect"), clean)
    return add_noise(blurred, noise_sigma_255, seed) if noise_sigma_255 else blurred


def degrade_blur(clean: np.ndarray, kernel: np.ndarray, noise_sigma_255: float, seed: int = 0, name: str = "") -> dict:
    """The blur degradation described: kernel, noise, seed, boundary and the degraded image."""
    return {
        "degradation": "blur",
        "kernel_name": name,
        "kernel": kernel,
        "noise_sigma_255": noise_sigma_255,
        "seed": seed,
        "boundary": "reflect",
        "degraded": blur(clean, kernel, noise_sigma_255, seed),
    }


# ---------------------------------------------------------------- inpainting


def random_mask(shape_hw, missing_fraction: float, seed: int = 0) -> np.ndarray:
    """Exactly round(fraction H W) pixels unknown, uniformly without replacement; True = known."""
    h, w = shape_hw[:2]
    rng = np.random.default_rng(seed)
    known = np.ones(h * w, dtype=bool)
    known[rng.permutation(h * w)[: int(round(missing_fraction * h * w))]] = False
    return known.reshape(h, w)


def text_font(size: int = 24):
    """DejaVuSans-Bold (or Liberation Sans Bold) at `size` px, else Pillow's default font at that size."""
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def text_mask(shape_hw, seed: int = 0, font_size: int = 24, line_pitch: int = 40) -> np.ndarray:
    """Lines of random words drawn with ImageDraw (strokes ~4 px); inked pixels unknown; True = known."""
    h, w = shape_hw[:2]
    rng = np.random.default_rng(seed)
    font = text_font(font_size)
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for y in range(int(rng.integers(0, line_pitch // 2)), h, line_pitch):
        words = " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), size=max(4, w // 40)))
        draw.text((int(rng.integers(-font_size, font_size // 2)), y), words, font=font, fill=255)
    return np.asarray(canvas) <= 127


def inpaint_input(clean: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The clean image with the unknown pixels (all channels) set to 0; no noise."""
    return np.where(known[..., None] if clean.ndim == 3 else known, clean, 0.0)


def degrade_inpaint(clean: np.ndarray, mask: str = "text", missing_fraction: float = 0.5, seed: int = 0) -> dict:
    """The inpainting degradation described: mask kind ("random" or "text"), the mask and the damaged image."""
    if mask == "random":
        known = random_mask(clean.shape, missing_fraction, seed)
    else:
        known = text_mask(clean.shape, seed)
    return {
        "degradation": "inpaint",
        "mask": mask,
        "missing_fraction": float(1 - known.mean()),
        "seed": seed,
        "known": known,
        "degraded": inpaint_input(clean, known),
    }


# ---------------------------------------------------------------- super-resolution


def downsample(clean: np.ndarray, factor: int):
    """(small, cropped clean): crop H, W to multiples of factor, then torch's antialiased bicubic reduction."""
    h, w = (clean.shape[0] // factor) * factor, (clean.shape[1] // factor) * factor
    cropped = clean[:h, :w]
    t = torch.from_numpy(np.ascontiguousarray(cropped if cropped.ndim == 3 else cropped[..., None]))
    t = t.permute(2, 0, 1)[None]
    small = F.interpolate(t, size=(h // factor, w // factor), mode="bicubic", antialias=True, align_corners=False)
    small = small[0].permute(1, 2, 0).numpy()
    return (small if clean.ndim == 3 else small[..., 0]), cropped


def degrade_downsample(clean: np.ndarray, factor: int, noise_sigma_255: float = 0.0, seed: int = 0) -> dict:
    """The super-resolution degradation described: factor, noise, the small image and the cropped clean one."""
    small, cropped = downsample(clean, factor)
    degraded = add_noise(small, noise_sigma_255, seed) if noise_sigma_255 else small
    return {
        "degradation": "downsample",
        "factor": factor,
        "noise_sigma_255": noise_sigma_255,
        "seed": seed,
        "clean": cropped,
        "degraded": degraded,
    }


# ---------------------------------------------------------------- peers


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB for data range 1, over the whole image and all channels."""
    mse = float(np.mean((np.asarray(a, dtype=np.float64) - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def timed(function, *args, **kwargs):
    """(function(*args, **kwargs), seconds by time.perf_counter)."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def reflect_padded(function, image: np.ndarray, pad: int) -> np.ndarray:
    """function(image extended by `pad` pixels of half-sample reflection), cropped back; function(image) if pad 0."""
    if not pad:
        return function(image)
    widths = ((pad, pad), (pad, pad)) + ((0, 0),) * (image.ndim - 2)
    return function(np.pad(image, widths, mode="symmetric"))[pad:-pad, pad:-pad]


def richardson_lucy(blurred: np.ndarray, kernel: np.ndarray, iterations: int, pad: int = 0) -> np.ndarray:
    """skimage's Richardson-Lucy per channel on the input clipped to [0, 1] ('same', zero-padded), clipped."""

    def run(channel):
        return rl(channel, kernel, num_iter=iterations, clip=False, filter_epsilon=1e-6)

    return np.clip(reflect_padded(lambda x: per_channel(run, x), np.clip(blurred, 0, 1), pad), 0, 1)


def richardson_lucy_oracle(
    blurred: np.ndarray, kernel: np.ndarray, clean: np.ndarray, iterations=RL_ITERATIONS, pad: int = 0
):
    """(best image, best iteration count, seconds of that run): Richardson-Lucy at each count, best PSNR."""
    runs = [(timed(richardson_lucy, blurred, kernel, n, pad), n) for n in iterations]
    (image, seconds), n = max(runs, key=lambda run: psnr(run[0][0], clean))
    return image, n, seconds


def wiener(blurred: np.ndarray, kernel: np.ndarray, balance: float, pad: int = 0) -> np.ndarray:
    """skimage's Wiener-Hunt deconvolution per channel (circular boundary, Laplacian regulariser), clipped."""

    def run(channel):
        return skimage_wiener(channel, kernel, balance, clip=False)

    return np.clip(reflect_padded(lambda x: per_channel(run, x), blurred, pad), 0, 1)


def wiener_oracle(blurred: np.ndarray, kernel: np.ndarray, clean: np.ndarray, balances=WIENER_BALANCES, pad: int = 0):
    """(best image, best balance, seconds of that run): Wiener at each balance, best PSNR."""
    runs = [(timed(wiener, blurred, kernel, float(b), pad), float(b)) for b in balances]
    (image, seconds), balance = max(runs, key=lambda run: psnr(run[0][0], clean))
    return image, balance, seconds


def unsupervised_wiener(blurred: np.ndarray, kernel: np.ndarray, seed: int = 0, pad: int = 0):
    """(image, seconds): skimage's self-tuned (Gibbs-sampled) Wiener per channel with rng=seed, clipped."""

    def run(channel):
        return uw(channel, kernel, clip=False, rng=seed)[0]

    image, seconds = timed(reflect_padded, lambda x: per_channel(run, x), blurred, pad)
    return np.clip(image, 0, 1), seconds


def inpaint_biharmonic(damaged: np.ndarray, known: np.ndarray):
    """(image, seconds): skimage's biharmonic inpainting of the unknown pixels, clipped."""
    axis = -1 if damaged.ndim == 3 else None
    image, seconds = timed(biharmonic, damaged, ~known, channel_axis=axis)
    return np.clip(image, 0, 1), seconds


def cv2_inpaint(damaged: np.ndarray, known: np.ndarray, method: str = "telea"):
    """(image, seconds): OpenCV's Telea or Navier-Stokes inpainting on 8 bits, radius 3; known pixels kept exact."""
    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}[method]
    image8 = np.clip(np.round(damaged * 255), 0, 255).astype(np.uint8)
    mask8 = np.where(known, 0, 255).astype(np.uint8)
    out, seconds = timed(cv2.inpaint, image8, mask8, 3, flag)
    out = out.astype(np.float64) / 255
    keep = known[..., None] if damaged.ndim == 3 else known
    return np.clip(np.where(keep, damaged, out), 0, 1), seconds


def pillow_upscale(small: np.ndarray, size_wh, method: str = "bicubic"):
    """(image, seconds): Pillow's resize to size_wh = (W, H) on mode "F" (float32) per channel, clipped."""
    resample = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}[method]

    def run(channel):
        resized = Image.fromarray(channel.astype(np.float32)).resize(tuple(size_wh), resample)
        return np.asarray(resized, dtype=np.float64)

    image, seconds = timed(per_channel, run, small)
    return np.clip(image, 0, 1), seconds


# ---------------------------------------------------------------- self-check


def _crop(image: np.ndarray, size: int = 128) -> np.ndarray:
    """The centre size x size crop."""
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def _self_check() -> None:
    """Each degradation and peer once on 2 Set12 crops and 1 Kodak24 crop (128 x 128); print PSNRs."""
    images = [(n, _crop(x)) for n, x in load_set("Set12", "first", limit=2)]
    images += [(n, _crop(x)) for n, x in load_set("Kodak24", "second", limit=1)]
    kernels = {"gauss1.6": gaussian_kernel(1.6), "motion9@30": motion_kernel(9, 30), "box5": box_kernel(5)}
    for name, kernel in kernels.items():
        print(f"kernel {name}: shape {kernel.shape}, sum {kernel.sum():.6f}")
    for name, clean in images:
        print(f"\n== {name} {clean.shape}")
        for (kernel_name, kernel), pad in itertools.product(kernels.items(), (0, DECONVOLUTION_PAD)):
            d = degrade_blur(clean, kernel, 2.0, name=kernel_name)
            rl, iterations, rl_s = richardson_lucy_oracle(d["degraded"], kernel, clean, pad=pad)
            wi, balance, wi_s = wiener_oracle(d["degraded"], kernel, clean, pad=pad)
            uw, uw_s = unsupervised_wiener(d["degraded"], kernel, pad=pad)
            print(
                f"blur {kernel_name:10s} noise 2 pad {pad:2d}: input {psnr(d['degraded'], clean):5.2f} | "
                f"RL {psnr(rl, clean):5.2f} ({iterations} it, {rl_s:.3f}s) | "
                f"Wiener {psnr(wi, clean):5.2f} (balance {balance:.2g}, {wi_s:.3f}s) | "
                f"unsup. Wiener {psnr(uw, clean):5.2f} ({uw_s:.3f}s)"
            )
        for mask, fraction in (("random", 0.5), ("text", 0.0)):
            d = degrade_inpaint(clean, mask, fraction)
            results = {"biharmonic": inpaint_biharmonic(d["degraded"], d["known"])}
            for method in ("telea", "ns"):
                results[method] = cv2_inpaint(d["degraded"], d["known"], method)
            line = " | ".join(f"{k} {psnr(x, clean):5.2f} ({s:.3f}s)" for k, (x, s) in results.items())
            zero = psnr(d["degraded"], clean)
            print(f"inpaint {mask:6s} missing {d['missing_fraction']:.3f}: zero-filled {zero:5.2f} | {line}")
        for factor in (2, 3):
            d = degrade_downsample(clean, factor)
            size_wh = d["clean"].shape[1], d["clean"].shape[0]
            results = {m: pillow_upscale(d["degraded"], size_wh, m) for m in ("bicubic", "lanczos")}
            line = " | ".join(f"{k} {psnr(x, d['clean']):5.2f} ({s:.4f}s)" for k, (x, s) in results.items())
            print(f"upscale x{factor} from {d['degraded'].shape[:2]}: {line}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    _self_check()
