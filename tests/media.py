"""Small media files made in the tests: random frames, and a clip with a tone (needs PyAV)."""

from fractions import Fraction
from pathlib import Path

import numpy as np


def flat_gif(path: Path, n: int) -> Path:
    """An animated GIF of ``n`` flat 32x24 frames of rising grey, 100 ms each."""
    from PIL import Image

    images = [Image.fromarray(np.full((24, 32, 3), 60 + 40 * i, np.uint8)) for i in range(n)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def frames(n=6, h=24, w=32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def clip_with_tone(path: Path, n=10, fps=10, codec="aac", seconds=None, switch=None) -> Path:
    """A tiny 32x24 H.264 clip of ``n`` random frames with a 440 Hz tone (880 Hz from ``switch`` seconds on;
    PyAV encodes both tracks)."""
    import av

    rate = 48000
    seconds = seconds or n / fps
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 32, 24, "yuv420p"
        audio = container.add_stream(codec, rate=rate)
        for i, array in enumerate(frames(n)):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        t = np.arange(int(rate * seconds)) / rate
        frequency = np.where(t < switch, 440, 880) if switch is not None else 440  # 880 Hz from ``switch`` s on
        tone = (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)[None]
        for start in range(0, tone.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]), format="fltp",
                                               layout="mono")
            chunk.sample_rate = rate
            for packet in audio.encode(chunk):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return path
