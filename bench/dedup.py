"""Benchmark of the duplicate guard's precision and recall. Run: python -m bench.dedup [--seed N] [--entities N]

A generated set of companies with known truth, built from vocabulary and formatting habits, never
from the matcher's rules (the generator does not import it):

* true duplicates of one party (one group): the same phone written another way (+86, 0086, spaces,
  dashes); a subsidiary or branch (X(苏州)分公司, X集团有限公司, 苏州X有限公司); look-alike letters
  (Cyrillic А/с/е/о/р in a Latin name); abbreviations (the legal form or the trade dropped,
  Co., Ltd. ↔ Ltd, International ↔ Intl); spacing and full-width brackets;
* distinct companies with near names, each its own party with its own phone: sister companies that
  differ only in a number or code (X精密机械一厂/二厂, X 3号店/5号店, X A01/A02, Acme 2 Ltd/Acme 3 Ltd)
  and brands one character apart (宏达精密机械 / 宏远精密机械).

Records arrive in a shuffled order. Each is checked against the records accepted before it (as the
guard does: a duplicate is refused, not stored); candidates are every accepted record sharing the
phone or a two-character piece of the company core, so the figures measure the matching rule, not
the index. Per record:

* precision = flagged records whose every match is the same party / flagged records;
* recall = records whose party was already accepted that are flagged with a match of that party /
  such records.

Printed for the current guard (services.company_names: company_core with the confusables skeleton,
company_match with codes as significant tokens) and, in the same run on the same records, for the
guard as it was before (``_old_core``/``_old_match`` below: a frozen copy of commit 5be1c14's rules):

    dedup_records, dedup_true_duplicates, dedup_precision, dedup_recall,
    dedup_baseline_precision, dedup_baseline_recall, and per kind the misses and false merges;
    dedup_db_precision / dedup_db_recall: the same records through the deployed path
    (services.customers.check_duplicates on a SQLite file, candidates from the gram index).
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

from bench.common import report

CITIES = ["苏州", "无锡", "杭州", "宁波", "南京", "上海", "深圳", "广州", "成都", "武汉", "青岛", "厦门", "合肥", "长沙", "佛山",
          "东莞", "郑州", "济南", "西安", "天津"]
BRAND_CHARS = list("宏达远华鑫隆盛泰恒通利源丰瑞祥和昌兴信诚金鼎安康永嘉汇联创新博精宇腾飞辉星海天虹宝德正升凯旭晟润邦"
                   "荣耀铭峰启明亚欧中美佳")
TRADES = ["精密机械", "电子科技", "化工材料", "纺织服装", "食品", "物流", "建材", "医疗器械", "信息技术", "环保设备", "汽车配件",
          "新能源", "五金制品", "塑胶", "包装材料", "光电", "家具", "印刷", "仪器仪表", "电气"]
LEGAL = ["有限公司", "股份有限公司", "有限责任公司"]
EN_WORDS = ["Acme", "Orion", "Summit", "Pioneer", "Vertex", "Harbor", "Crescent", "Apex", "Nova", "Atlas", "Zenith",
            "Beacon", "Cobalt", "Falcon", "Granite", "Maple", "Pacific", "Sterling", "Titan", "Meridian", "Evergreen",
            "Keystone", "Liberty", "Northstar", "Redwood", "Silverline", "Trident", "Unity", "Venture", "Willow"]
EN_TRADES = ["Trading", "Electronics", "Machinery", "Logistics", "Materials", "Technology", "Industrial", "Textiles"]
EN_LEGAL = [" Co., Ltd.", " Ltd.", " Limited", " Inc.", " Co., Ltd"]
# Latin letters and the Cyrillic letters that look the same.
LOOKALIKE = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "A": "А", "B": "В", "C": "С",
             "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х"}
CN_NUM = "一二三四五六七八九"


@dataclass
class Record:
    company: str
    phone: str
    party: int
    kind: str  # base | phone_format | subsidiary | lookalike | abbreviation | spacing | sister_code | near_brand


# Held-out forms: written after the matcher was finished and run once, not tuned against (see --holdout).
TRADITIONAL = str.maketrans("华东达远鑫隆盛泰恒通利源丰瑞祥兴诚鼎康汇联创宇腾飞辉星宝德升凯晟润邦荣耀铭启亚欧机械电子科技纺织服装食品物流医疗器环设备汽车配件新能源五金制品塑胶包装材料光印刷仪表气",
                            "華東達遠鑫隆盛泰恆通利源豐瑞祥興誠鼎康匯聯創宇騰飛輝星寶德昇凱晟潤邦榮耀銘啟亞歐機械電子科技紡織服裝食品物流醫療器環設備汽車配件新能源五金製品塑膠包裝材料光印刷儀表氣")
GREEK = {"A": "Α", "B": "Β", "E": "Ε", "H": "Η", "I": "Ι", "K": "Κ", "M": "Μ", "N": "Ν", "O": "Ο", "P": "Ρ", "T": "Τ",
         "X": "Χ", "Y": "Υ", "Z": "Ζ", "o": "ο", "v": "ν"}


class Generator:
    def __init__(self, seed: int, holdout: bool = False) -> None:
        self.holdout = holdout
        self.rng = random.Random(seed)
        self.used_phones: set[str] = set()
        self.used_names: set[str] = set()
        self.party = 0

    def phone(self) -> str:
        while True:
            p = "1" + self.rng.choice("3456789") + "".join(self.rng.choice("0123456789") for _ in range(9))
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def new_party(self) -> int:
        self.party += 1
        return self.party

    def brand(self) -> str:
        while True:
            b = "".join(self.rng.sample(BRAND_CHARS, 2))
            if b not in self.used_names:
                self.used_names.add(b)
                return b

    def latin_head(self) -> str:
        while True:
            head = " ".join(self.rng.sample(EN_WORDS, 2))
            if head not in self.used_names:
                self.used_names.add(head)
                return head

    def formatted(self, phone: str) -> str:
        style = self.rng.randrange(4)
        if style == 0:
            return f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if style == 1:
            return f"0086{phone}"
        if style == 2:
            return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        return f"(+86){phone}"

    def chinese(self) -> list[Record]:
        rng = self.rng
        party, phone = self.new_party(), self.phone()
        brand, trade = self.brand(), rng.choice(TRADES)
        if rng.random() < 0.1:  # a Latin brand inside a Chinese name (ACME精密机械)
            brand = rng.choice(EN_WORDS).upper() + brand
        city = rng.choice(CITIES) if rng.random() < 0.3 else ""
        base = f"{city}{brand}{trade}{rng.choice(LEGAL)}"
        out = [Record(base, phone, party, "base")]
        for kind in self._variant_kinds(latin=brand.isascii() or any(ch.isascii() for ch in brand)):
            if kind == "phone_format":
                out.append(Record(rng.choice([base, f"{brand}{trade}{rng.choice(LEGAL)}"]), self.formatted(phone), party, kind))
            elif kind == "subsidiary":
                other = rng.choice([c for c in CITIES if c != city])
                name = rng.choice([f"{brand}{trade}({other})分公司", f"{brand}{trade}集团有限公司", f"{brand}{trade}{other}分公司",
                                   f"{brand}{trade}{other}办事处"])
                out.append(Record(name, self.phone(), party, kind))
            elif kind == "abbreviation":
                out.append(Record(rng.choice([f"{brand}{trade}", f"{city}{brand}{trade}"]), self.phone(), party, kind))
            elif kind == "spacing":
                out.append(Record(f"{brand}{trade} {rng.choice(LEGAL)}".replace("(", "（"), self.phone(), party, kind))
            elif kind == "lookalike":
                out.append(Record(self.lookalike(base), self.phone(), party, kind))
            elif kind == "traditional":
                out.append(Record(base.translate(TRADITIONAL), self.phone(), party, kind))
            elif kind == "china_paren":
                out.append(Record(f"{brand}{rng.choice(['(中国)', '（中国）'])}{trade}{rng.choice(LEGAL)}", self.phone(), party, kind))
            elif kind == "group_listed":
                out.append(Record(f"{brand}{trade}集团股份有限公司", self.phone(), party, kind))
        return out

    def latin(self) -> list[Record]:
        rng = self.rng
        party, phone = self.new_party(), self.phone()
        head = self.latin_head()
        trade = rng.choice(EN_TRADES)
        intl = rng.random() < 0.3
        stem = f"{head}{' International' if intl else ''} {trade}"
        base = stem + rng.choice(EN_LEGAL)
        out = [Record(base, phone, party, "base")]
        for kind in self._variant_kinds(latin=True):
            if kind == "phone_format":
                out.append(Record(base, self.formatted(phone), party, kind))
            elif kind == "subsidiary":
                out.append(Record(f"{stem} ({rng.choice(['Suzhou', 'Shanghai', 'Shenzhen'])}) Branch", self.phone(), party, kind))
            elif kind == "abbreviation":
                short = stem.replace(" International", " Intl") if intl else stem
                out.append(Record(short + rng.choice(["", " Ltd", " Co"]), self.phone(), party, kind))
            elif kind == "spacing":
                out.append(Record(base.replace(" ", "  ").upper(), self.phone(), party, kind))
            elif kind == "lookalike":
                out.append(Record(self.lookalike(base), self.phone(), party, kind))
            elif kind == "greek":
                chars = [GREEK.get(ch, ch) if self.rng.random() < 0.5 else ch for ch in base]
                out.append(Record("".join(chars), self.phone(), party, kind))
            elif kind == "corporation":
                out.append(Record(stem + rng.choice([" Corp.", " Corporation", " Company Limited", " Holdings Ltd"]),
                                  self.phone(), party, kind))
            elif kind == "fullwidth":
                out.append(Record(unicodedata.normalize("NFKC", base).translate(
                    {c: c + 0xFEE0 for c in range(0x21, 0x7F)}), self.phone(), party, kind))
        return out

    def _variant_kinds(self, latin: bool) -> list[str]:
        kinds = ["phone_format", "subsidiary", "abbreviation", "spacing"] + (["lookalike"] * 2 if latin else [])
        if self.holdout:
            kinds = (["greek", "corporation", "fullwidth", "phone_format"] if latin
                     else ["traditional", "china_paren", "group_listed", "phone_format"])
        n = self.rng.choices([0, 1, 2], weights=[55, 30, 15])[0]
        return self.rng.sample(kinds, n)

    def lookalike(self, name: str) -> str:
        spots = [i for i, ch in enumerate(name) if ch in LOOKALIKE]
        chars = list(name)
        for i in self.rng.sample(spots, min(len(spots), self.rng.randint(1, 3))):
            chars[i] = LOOKALIKE[chars[i]]
        return "".join(chars)

    def sisters(self) -> list[Record]:
        """Two or three companies whose names differ only in a number or code: distinct parties."""
        rng = self.rng
        brand, trade = self.brand(), rng.choice(TRADES)
        city = rng.choice(CITIES) if rng.random() < 0.4 else ""
        form = rng.randrange(7) if not self.holdout else rng.choice([7, 8, 9])
        numbers = rng.sample(range(1, 10) if form in (0, 2) else range(1, 40), rng.randint(2, 3))
        letter = rng.choice("ABCDK")
        out = []
        for n in numbers:
            if form == 0:
                name = f"{city}{brand}{trade}{CN_NUM[n - 1]}厂"
            elif form == 1:
                name = f"{city}{brand}{trade}{n}厂"
            elif form == 2:
                name = f"{city}{brand}{trade}第{CN_NUM[n - 1]}门市部"
            elif form == 3:
                name = f"{city}{brand}{trade}{letter}{n:02d}{rng.choice(LEGAL)}"
            elif form == 4:
                name = f"{city}{brand}{trade}{n}号店"
            elif form == 5:
                name = f"{brand}{trade}{rng.choice(LEGAL)}{n}号仓"
            elif form == 7:
                name = f"{city}{brand}{trade}{n}期项目部"
            elif form == 8:
                name = f"{brand}{trade}{rng.choice(LEGAL)}第{n}分公司"
            elif form == 9:
                name = f"{brand}{trade}({n}号园区){rng.choice(LEGAL)}"
            else:
                if out:  # the same words for every sister
                    name = re.sub(r" \d+ ", f" {n} ", out[0].company)
                else:
                    name = f"{self.latin_head()} {n} {rng.choice(EN_TRADES)}{rng.choice(EN_LEGAL)}"
            out.append(Record(name, self.phone(), self.new_party(), "sister_code"))
        return out

    def near_brands(self) -> list[Record]:
        """Brands one character apart in the same trade: distinct parties."""
        rng = self.rng
        first, trade = self.brand(), rng.choice(TRADES)
        while True:
            second = first[0] + rng.choice(BRAND_CHARS)
            if second != first and second not in self.used_names:
                self.used_names.add(second)
                break
        return [Record(f"{b}{trade}{rng.choice(LEGAL)}", self.phone(), self.new_party(), "near_brand") for b in (first, second)]

    def records(self, entities: int) -> list[Record]:
        out: list[Record] = []
        for _ in range(entities):
            roll = self.rng.random()
            if roll < 0.62:
                out.extend(self.chinese())
            elif roll < 0.82:
                out.extend(self.latin())
            elif roll < 0.92:
                out.extend(self.sisters())
            else:
                out.extend(self.near_brands())
        self.rng.shuffle(out)
        return out


# --- the guard before this change (commit 5be1c14), frozen here as the baseline ------------------

_OLD_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团股份有限公司", "集团公司", "集团",
    "控股", "股份公司", "公司", "co.,ltd.", "co., ltd.", "co.,ltd", "co. ltd", "co ltd", "ltd.", "ltd",
    "inc.", "inc", "corp.", "corp", "llc", "gmbh", "limited", "group", "company",
)
_OLD_BRANCH = re.compile(r"(分公司|子公司|分部|办事处|分厂|事业部|分店|分院)$")
_OLD_REGIONS = "北京|上海|天津|重庆|深圳|广州|杭州|南京|苏州|成都|武汉|西安|宁波|无锡|青岛|厦门|长沙|郑州|合肥|济南|东莞|佛山|浙江|江苏|广东|山东|福建|四川|湖北|湖南|河南|河北|安徽"
_OLD_REGION_SUFFIX = re.compile(rf"({_OLD_REGIONS})(市|省|区)?$")
_OLD_PUNCT = re.compile(r"[\s·•.,，。、()（）\[\]【】\-_/\\&+'\"“”]+")


def _old_core(raw: str | None) -> str | None:
    if not raw:
        return None
    name = unicodedata.normalize("NFKC", raw).strip().lower()
    for _ in range(3):
        before = name
        name = _OLD_BRANCH.sub("", name).strip()
        name = re.sub(r"[\(（][^()（）]{1,8}[\)）]$", "", name).strip()
        if len(name) > 4:
            name = _OLD_REGION_SUFFIX.sub("", name).strip()
        for suffix in _OLD_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                name = name[: -len(suffix)].strip()
        if name == before:
            break
    name = _OLD_PUNCT.sub("", name)
    return name or None


def _old_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if len(a) >= 3 and len(b) >= 3 and (a in b or b in a):
        return 0.9 + 0.1 * min(len(a), len(b)) / max(len(a), len(b))
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)} or {a}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)} or {b}
    return 2 * len(grams_a & grams_b) / (len(grams_a) + len(grams_b))


def _old_match(core: str | None, other: str | None, threshold: float) -> bool:
    if not core or not other:
        return False
    return core == other or (len(core) >= 3 and _old_similarity(core, other) >= threshold)


def _new_match(core: str | None, other: str | None, threshold: float) -> bool:
    from services.company_names import company_match
    return company_match(core, other, threshold) is not None


# --- evaluation ------------------------------------------------------------------------------------

def evaluate(records: list[Record], core_of, match, threshold: float, show: int = 0) -> dict[str, float]:
    from services.cleaning import normalize_phone
    accepted: list[tuple[Record, str | None, str | None]] = []
    by_phone: dict[str, list[int]] = defaultdict(list)
    by_gram: dict[str, list[int]] = defaultdict(list)
    flagged = correct = positives = caught = 0
    misses: Counter = Counter()
    false_merges: Counter = Counter()
    for rec in records:
        phone, core = normalize_phone(rec.phone), core_of(rec.company)
        candidates: set[int] = set(by_phone.get(phone, ())) if phone else set()
        grams = {core[i:i + 2] for i in range(len(core) - 1)} or {core} if core else set()
        for gram in grams:
            candidates.update(by_gram.get(gram, ()))
        matches = [i for i in candidates if (phone and accepted[i][1] == phone) or match(core, accepted[i][2], threshold)]
        party_seen = any(a.party == rec.party for a, _, _ in accepted)
        if party_seen:
            positives += 1
            if any(accepted[i][0].party == rec.party for i in matches):
                caught += 1
            else:
                misses[rec.kind] += 1
                if show and sum(misses.values()) <= show:
                    mates = [a.company for a, _, _ in accepted if a.party == rec.party]
                    print(f"  miss ({rec.kind}): {rec.company!r} [{core}] vs {mates}", file=sys.stderr)
        if matches:
            flagged += 1
            if all(accepted[i][0].party == rec.party for i in matches):
                correct += 1
            else:
                false_merges[rec.kind] += 1
                if show and sum(false_merges.values()) <= show:
                    wrong = [accepted[i][0].company for i in matches if accepted[i][0].party != rec.party]
                    print(f"  false merge ({rec.kind}): {rec.company!r} [{core}] with {wrong}", file=sys.stderr)
            continue  # refused as a duplicate: not stored
        index = len(accepted)
        accepted.append((rec, phone, core))
        if phone:
            by_phone[phone].append(index)
        for gram in grams:
            by_gram[gram].append(index)
    return {"precision": correct / flagged if flagged else 1.0, "recall": caught / positives if positives else 1.0,
            "flagged": flagged, "positives": positives, "misses": misses, "false_merges": false_merges}


def evaluate_db(records: list[Record], config) -> dict[str, float]:
    """The same walk through the deployed path: services.customers.check_duplicates on a SQLite file
    (the gram index picks the candidates), a record that is not a duplicate stored with its index rows."""
    import tempfile
    from pathlib import Path

    from services.customers import check_duplicates, index_company
    from services.cleaning import normalize_phone
    from services.company_names import company_core
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Customer, Team
    tmp = tempfile.mkdtemp(prefix="bench-dedup-")
    url = f"sqlite:///{Path(tmp) / 'dedup.db'}"
    upgrade(url)
    db = Database(url)
    party_of: dict[int, int] = {}
    flagged = correct = positives = caught = 0
    seen: set[int] = set()
    try:
        def walk(session):
            nonlocal flagged, correct, positives, caught
            from datetime import datetime
            now = datetime(2026, 12, 1)
            team = Team(name="bench", created_at=now)
            session.add(team)
            session.flush()
            for rec in records:
                matches = check_duplicates(session, config, phone=rec.phone, company=rec.company)
                if rec.party in seen:
                    positives += 1
                    caught += any(party_of[m.customer.id] == rec.party for m in matches)
                if matches:
                    flagged += 1
                    correct += all(party_of[m.customer.id] == rec.party for m in matches)
                    continue
                customer = Customer(team_id=team.id, name=rec.company[:50], company=rec.company, phone=rec.phone,
                                    phone_norm=normalize_phone(rec.phone), company_norm=company_core(rec.company),
                                    stage="lead", stage_entered_at=now, created_at=now, updated_at=now, custom={})
                session.add(customer)
                session.flush()
                index_company(session, customer)
                party_of[customer.id] = rec.party
                seen.add(rec.party)
        db.call(walk)
    finally:
        db.close()
    return {"precision": correct / flagged if flagged else 1.0, "recall": caught / positives if positives else 1.0}


def run(args) -> int:
    from core.config import load_config
    from services.company_names import company_core
    threshold = load_config().duplicates.fuzzy_threshold
    records = Generator(args.seed, holdout=args.holdout).records(args.entities)
    kinds = Counter(r.kind for r in records)
    started = time.perf_counter()
    new = evaluate(records, company_core, _new_match, threshold, args.show)
    new_s = time.perf_counter() - started
    old = evaluate(records, _old_core, _old_match, threshold)
    report("dedup_records", len(records))
    report("dedup_parties", len({r.party for r in records}))
    report("dedup_true_duplicates", new["positives"])
    report("dedup_near_name_distinct", kinds["sister_code"] + kinds["near_brand"])
    report("dedup_precision", f"{new['precision']:.4f}")
    report("dedup_recall", f"{new['recall']:.4f}")
    report("dedup_baseline_precision", f"{old['precision']:.4f}")
    report("dedup_baseline_recall", f"{old['recall']:.4f}")
    for label, result in (("", new), ("baseline_", old)):
        for kind in sorted(kinds):
            if result["misses"][kind] or result["false_merges"][kind]:
                report(f"dedup_{label}misses_{kind}", result["misses"][kind])
                report(f"dedup_{label}false_merges_{kind}", result["false_merges"][kind])
    report("dedup_check_ms_per_record", f"{1000 * new_s / len(records):.3f}")
    if not args.no_db:
        started = time.perf_counter()
        deployed = evaluate_db(records, load_config())
        report("dedup_db_precision", f"{deployed['precision']:.4f}")
        report("dedup_db_recall", f"{deployed['recall']:.4f}")
        report("dedup_db_check_ms_per_record", f"{1000 * (time.perf_counter() - started) / len(records):.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--holdout", action="store_true",
                        help="other variant forms (traditional script, Greek look-alikes, (中国), Corp., full-width, "
                             "project/branch numbers), written after the matcher and not tuned against")
    parser.add_argument("--no-db", action="store_true", help="skip the walk through check_duplicates on SQLite")
    parser.add_argument("--show", type=int, default=0, help="print up to N misses and false merges (stderr)")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
