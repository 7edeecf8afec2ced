"""Pinyin typed instead of Hanzi ("hao de", "tai gui le", "ming tian qian he tong"): find runs
of pinyin syllables and write the common sales words and phrases of a small table in Hanzi,
so that the lexicon and the model read them.

* A run is a sequence of Latin words separated by spaces (or one word written without
  spaces, "xiexie"). It is read as pinyin only when EVERY word of it is a pinyin syllable
  (or splits into syllables), so English ("we are ok", "please send the quote") is left alone.
* Words are turned into Hanzi by longest match over the table (up to 5 syllables); syllables
  the table does not know stay as they were. A word written without spaces is converted only
  when the table covers all of it ("haode" → 好的; "change" stays English).
* Tone marks and tone digits are not handled: chat pinyin is typed without them.

No package is needed (pypinyin goes the other way, Hanzi → pinyin).
"""
from __future__ import annotations

import re

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
             "z", "c", "s", "y", "w", "")
# Standard syllables (Hanyu Pinyin table, tone-less, ü written as v or u).
_SYLLABLES = frozenset("""
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen
ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci
cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du
duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong
gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang
hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken
keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie
lin ling liu lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min
ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan
nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao
qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai
san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang
shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou
tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan
xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha
zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong
zou zu zuan zui zun zuo
""".split())

# Common sales-chat words and phrases; keys are syllables joined by spaces.
_TABLE_TEXT = """
hao de=好的; hao=好; xing=行; ke yi=可以; mei wen ti=没问题; xie xie=谢谢; duo xie=多谢; bu yong le=不用了
bu yong=不用; bu xu yao=不需要; bu xu yao le=不需要了; xu yao=需要; bu yao=不要; yao=要; bu gan xing qu=不感兴趣
gan xing qu=感兴趣; tai gui le=太贵了; tai gui=太贵; you dian gui=有点贵; gui=贵; pian yi=便宜; pian yi dian=便宜点
bian yi=便宜; jia ge=价格; jia qian=价钱; bao jia=报价; bao jia dan=报价单; duo shao qian=多少钱; duo shao=多少
you hui=优惠; zhe kou=折扣; he tong=合同; qian he tong=签合同; qian=签; qian yue=签约; fu kuan=付款; ding jin=定金
fa piao=发票; kai piao=开票; xia dan=下单; ding dan=订单; cai gou=采购; yu suan=预算; mei you yu suan=没有预算
mei qian=没钱; fang an=方案; shi yong=试用; yang pin=样品; jiao huo=交货; fa huo=发货; dao huo=到货; ming tian=明天
jin tian=今天; hou tian=后天; xia zhou=下周; xia ge yue=下个月; zhe zhou=这周; ma shang=马上; yi hou=以后
yi hou zai shuo=以后再说; zai shuo=再说; zai shuo ba=再说吧; xian bu yong=先不用; kao lv=考虑; 
zai kao lv=再考虑; kao lv yi xia=考虑一下; xiang xiang=想想; zai xiang xiang=再想想; lao ban=老板; ling dao=领导
shen pi=审批; tong yi=同意; pi le=批了; wen wen=问问; shang liang=商量; gong ying shang=供应商; bie jia=别家
qi ta jia=其他家; yi jing you le=已经有了; you gong ying shang=有供应商; zhi liang=质量; kao pu=靠谱
bu fang xin=不放心; fang xin=放心; shou hou=售后; an zhuang=安装; fu wu=服务; mang=忙; hen mang=很忙; mei kong=没空
you kong=有空; bu ji=不急; ji=急; hen ji=很急; chan pin=产品; zi liao=资料; fa wo=发我; fa gei wo=发给我
ke yi de=可以的; zen me=怎么; shen me shi hou=什么时候; ji tian=几天; shen me=什么; ma=吗; ne=呢; ba=吧; le=了; a=啊
hao le=好了; dui=对; shi de=是的; en=嗯; o=哦; en en=嗯嗯; zhi dao le=知道了; suan le=算了; bu kao lv=不考虑
mei xing qu=没兴趣; bu he shi=不合适; wo men=我们; ni men=你们; wo=我; ni=你; ta men=他们; zai=在; gei=给; he=和
gen=跟; dou=都; xian=先; hai=还; yi xia=一下; kan kan=看看; kan yi xia=看一下; bu cuo=不错; ting hao=挺好; man yi=满意
jue ding=决定; bu=不; mei you=没有; you=有; shi=是; mei=没; bu shi=不是; dui de=对的; xing de=行的
bu hao yi si=不好意思; mai=买; yao mai=要买; bu mai=不买; ding=定; ding le=定了; jiu zhe yang=就这样
"""
TABLE: dict[tuple[str, ...], str] = {
    tuple(k.split()): v.strip()
    for k, v in (item.split("=") for item in _TABLE_TEXT.replace("\n", ";").split(";") if item.strip())}
_LONGEST = max(len(k) for k in TABLE)


_INITIAL_ORDER = sorted(_INITIALS, key=len, reverse=True)
# Lower case only: "Hao Ran" or "Zhang Wei" in a header is a name, not words.
_RUN = re.compile(r"(?<![A-Za-z0-9])[a-z]+(?:[ \t]+[a-z]+)*(?![A-Za-z0-9])")


def syllables(word: str) -> list[str] | None:
    """A word as pinyin syllables (longest first, with backtracking), or None."""
    word = word.lower()
    if word in _SYLLABLES:
        return [word]
    return _split(word, 0)


def _split(word: str, at: int) -> list[str] | None:
    if at == len(word):
        return []
    for size in range(min(6, len(word) - at), 0, -1):
        part = word[at:at + size]
        if part in _SYLLABLES:
            rest = _split(word, at + size)
            if rest is not None:
                return [part] + rest
    return None


def _convert(sylls: list[str], whole: bool) -> str | None:
    """Longest-match table lookup; None when `whole` and a syllable is left uncovered."""
    out, i, mapped = [], 0, 0
    while i < len(sylls):
        for size in range(min(_LONGEST, len(sylls) - i), 0, -1):
            hanzi = TABLE.get(tuple(sylls[i:i + size]))
            if hanzi is not None:
                out.append(hanzi)
                mapped += size
                i += size
                break
        else:
            if whole:
                return None
            out.append(" " + sylls[i] + " ")     # unknown syllable (or "ok") kept as typed
            i += 1
    if not mapped:
        return None
    return "".join(out).replace("  ", " ").strip()


def _replace(m: re.Match) -> str:
    run = m.group(0)
    words = run.split()
    if len(words) == 1:
        # One word: converted only when it splits into 2+ syllables the table covers in full
        # ("haode", "xiexie", "taiguile"); "hello", "change", "ok" stay.
        sylls = syllables(words[0])
        if not sylls or len(sylls) < 2:
            return run
        return _convert(sylls, whole=True) or run
    parts: list[str] = []
    for w in words:
        if w in _PASS:
            parts.append(w)
            continue
        sylls = syllables(w)
        if sylls is None:
            return run                      # an English word: the run is not pinyin
        parts += sylls
    if len(parts) < 2:
        return run
    # Spaced pinyin: mapped where the table knows the words; at least half must be known.
    converted = _convert(parts, whole=False)
    if converted is None:
        return run
    known = len(parts) - len([w for w in re.findall(r"[a-z]+", converted) if w not in _PASS])
    return converted if known * 2 >= len(parts) else run


def to_hanzi(text: str) -> str:
    """Pinyin runs written in Hanzi where the table knows them; everything else unchanged.
    Never lengthens the text."""
    if not _HAS_LATIN.search(text):
        return text
    return _RUN.sub(_replace, text)


_HAS_LATIN = re.compile(r"[a-z]{2}")
_PASS = frozenset(["ok", "okk", "okay"])
