"""neural_style.io.images, the old home of image input and output: its public names still import from there."""

import importlib

from neural_style.io import images

HOMES = {
    "neural_style.io.decode": ["read_image", "to_tensor", "is_grey", "image_shape", "source_bit_depth",
                               "IMAGE_EXTENSIONS", "DECODE_BYTES"],
    "neural_style.io.imagedata": ["ImageData"],
    "neural_style.io.encode": ["write_image"],
    "neural_style.io.outputs": ["check_output_path", "OUTPUT_EXTENSIONS"],
    "neural_style.io.atomic": ["atomic_write", "atomic_torch_save"],
    "neural_style.core.tensors": ["to_grey", "tensor_to_array", "to_pil", "resize_long_side", "long_side_shape",
                                  "resize_to"],
    "neural_style.core.files": ["require_file"],
}


def test_the_old_module_re_exports_every_public_name_from_its_new_home():
    for module, names in HOMES.items():
        home = importlib.import_module(module)
        for name in names:
            assert getattr(images, name) is getattr(home, name), (module, name)
    assert sorted(images.__all__) == sorted(name for names in HOMES.values() for name in names)
