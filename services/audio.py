"""Audio from Telegram (OGG/Opus voice notes, MP4 video notes, MP3/M4A/WAV files), read with PyAV.

``probe`` reads a file's length and kind without decoding (the file then goes to the speech service
as it is); ``wav_chunks`` decodes it to 16-bit 16 kHz mono PCM WAV — which every OpenAI-shaped server
accepts, whisper.cpp's server only that — when the service needs it, for the sound of a video note,
and for long recordings, cut into chunks so no single upload is huge or slow.
"""
from __future__ import annotations

import io
import struct
from typing import Iterator

RATE = 16_000
CHUNK_SECONDS = 300


class AudioError(Exception):
    """Not decodable audio ("bad"), or longer than allowed ("too_long")."""

    def __init__(self, kind: str, seconds: float = 0.0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.seconds = seconds


def wav_bytes(pcm: bytes | memoryview, rate: int = RATE) -> bytes:
    """A RIFF/WAVE header for 16-bit mono PCM, then the samples."""
    size = len(pcm)
    header = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", size)
    return header + bytes(pcm)


def wav_chunks(data: bytes, max_seconds: float, chunk_seconds: int = CHUNK_SECONDS) -> Iterator[bytes]:
    """Decode the first audio stream, resample to 16 kHz mono s16 and yield it as WAV files of
    ``chunk_seconds`` each, one at a time (memory: one chunk, not the whole recording)."""
    import av
    pcm = bytearray()
    step = chunk_seconds * RATE * 2
    limit = int(max_seconds * RATE * 2)
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise AudioError("bad")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            frames = container.decode(stream)
            while True:
                frame = next(frames, None)
                for out in resampler.resample(frame):
                    size = out.samples * 2
                    pcm += memoryview(out.planes[0])[:size]
                    total += size
                if total > limit:
                    raise AudioError("too_long", total / (RATE * 2))
                while len(pcm) >= step:
                    yield wav_bytes(memoryview(pcm)[:step])
                    del pcm[:step]
                if frame is None:
                    break
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise AudioError("bad") from exc
    if total == 0:
        raise AudioError("bad")
    if pcm:
        yield wav_bytes(pcm)


def probe(data: bytes) -> tuple[float, str, bool]:
    """(seconds, container format, has video) from the container's headers (or, when they do not
    say, its packets), without decoding: cheap validation and duration for a file that is sent to
    the service as it is."""
    import av
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise AudioError("bad")
            end = (container.duration or 0) / 1_000_000  # from the headers / the last page: no reading
            base = stream.time_base
            if end <= 0:
                for packet in container.demux(stream):
                    if packet.pts is not None and base is not None:
                        end = max(end, float((packet.pts + (packet.duration or 0)) * base))
            fmt = container.format.name.split(",")[0]
            video = any(s.type == "video" for s in container.streams)
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise AudioError("bad") from exc
    if end <= 0:
        raise AudioError("bad")
    return end, fmt, video
