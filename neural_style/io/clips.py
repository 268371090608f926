"""A clip read one frame at a time: a video (or the part of it asked for) or an animated image.

:func:`open_clip` learns what a clip is before any frame is decoded (its timing, frame size and
audio track); :meth:`ClipSource.frames` then decodes the frames one at a time, so that stylising
or transferring a clip holds a frame or a batch, not the clip (issue 27: a 720p clip of 1200
frames, decoded whole, ran out of memory).
"""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Optional, Tuple

import numpy as np

from .animation import Timing, animation_timing, iter_frames, video_timing
from .imagedata import open_image
from .video_read import VIDEO_EXTENSIONS, VideoClip, check_part_of, clip_part, decode_video, probe_video


@dataclass
class ClipSource:
    """A clip, its frames decoded on demand.

    Attributes:
        path: the file.
        timing: each frame's duration and time (a video's exact timestamps), and the loop count.
        shape: (height, width) of the frames as shown (a video's rotation applied).
        audio: the codec of a video's audio track, or None (no track, or an animated image).
        start: where the first frame is in the file, in seconds (a part of a video: its start).
    """

    path: Path
    timing: Timing
    shape: Tuple[int, int]
    audio: Optional[str] = None
    start: float = 0.0
    video: Optional[VideoClip] = None

    def __len__(self) -> int:
        return len(self.timing.durations)

    def frames(self) -> Iterator[np.ndarray]:
        """The frames in order, each a writable (H, W, 3) uint8 RGB array, decoded one at a time (a video
        stops early where the file holds fewer frames than its packets promised).

        Raises:
            InputError: a file damaged further on, or frames that differ in size.
        """
        return decode_video(self.video) if self.video is not None else iter_frames(self.path)

    def verified(self) -> "ClipSource":
        """The clip once every frame has been decoded and let go (a pass that costs a decode, not memory):
        a damaged file or frames of another size are found before any work; where the file holds fewer
        frames than its packets promised, the clip of those it holds.

        Raises:
            InputError: as :meth:`frames`.
        """
        count = sum(1 for _ in self.frames())
        if count == len(self):
            return self
        video = self.video if self.video is None else replace(self.video, keys=self.video.keys[:count],
                                                               timestamps=self.video.timestamps[:count])
        return replace(self, timing=self.timing.head(count), video=video)


def open_clip(path, start: float = 0.0, duration: Optional[float] = None,
              frames: Optional[int] = None) -> ClipSource:
    """A video (the part from ``start`` s, ``duration`` s or to the end, at most ``frames`` frames:
    :func:`~neural_style.io.video.clip_part`) or an animated image, as a :class:`ClipSource`.

    Raises:
        InputError: an unreadable file, a part that holds no frame, or a part asked of an animated image.
    """
    path = Path(path)
    check_part_of(path, start, duration, frames)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        video = clip_part(probe_video(path), start, duration, frames)
        return ClipSource(path, video_timing(video), video.shape, video.audio, video.start, video)
    timing = animation_timing(path)
    with open_image(path) as image:
        width, height = image.size
    return ClipSource(path, timing, (height, width))
