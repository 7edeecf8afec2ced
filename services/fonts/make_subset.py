"""Rebuild the bundled CJK font subset (run once; the output is committed).

    python -m services.fonts.make_subset /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

Source: WenQuanYi Micro Hei (Debian package fonts-wqy-microhei; Apache-2.0 / GPLv3 with font
exception).  Kept: ASCII, Latin-1 punctuation, GB2312 symbols (rows 1-9: CJK punctuation,
full-width forms) and all GB2312 hanzi (level 1: ~3,755 common characters; level 2 too while the
file stays under ~2 MB), plus every CJK character used in the repo's playbook and texts.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = HERE / "wqy-microhei-gb2312.ttf"


def gb2312_chars(first_row: int, last_row: int) -> set[str]:
    chars: set[str] = set()
    for hi in range(first_row, last_row + 1):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def repo_chars() -> set[str]:
    chars: set[str] = set()
    for path in [REPO / "config.toml", *sorted((REPO / "core").glob("texts*.py"))]:
        if path.exists():
            chars |= set(re.findall(r"[\u2000-\u9fff\uff00-\uffef]", path.read_text(encoding="utf-8")))
    return chars


def main(src: str, level2: bool = True) -> None:
    wanted = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    wanted |= gb2312_chars(0xA1, 0xA9)           # symbols, punctuation, full-width forms
    wanted |= gb2312_chars(0xB0, 0xD7)           # level 1 hanzi (0xB0A1-0xD7F9)
    if level2:
        wanted |= gb2312_chars(0xD8, 0xF7)       # level 2 hanzi (names often use them)
    wanted |= set("↑↓→←▲▼★☆·…—–‰％")
    wanted |= repo_chars()
    font = TTCollection(src).fonts[0] if src.endswith(".ttc") else TTFont(src)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in wanted])
    subsetter.subset(font)
    font.save(str(OUT))
    print(f"{OUT.name}: {len(wanted)} characters, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
         level2="--level1-only" not in sys.argv)
