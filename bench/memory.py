"""Resident memory of a `salesbot run` process: idle, with the chart library loaded, after 100 pastes.

``python -m bench.memory [--pastes 100]``

Each figure comes from a fresh interpreter that imports what ``salesbot run`` imports (the CLI,
the bot application with every handler, the ingestion server) and warms the NLP resources as the
bot does at start-up (bot/app.py), then reads VmRSS from /proc:

- ``rss_idle_mb`` (target ≤ 150): that process idle.  matplotlib is imported only when a chart is
  drawn (services/charts.py is imported inside the functions that render; ``matplotlib_at_idle``
  checks it);
- per component, in that process: ``imports_mb`` (what `salesbot run` imports, over bare Python),
  ``nlp_warm_up_mb`` (tokenizer on the compact dictionary, IDF, lexicon; nlp/segment.py),
  ``first_paste_mb`` (numpy and the trained model, zhconv's tables, loaded by the first analysis);
- ``rss_idle_mb_jieba_dicts``: the baseline, same run: the same process warmed the way it was before
  nlp/segment.py, with jieba's own Tokenizer (its prefix dict, our words added) and
  jieba.analyse's IDF table (``jieba_dicts_cost_mb`` is the difference);
- ``idle_rss_mb_charts_eager``: the same process with the chart module imported at start, as it
  would be with a top-level import (the baseline the lazy import is measured against);
- ``rss_after_<N>_pastes_mb`` (target ≤ 170 for 100): idle, then ``--pastes`` different pasted
  conversations analysed;
- ``bare_python_rss_mb``: the interpreter alone.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import REPO

CHILD = r"""
import json, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
out = {"bare": rss()}
mode, pastes = sys.argv[1], int(sys.argv[2])
if mode != "bare":
    import cli.main, bot.app, ingest.server  # noqa: F401  what `salesbot run` imports
    out["imported"] = rss()
    if mode == "jieba":   # the baseline: warm-up as before nlp/segment.py
        import jieba.analyse
        from nlp.engine import DATA_DIR
        from nlp.lexicon import Lexicon
        from nlp.segment import jieba_tokenizer
        lexicon = Lexicon.load(DATA_DIR / "lexicon.toml")
        tokenizer = jieba_tokenizer(DATA_DIR, lexicon)
        idf = jieba.analyse.default_tfidf.idf_freq
        tokenizer.lcut("预热一下分词器，价格多少？")
    else:
        from bot.app import _warm_up_nlp
        _warm_up_nlp()
    out["warm"] = rss()
    if mode == "eager":
        import services.charts  # noqa: F401
    if mode == "pastes":
        from nlp import analyze
        lines = ["客户：你们这个价格能不能再便宜一点？我们预算有限", "我：这个已经是我们的最低价了，量大可以再谈",
                 "客户：那交期呢？下周三之前能到吗", "我：可以安排，下周二发货", "客户：好的，我跟老板商量一下，明天给你答复",
                 "客户：合同如果能分期付款，下个月可以签", "我：分期没问题，我发您方案"]
        analyze(lines[0], rep_names=("我",))
        out["first_paste"] = rss()
        for i in range(pastes):
            text = "\n".join(lines[(i + k) % len(lines)] + ("" if k else f" 第{i}次") for k in range(3 + i % 5))
            analyze(text, rep_names=("我",))
    out["matplotlib"] = "matplotlib" in sys.modules
out["rss"] = rss()
print(json.dumps(out))
"""


def measure(mode: str, pastes: int = 0) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, mode, str(pastes)], cwd=REPO, capture_output=True,
                            text=True, timeout=600, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--pastes", type=int, default=100)
    args = parser.parse_args(argv)
    from bench.common import report
    bare = measure("bare")
    idle = measure("idle")
    jieba_dicts = measure("jieba")
    eager = measure("eager")
    pastes = measure("pastes", args.pastes)
    report("bare_python_rss_mb", bare["rss"])
    report("rss_idle_mb", idle["rss"])
    report("imports_mb", idle["imported"] - bare["rss"])
    report("nlp_warm_up_mb", idle["warm"] - idle["imported"])
    report("rss_idle_mb_jieba_dicts", jieba_dicts["rss"])
    report("jieba_dicts_cost_mb", jieba_dicts["rss"] - idle["rss"])
    report("matplotlib_at_idle", idle["matplotlib"])
    report("idle_rss_mb_charts_eager", eager["rss"])
    report("charts_eager_cost_mb", eager["rss"] - idle["rss"])
    report("first_paste_mb", pastes["first_paste"] - pastes["warm"])
    report(f"rss_after_{args.pastes}_pastes_mb", pastes["rss"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
