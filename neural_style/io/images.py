"""The old home of image input and output, split by job; its public names still import from here.

Where each moved:

* :mod:`neural_style.io.decode`: ``read_image``, ``to_tensor``, ``is_grey``, ``image_shape``,
  ``source_bit_depth``, ``IMAGE_EXTENSIONS``, ``DECODE_BYTES`` (EXIF orientation in
  :mod:`~neural_style.io.imagedata`, TIFF in :mod:`~neural_style.io.tiff`);
* :mod:`neural_style.io.imagedata`: ``ImageData``;
* :mod:`neural_style.io.png16`: the 16-bit PNG codec (read and write);
* :mod:`neural_style.io.encode`: ``write_image``;
* :mod:`neural_style.io.outputs`: ``check_output_path``, ``OUTPUT_EXTENSIONS``;
* :mod:`neural_style.io.atomic`: ``atomic_write``, ``atomic_torch_save``;
* :mod:`neural_style.core.tensors` (images in memory, no files): ``to_grey``, ``tensor_to_array``,
  ``to_pil``, ``resize_long_side``, ``long_side_shape``, ``resize_to``;
* :mod:`neural_style.core.files`: ``require_file``.
"""

from ..core.files import require_file
from ..core.tensors import long_side_shape, resize_long_side, resize_to, tensor_to_array, to_grey, to_pil
from .atomic import atomic_torch_save, atomic_write
from .decode import DECODE_BYTES, IMAGE_EXTENSIONS, image_shape, is_grey, read_image, source_bit_depth, to_tensor
from .encode import write_image
from .imagedata import ImageData
from .outputs import OUTPUT_EXTENSIONS, check_output_path

__all__ = [
    "ImageData", "read_image", "to_tensor", "is_grey", "image_shape", "source_bit_depth", "IMAGE_EXTENSIONS",
    "DECODE_BYTES", "write_image", "check_output_path", "OUTPUT_EXTENSIONS", "atomic_write", "atomic_torch_save",
    "to_grey", "tensor_to_array", "to_pil", "resize_long_side", "long_side_shape", "resize_to", "require_file",
]
