"""Audio fixtures written by the tests themselves (PyAV): tones in OGG/Opus like Telegram's voice notes,
MP3 for uploaded call recordings, MP4 for video notes. Nothing is downloaded."""
from __future__ import annotations

import io
import math

import numpy as np


def tone(seconds: float, fmt: str = "ogg", codec: str = "libopus", rate: int = 48_000, freq: float = 440.0,
         bitrate: int | None = None) -> bytes:
    """A sine tone (with a slow second tone, so it is not pure silence to a codec)."""
    import av
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        if bitrate:
            stream.bit_rate = bitrate
        frame_size = 960
        total = int(seconds * rate)
        t0 = 0
        while t0 < total:
            n = min(frame_size, total - t0)
            t = (np.arange(t0, t0 + n) / rate).astype(np.float32)
            samples = (0.3 * np.sin(2 * math.pi * freq * t) + 0.1 * np.sin(2 * math.pi * 3.0 * t)).astype(np.float32)
            if n < frame_size and codec == "libopus":
                samples = np.pad(samples, (0, frame_size - n))
                n = frame_size
            pcm = (samples * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = t0
            for packet in stream.encode(frame):
                out.mux(packet)
            t0 += n
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def voice_note(seconds: float = 3.0) -> bytes:
    return tone(seconds)


def mp3_recording(seconds: float = 20.0) -> bytes:
    return tone(seconds, fmt="mp3", codec="libmp3lame", rate=44_100)


def video_note(seconds: float = 2.0) -> bytes:
    """An MP4 like Telegram's round video notes: a (tiny) video track and an AAC audio track."""
    import av
    audio_only = av.open(io.BytesIO(tone(seconds, fmt="mp4", codec="aac", rate=44_100)))
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=5)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        sound = out.add_stream("aac", rate=44_100)
        sound.layout = "mono"
        for i in range(int(seconds * 5)):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20 % 255, dtype=np.uint8), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        for frame in audio_only.decode(audio=0):
            frame.pts = None
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
    audio_only.close()
    return buf.getvalue()


def wav_recording(seconds: float, rate: int = 8_000) -> bytes:
    """A plain PCM WAV (phone-call quality), instant to write even for long calls."""
    import wave
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * math.pi * 440.0 * t) * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()
