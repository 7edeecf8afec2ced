"""A tiny Prometheus text-format registry (counters, gauges, one latency histogram)."""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Iterable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
Labels = tuple[tuple[str, str], ...]


def _labels(labels: dict[str, str] | None) -> Labels:
    return tuple(sorted((labels or {}).items()))


def _fmt(labels: Labels, extra: Iterable[tuple[str, str]] = ()) -> str:
    items = list(labels) + list(extra)
    if not items:
        return ""
    def esc(v: str) -> str:
        return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in items) + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.help: dict[str, tuple[str, str]] = {}
        self.counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self.hist: dict[str, dict[Labels, list[float]]] = defaultdict(dict)

    def describe(self, name: str, kind: str, text: str) -> None:
        self.help[name] = (kind, text)

    def inc(self, name: str, labels: dict[str, str] | None = None, value: float = 1.0) -> None:
        key = _labels(labels)
        with self._lock:
            self.counters[name][key] = self.counters[name].get(key, 0.0) + value

    def observe(self, name: str, seconds: float, labels: dict[str, str] | None = None) -> None:
        key = _labels(labels)
        with self._lock:
            row = self.hist[name].get(key)
            if row is None:
                row = self.hist[name][key] = [0.0] * (len(BUCKETS) + 2)  # buckets…, count, sum
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += 1
            row[-1] += seconds

    def render(self, gauges: dict[str, list[tuple[dict[str, str], float]]] | None = None) -> str:
        lines: list[str] = []
        with self._lock:
            for name in sorted(self.counters):
                kind, text = self.help.get(name, ("counter", name))
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                for labels, value in sorted(self.counters[name].items()):
                    lines.append(f"{name}{_fmt(labels)} {value:g}")
            for name in sorted(self.hist):
                kind, text = self.help.get(name, ("histogram", name))
                lines += [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
                for labels, row in sorted(self.hist[name].items()):
                    for i, bound in enumerate(BUCKETS):
                        lines.append(f"{name}_bucket{_fmt(labels, [('le', f'{bound:g}')])} {row[i]:g}")
                    lines.append(f"{name}_bucket{_fmt(labels, [('le', '+Inf')])} {row[-2]:g}")
                    lines.append(f"{name}_count{_fmt(labels)} {row[-2]:g}")
                    lines.append(f"{name}_sum{_fmt(labels)} {row[-1]:.6f}")
        for name, samples in sorted((gauges or {}).items()):
            kind, text = self.help.get(name, ("gauge", name))
            lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
            for labels, value in samples:
                lines.append(f"{name}{_fmt(_labels(labels))} {value:g}")
        return "\n".join(lines) + "\n"
