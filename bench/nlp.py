"""Benchmark of the conversation reader (nlp/). Run: python -m bench.nlp [--quick]

Prints one `figure_name: value` a line:

* lcut_chars_per_s     — the baseline: jieba lcut with the SAME tokenizer settings analyze() uses
  (a jieba.Tokenizer with salesbot's dictionary: jieba's plus our user dictionary and lexicon
  words, HMM off, lower-cased text) on the text
* nlp_chars_per_s      — full nlp.analyze.analyze() (normalization, lexicon, clauses, trained
  model) on the same text, same run
* nlp_ratio_to_lcut    — the two above divided (target ≥ 0.8); also printed as
  nlp_ratio_to_lcut_same_settings, the name issue 18 gives it. The baseline, the compact
  tokenizer and analyze() are timed in alternating rounds after one warm call each (the first
  analysis loads the model)
* nlp_ratio_to_lcut_cpu, nlp_cpu_ms_per_100k_chars, lcut_cpu_ms_per_100k_chars — the same from
  CPU time (time.process_time), less sensitive to the machine's load
* compact_lcut_chars_per_s — the tokenizer analyze() uses (nlp/segment.py: the same cuts on a
  compact copy of that dictionary), same text, same run
* lcut_default_chars_per_s — plain jieba.lcut (default dictionary, HMM on), for reference only
* nlp_p50_ms / nlp_p99_ms — analyze() on a 2,000-character paste, warm, model on (target p50 ≤ 5 ms)
* nlp_cpu_p50_ms        — the CPU time (time.process_time) of those calls, median
* nlp_lexicon_only_p50_ms — the same with the trained model off
* nlp_200k_p99_ms      — analyze() on a 200,000-character paste (target < 1 s)
* model_rss_mb         — resident memory the trained model adds (numpy and weights, subprocess;
  target ≤ 30 MB)
* nlp_cold_start_s     — fresh interpreter: import + warm_up() + first analysis (subprocess)
* nlp_peak_rss_mb      — peak RSS of that subprocess after also analysing a 20,000-char paste
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta

# Short exchanges in the formats reps paste; the bench text cycles through them.
_EXCHANGES = [
    ("王总", "你好，你们这个CRM一年多少钱？我们大概三十个销售，客户都记在Excel里，乱得很。"),
    ("小李", "王总您好！标准版每个账号每年1200元，现在有优惠，可以免费试用30天，Excel能一键导入。"),
    ("王总", "价格有点高啊，我们之前看的纷享销客便宜一些，不过他们售后不太行。能对接企业微信吗？"),
    ("小李", "可以对接企业微信的会话存档，聊天记录自动归档到客户名下。价格我可以帮您申请9折。"),
    ("王总", "那你先把报价单发我[图片]，我跟老板汇报一下，下周给你答复。有没有同行业的案例？"),
    ("小李", "有的，我把两家做工业配件的客户案例一起发您 https://example.com/case 😊"),
    ("王总", "好的。另外付款能不能分两期？我们月底前想先上线销售部。"),
    ("小李", "可以的，首付50%，上线验收后付尾款。我今天把合同模板也发您。"),
    ("王总", "行，合同发过来我们法务看一下，没问题就签。[语音] 8\""),
    ("小李", "好的王总，下午三点前发您邮箱。"),
]


def make_paste(chars: int, start: datetime = datetime(2024, 3, 5, 9, 0)) -> str:
    """A WeChat-style copied record of at least `chars` characters."""
    parts, when, i = [], start, 0
    while sum(len(p) for p in parts) < chars:
        name, text = _EXCHANGES[i % len(_EXCHANGES)]
        parts.append(f"{name} {when:%Y/%m/%d %H:%M}\n{text}\n")
        when += timedelta(minutes=7)
        i += 1
    return "".join(parts)


def _chars_per_second(fn, text: str, min_seconds: float) -> float:
    fn(text)                      # warm: first-call loading (the model, caches) is not timed
    runs, started = 0, time.perf_counter()
    while True:
        fn(text)
        runs += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds and runs >= 2:
            return len(text) * runs / elapsed


def _interleaved(fns: dict, text: str, min_seconds: float) -> dict[str, tuple[float, float]]:
    """name → (chars/s wall, chars/s CPU) for each fn, timed in alternating rounds on the same
    text after one warm call each, so that a change in the machine's load hits all of them."""
    for fn in fns.values():
        fn(text)
    wall = dict.fromkeys(fns, 0.0)
    cpu = dict.fromkeys(fns, 0.0)
    rounds, started = 0, time.perf_counter()
    while rounds < 2 or time.perf_counter() - started < min_seconds * len(fns):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            fn(text)
            cpu[name] += time.process_time() - c
            wall[name] += time.perf_counter() - w
        rounds += 1
    return {name: (len(text) * rounds / wall[name], len(text) * rounds / max(cpu[name], 1e-9))
            for name in fns}


# Peak RSS is read from VmHWM: getrusage()'s ru_maxrss survives fork+exec on Linux, so a child
# started from this (large) process would report our own peak instead of its own.
_COLD_START = r"""
import json, resource, sys, time
def peak_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
SHORT = "王总 2024/3/5 10:21\n你好，多少钱？\n小李 2024/3/5 10:22\n您好，1200一年"
started = time.perf_counter()
from nlp import engine, model
model.set_enabled(False)
from nlp.analyze import analyze
engine.warm_up()
analyze(SHORT, rep_names=["小李"])
cold_lexicon = time.perf_counter() - started
text = sys.stdin.read()
analyze(text, rep_names=["小李"])
before = rss_mb()
started = time.perf_counter()
model.set_enabled(True)
loaded = model.load() is not None
analyze(SHORT, rep_names=["小李"])
load_s = time.perf_counter() - started
analyze(text, rep_names=["小李"])
print(json.dumps({"cold": cold_lexicon + load_s, "peak_mb": peak_mb(), "model_mb": rss_mb() - before,
                  "loaded": loaded}))
"""


def _timings(analyze, text: str, runs: int, warm: int = 20, cpu: list | None = None) -> list[float]:
    """Wall milliseconds per call, sorted; CPU milliseconds (time.process_time) into `cpu`."""
    for _ in range(warm):
        analyze(text, rep_names=["小李"])
    timings = []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        analyze(text, rep_names=["小李"])
        timings.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - cpu_started) * 1000)
    if cpu is not None:
        cpu.sort()
    return sorted(timings)


def _p99(timings: list[float]) -> float:
    return timings[min(len(timings) - 1, int(len(timings) * 0.99))]


def cold_start_and_rss(long_paste: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _COLD_START], input=long_paste, text=True,
                         capture_output=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    import logging

    import jieba

    from nlp import engine
    from nlp.analyze import analyze

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()                   # the baseline's own dictionary load is not measured
    engine.warm_up()

    from nlp import model

    big = make_paste(20_000 if quick else 100_000)
    seconds = 0.5 if quick else 2.0
    # The baseline is jieba's own Tokenizer with salesbot's dictionary (jieba's + userdict +
    # lexicon words), not the compact copy analyze() segments with (nlp/segment.py).
    from nlp.segment import jieba_tokenizer
    tokenizer = jieba_tokenizer(engine.DATA_DIR)
    compact = engine.resources().tokenizer
    rates = _interleaved({
        "same": lambda t: tokenizer.lcut(t.lower(), HMM=engine.USE_HMM),
        "ours": lambda t: compact.lcut(t.lower(), HMM=engine.USE_HMM),
        "nlp": lambda t: analyze(t, rep_names=["小李"]),
    }, big, seconds)
    (same, same_cpu), (ours, _), (nlp, nlp_cpu) = rates["same"], rates["ours"], rates["nlp"]
    default = _chars_per_second(jieba.lcut, big, seconds)

    paste = make_paste(2_000)[:2_000]
    with_model_cpu: list[float] = []
    with_model = _timings(analyze, paste, 100 if quick else 400, cpu=with_model_cpu)
    model.set_enabled(False)
    lexicon_only = _timings(analyze, paste, 100 if quick else 400)
    model.set_enabled(True)
    huge = make_paste(200_000)[:200_000]
    long_runs = _timings(analyze, huge, 3 if quick else 10, warm=1)
    cold = cold_start_and_rss(make_paste(20_000))

    figures = {
        "lcut_chars_per_s": round(same),
        "nlp_chars_per_s": round(nlp),
        "nlp_ratio_to_lcut": round(nlp / same, 2),
        "nlp_ratio_to_lcut_same_settings": round(nlp / same, 2),   # the name for the same figure
        "nlp_ratio_to_lcut_cpu": round(nlp_cpu / same_cpu, 2),       # the same from CPU time
        "nlp_cpu_ms_per_100k_chars": round(100_000 / nlp_cpu * 1000, 1),
        "lcut_cpu_ms_per_100k_chars": round(100_000 / same_cpu * 1000, 1),
        "lcut_default_chars_per_s": round(default),
        "compact_lcut_chars_per_s": round(ours),
        "model_loaded": model.load() is not None,
        "nlp_p50_ms": round(statistics.median(with_model), 2),
        "nlp_p99_ms": round(_p99(with_model), 2),
        "nlp_cpu_p50_ms": round(statistics.median(with_model_cpu), 2),
        "nlp_lexicon_only_p50_ms": round(statistics.median(lexicon_only), 2),
        "nlp_200k_p99_ms": round(_p99(long_runs), 1),
        "nlp_cold_start_s": round(cold["cold"], 2),
        "nlp_peak_rss_mb": round(cold["peak_mb"], 1),
        "model_rss_mb": round(cold["model_mb"], 1),
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
