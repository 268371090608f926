"""The flags users of the peer tools type, and ours for them (docs/cli.md, "Coming from another tool").

jcjohnson/neural-style and neural-style-pt spell flags with one dash and underscores (``-image_size``),
which click reads as a cluster of short options ("No such option: -i"); crowsonkb/style-transfer-pytorch
and pytorch/examples' fast_neural_style use their own long names. A flag of theirs that is not ours is
answered in one line with ours (exit 2), before click parses anything.
"""

from typing import Dict, Optional, Sequence, Tuple

JCJOHNSON = "jcjohnson/neural-style and neural-style-pt"
CROWSONKB = "crowsonkb/style-transfer-pytorch"
EXAMPLES = "pytorch/examples fast_neural_style"

#: A peer's flag -> (ours, or what to do instead, whose flag it is).
PEER_FLAGS: Dict[str, Tuple[str, str]] = {
    "-style_image": ("the STYLE argument (neural-style stylize CONTENT STYLE [STYLE...] -o OUT)", JCJOHNSON),
    "-content_image": ("the CONTENT argument (neural-style stylize CONTENT STYLE -o OUT)", JCJOHNSON),
    "-output_image": ("-o", JCJOHNSON),
    "-image_size": ("--size", JCJOHNSON),
    "-style_blend_weights": ("--style-blend-weights", JCJOHNSON),
    "-style_scale": ("--style-scale", JCJOHNSON),
    "-content_weight": ("--content-weight", JCJOHNSON),
    "-style_weight": ("--style-weight", JCJOHNSON),
    "-tv_weight": ("--tv-weight", JCJOHNSON),
    "-num_iterations": ("--iterations", JCJOHNSON),
    "-init": ("--init", JCJOHNSON),
    "-init_image": ("--init PATH", JCJOHNSON),
    "-optimizer": ("--optimizer", JCJOHNSON),
    "-learning_rate": ("--lr", JCJOHNSON),
    "-lbfgs_num_correction": ("--lbfgs-history", JCJOHNSON),
    "-print_iter": ("--log-every (a terminal shows a progress bar)", JCJOHNSON),
    "-save_iter": ("--save-every", JCJOHNSON),
    "-original_colors": ("--original-colors (or --colors luminance)", JCJOHNSON),
    "-pooling": ("--pooling", JCJOHNSON),
    "-model_file": ("--weights", JCJOHNSON),
    "-proto_file": ("--weights (a PyTorch state dict; no prototxt)", JCJOHNSON),
    "-content_layers": ("--content-layers", JCJOHNSON),
    "-style_layers": ("--style-layers", JCJOHNSON),
    "-seed": ("--seed", JCJOHNSON),
    "-gpu": ("--device (auto, cpu, cuda, cuda:N, mps)", JCJOHNSON),
    "-backend": ("nothing here (the backend is torch's)", JCJOHNSON),
    "-cudnn_autotune": ("nothing here (torch chooses)", JCJOHNSON),
    "-multigpu_strategy": ("nothing here (one device per run)", JCJOHNSON),
    "-multidevice_strategy": ("nothing here (one device per run)", JCJOHNSON),
    "-normalize_gradients": ("nothing here (each layer's loss is normalised by its target)", JCJOHNSON),
    "--style-weights": ("--style-blend-weights", CROWSONKB),
    "--min-scale": ("--scales (e.g. --scales 128,256,512)", CROWSONKB),
    "--end-scale": ("--size", CROWSONKB),
    "--initial-iterations": ("--scales with --iterations (docs/stylize.md, coarse to fine)", CROWSONKB),
    "--step-size": ("--lr", CROWSONKB),
    "--style-scale-fac": ("--style-scale", CROWSONKB),
    "--random-seed": ("--seed", CROWSONKB),
    "--devices": ("--device", CROWSONKB),
    "--model-type": ("--model", CROWSONKB),
    "--web": ("neural-style studio (issue 28), not yet here", CROWSONKB),
    "--save-all": ("--save-every 1", CROWSONKB),
    "--content-image": ("the CONTENT or INPUT argument", EXAMPLES),
    "--output-image": ("-o", EXAMPLES),
    "--style-image": ("the STYLE argument", EXAMPLES),
    "--save-model-dir": ("-o MODEL.pth", EXAMPLES),
    "--checkpoint-model-dir": ("--checkpoint-dir", EXAMPLES),
    "--checkpoint-interval": ("--checkpoint-every", EXAMPLES),
    "--log-interval": ("--log-every", EXAMPLES),
    "--content-scale": ("--size (a long side in pixels here, not a downscale factor)", EXAMPLES),
    "--cuda": ("--device cuda", EXAMPLES),
    "--gpu": ("--device cuda", "several tools"),  # a habit, no one peer's
    "--mps": ("--device mps", EXAMPLES),
    "--export_onnx": ("neural-style export MODEL -o out.onnx", EXAMPLES),
    "--model": ("the MODEL argument", EXAMPLES),  # their eval's saved network; stylize's --model is the loss network
}


def peer_flag(args: Sequence[str], ours: Sequence[str]) -> Optional[Tuple[str, str, str]]:
    """The first argument that is a peer tool's flag and not one of ``ours`` (the command's own): (the
    flag, ours for it, whose it is); None when there is none. ``--flag=value`` counts as ``--flag``;
    nothing after ``--`` is a flag."""
    for arg in args:
        if arg == "--":
            return None
        name = arg.split("=", 1)[0]
        if name in PEER_FLAGS and name not in ours:
            instead, whose = PEER_FLAGS[name]
            return name, instead, whose
    return None


def split_style_list(styles: Sequence[str], exists) -> list:
    """jcjohnson's comma-separated style list (``-style_image a.jpg,b.jpg``): an argument that names no
    file but whose comma-separated parts each name one is those parts."""
    out = []
    for style in styles:
        parts = str(style).split(",")
        if len(parts) > 1 and not exists(style) and all(part and exists(part) for part in parts):
            out.extend(parts)
        else:
            out.append(style)
    return out
