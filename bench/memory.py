"""Resident memory of a `salesbot run` process: idle, with the chart library loaded, after 100 pastes.

``python -m bench.memory [--pastes 100]``

Each figure comes from a fresh interpreter that imports what ``salesbot run`` imports (the CLI,
the bot application with every handler, the ingestion server) and warms the NLP resources as the
bot does at start-up (bot/app.py), then reads VmRSS from /proc:

- ``idle_rss_mb``: that process idle.  matplotlib is imported only when a chart is drawn
  (services/charts.py is imported inside the functions that render; ``matplotlib_at_idle`` checks it);
- ``idle_rss_mb_charts_eager``: the same process with the chart module imported at start, as it
  would be with a top-level import (the baseline the lazy import is measured against);
- ``rss_after_pastes_mb``: idle, then ``--pastes`` different pasted conversations analysed;
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
    from bot.app import _warm_up_nlp
    _warm_up_nlp()
    if mode == "eager":
        import services.charts  # noqa: F401
    if mode == "pastes":
        from nlp import analyze
        lines = ["客户：你们这个价格能不能再便宜一点？我们预算有限", "我：这个已经是我们的最低价了，量大可以再谈",
                 "客户：那交期呢？下周三之前能到吗", "我：可以安排，下周二发货", "客户：好的，我跟老板商量一下，明天给你答复",
                 "客户：合同如果能分期付款，下个月可以签", "我：分期没问题，我发您方案"]
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
    eager = measure("eager")
    pastes = measure("pastes", args.pastes)
    report("bare_python_rss_mb", bare["rss"])
    report("idle_rss_mb", idle["rss"])
    report("matplotlib_at_idle", idle["matplotlib"])
    report("idle_rss_mb_charts_eager", eager["rss"])
    report("charts_eager_cost_mb", eager["rss"] - idle["rss"])
    report(f"rss_after_{args.pastes}_pastes_mb", pastes["rss"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
