"""Colour helpers of stylize's ``--colors``: luminance transfer (``luminance``, ``--original-colors``) and
the affine colour map that gives one image the RGB mean and covariance of another (``histogram``)."""

from typing import Tuple

import torch

# ITU-R BT.601 YUV (as jcjohnson/neural-style's original_colors): U and V are scaled
# differences B - Y and R - Y, so grey has exactly zero chrominance.
_Y = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)
_RGB_TO_YUV = torch.stack([_Y, 0.492111 * (torch.tensor([0.0, 0, 1]).double() - _Y),
                           0.877283 * (torch.tensor([1.0, 0, 0]).double() - _Y)])


def rgb_to_yuv(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] to YUV (Y in [0, 1], U and V centred on 0)."""
    m = _RGB_TO_YUV.to(image)
    return torch.einsum("ij,bjhw->bihw", m, image)


def yuv_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yuv`."""
    m = torch.linalg.inv(_RGB_TO_YUV).to(image)
    return torch.einsum("ij,bjhw->bihw", m, image)


def transfer_luminance(generated: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The luminance of ``generated`` with the chrominance of ``content`` (Gatys et al. 2016,
    "Preserving Color in Neural Artistic Style Transfer"). Both (B, 3, H, W) in [0, 1], same size."""
    if generated.shape != content.shape:
        raise ValueError(f"expected images of the same shape, got {tuple(generated.shape)} "
                         f"and {tuple(content.shape)}")
    y = rgb_to_yuv(generated)[:, :1]
    uv = rgb_to_yuv(content)[:, 1:]
    return yuv_to_rgb(torch.cat([y, uv], dim=1)).clamp(0, 1)


#: The ways :func:`match_color` chooses its linear map A (the default first).
COLOR_MATCH_METHODS = ("pca", "cholesky")
#: Added to the diagonal of each 3x3 colour covariance before it is factored or inverted: a flat or grey
#: image (a covariance that is singular) is mapped without a division by zero.
COLOR_EPS = 1e-8


def color_statistics(image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The per-image RGB mean and covariance of ``image``, (B, 3, H, W): mean (B, 3) and covariance
    (B, 3, 3), float64, over all H * W pixels (divided by H * W, not H * W - 1)."""
    _check_rgb(image, "image")
    pixels = image.detach().to(torch.float64).flatten(2)  # (B, 3, N)
    mean = pixels.mean(dim=2)
    centred = pixels - mean[..., None]
    return mean, centred @ centred.transpose(1, 2) / pixels.shape[2]


def color_distance(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``||mu - mu_ref||_2 + ||Sigma - Sigma_ref||_F`` of the RGB statistics (:func:`color_statistics`) of
    two (B, 3, H, W) images on the same scale (any sizes): (B,) float64, 0 for the same statistics."""
    mean, cov = color_statistics(image)
    ref_mean, ref_cov = color_statistics(reference)
    return (mean - ref_mean).norm(dim=1) + (cov - ref_cov).flatten(1).norm(dim=1)


def match_color(source: torch.Tensor, target: torch.Tensor, method: str = "pca",
                eps: float = COLOR_EPS) -> torch.Tensor:
    """``source``'s pixels mapped by one affine colour map so that each image's RGB mean and 3x3
    covariance equal ``target``'s (Gatys, Ecker, Bethge, Hertzmann & Shechtman 2017, "Controlling
    Perceptual Factors in Neural Style Transfer", Sec. 5, colour histogram matching; the symmetric
    square root is the colour transfer of Hertzmann et al.'s "Image Analogies", 2001).

    Each pixel x of a source image becomes ``x' = A (x - mu_s) + mu_t``, where mu and Sigma are an image's
    RGB mean and covariance (:func:`color_statistics`) and A is one of the maps with
    ``A Sigma_s A^T = Sigma_t``:

    - ``"pca"`` (the default): ``A = Sigma_t^(1/2) Sigma_s^(-1/2)``, symmetric square roots from the
      eigendecompositions (Image Analogies' colour transfer). It does not depend on the order of the
      channels: the map of the colours in another basis (BGR, or any rotation) is the same map.
    - ``"cholesky"``: ``A = L_t L_s^-1`` with ``Sigma = L L^T`` (lower-triangular Cholesky factors). It
      treats R, G and B in order (R' from R alone, G' from R and G), so BGR input gives another map.

    Side by side at 256 px (content, style, pca, cholesky; docs/stylize.md, "Colour") the two look
    alike: on The Scream the Cholesky map keeps the sky a lighter orange where PCA turns it a deeper red,
    on Woman with a Hat they are hard to tell apart, and after clamping to [0, 1] neither is closer to the
    content's statistics on both pairs. PCA is the default for its independence of the channel order.

    ``eps * I`` is added to both covariances first (:data:`COLOR_EPS`), so a flat (or grey) image, whose
    covariance is singular, is mapped without dividing by zero: a flat source becomes the target's
    mean colour. With the default eps the statistics match to about 1e-8. The result is not clamped:
    it may leave [0, 1] (then only the unclamped map matches the statistics exactly);
    ``run_stylize(colors="histogram")`` clamps the mapped styles to [0, 1] before it uses them.

    Args:
        source: the images to recolour, (B, 3, H, W) RGB, float, on the [0, 1] scale.
        target: the images whose statistics to take, (1, 3, H', W') or (B, 3, H', W'), same scale;
            any size (a style image mapped to a content image).
        method: ``"pca"`` or ``"cholesky"`` (:data:`COLOR_MATCH_METHODS`).
        eps: added to the covariances' diagonals (>= 0).

    Returns:
        The mapped source, (B, 3, H, W), in ``source``'s dtype and device (computed in float64).

    Raises:
        ValueError: ``expected (B, 3, H, W) images, got ...`` for another shape, a target batch that is
            neither 1 nor B, an unknown ``method`` or a negative ``eps``.
    """
    _check_rgb(source, "source")
    _check_rgb(target, "target")
    if target.shape[0] not in (1, source.shape[0]):
        raise ValueError(f"expected a target batch of 1 or {source.shape[0]} (the source's), got {target.shape[0]}")
    if method not in COLOR_MATCH_METHODS:
        raise ValueError(f"expected a method in {COLOR_MATCH_METHODS}, got {method!r}")
    if not eps >= 0:
        raise ValueError(f"expected eps >= 0, got {eps}")
    mean_s, cov_s = color_statistics(source)
    mean_t, cov_t = color_statistics(target.to(source.device))
    eye = torch.eye(3, dtype=torch.float64, device=source.device) * eps
    cov_s, cov_t = cov_s + eye, cov_t + eye
    if method == "cholesky":  # A = L_t L_s^-1: solve A L_s = L_t
        a = torch.linalg.solve_triangular(torch.linalg.cholesky(cov_s), torch.linalg.cholesky(cov_t),
                                          upper=False, left=False)
    else:
        a = _sym_power(cov_t, 0.5, eps) @ _sym_power(cov_s, -0.5, eps)
    a = a.expand(source.shape[0], 3, 3)
    x = source.to(torch.float64).flatten(2) - mean_s[..., None]
    mapped = a @ x + mean_t.expand(source.shape[0], 3)[..., None]
    return mapped.reshape(source.shape).to(source.dtype)


def _sym_power(cov: torch.Tensor, power: float, floor: float) -> torch.Tensor:
    """``cov ** power`` of symmetric positive (semi)definite (B, 3, 3) matrices, eigenvalues floored."""
    values, vectors = torch.linalg.eigh(cov)
    return vectors @ torch.diag_embed(values.clamp(min=max(floor, 1e-300)) ** power) @ vectors.transpose(1, 2)


def _check_rgb(image: torch.Tensor, what: str) -> None:
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"expected (B, 3, H, W) images as {what}, got {shape}")
    if image.shape[2] * image.shape[3] == 0:
        raise ValueError(f"expected (B, 3, H, W) images with pixels as {what}, got {tuple(image.shape)}")
