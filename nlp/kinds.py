"""What a text is when it is not (only) a sales conversation: after-sales complaints, service
questions, job seekers, spam, chit-chat (the families live in nlp/clauses.py)."""
from __future__ import annotations

import re

from nlp import clauses
from nlp.parse import ROLE_REP, Transcript

# What a text that is not a sales conversation is, said plainly (the card shows it).
KIND_NOTES = {
    "complaint": "这更像售后投诉，不是购买意向：建议转售后/客服跟进，先回应问题再谈其他。",
    "service": "这更像服务咨询（账号、发票、物流、使用问题），不是购买意向：按客服流程处理。",
    "job": "这是求职/招聘相关的消息，不是销售对话。",
    "spam": "这看起来是广告或垃圾信息，不是销售对话。",
    "chitchat": "这是闲聊，没有谈到生意，不计购买意向。",
    "other": "这段文字不像销售对话，不计购买意向。",
    "one_sided": "只有一方的消息，也不知道是不是客户本人：分数仅供参考，最高为「中」。",
}


def kind_of(transcript: Transcript, views: list, customer_views: list) -> str:
    """sales, or what else the text is: after-sales complaint, service question, job, spam,
    chit-chat. A chat that mixes a complaint with buying steps stays a sales chat."""
    side = customer_views or [v for v in views if v.turn.role != ROLE_REP] or views
    if len({m.group(0) for v in side for m in _APPLICANT.finditer(v.text)}) >= 2:
        return "job"                # asks about base pay, probation, social insurance: applying
    # A turn that cites the terms of a contract already signed or money already paid is about an
    # order that exists ("合同上写的是保证供应", "我们付了全款"): its order words are no buying step.
    buying = sum(1 for v in customer_views
                 if not v.service and not existing(v)
                 and any(h.entry.kind == "buy" and h.entry.weight >= 8 for h in v.hits))
    served = [v.service for v in customer_views if v.service]
    if not served and not buying and any(existing(v) for v in customer_views):
        served = ["complaint" if any(angry(v) for v in customer_views) else "service"]
    if served and len(served) >= buying:
        return "complaint" if "complaint" in served else "service"
    other = clauses.non_sales_kind("\n".join(v.text for v in side))
    if other == "chitchat":
        all_text = "\n".join(v.text for v in views)
        if clauses.non_sales_kind(all_text) != "chitchat" or any(v.hits for v in views):
            return "sales"
    if other and buying == 0:
        return other
    return "sales"


# What a broadcast ad carries (a link, a 【headline】, an opt-out, "group send", "add my WeChat",
# "scan the code"): the kind head may call a chat spam only with one of these in it — a rep's
# own quote refused in two lines ("报价单发您了" / "不需要了，谢谢") is a sales chat gone cold.
# One case-insensitive alternation of them all was tried at every position of the text (no
# first-character shortcut: "\d{3}" and the cased letters of "https"/"www" prevent it), the
# costliest scan of an analysis. The same alternatives, cheaper: the fixed words as substring
# tests, the 【headline】 only when the text holds a "【", the phone number led by a digit class
# (the engine skips to digits; re.I made its "x" match "X" too), and the link marks
# (case-insensitive) only when the text holds the "." or "://" each of them needs.
_BROADCAST_WORDS = ("退订", "回T", "回t", "群发", "加V", "加v", "加微", "扫码", "点击", "详询", "0加盟", "月入", "限时",
                    "特惠", "领取")
_BROADCAST_HEADLINE = re.compile(r"【[^】]{1,12}】")
_BROADCAST_PHONE = re.compile(r"\d\d\d[ xX*]{0,3}\d{4}[ xX*]{0,3}\d{4}")
_BROADCAST_LINK = re.compile(r"https?://|www\.|\.(?:cn|com|cc|net)\b", re.I)


def looks_broadcast(text: str) -> bool:
    """An ad's marks, or the spam families' own words (clauses: 日赚, 当天放款, 荐股 …)."""
    return bool(any(word in text for word in _BROADCAST_WORDS)
                or ("【" in text and _BROADCAST_HEADLINE.search(text)) or _BROADCAST_PHONE.search(text)
                or (("." in text or "://" in text) and _BROADCAST_LINK.search(text))
                or clauses.non_sales_kind(text) == "spam")


# ----------------------------------------------------------- what the model reads for the kind
# Signals that a text is about an order that already exists (after-sales, service) rather than a
# purchase to come, who asks for what, and how angry it is. Counted per turn, on the normalized
# (Simplified) text; they are inputs of the trained kind head (nlp/model.py), not rules.
_PAST_ORDER = re.compile(
    r"已(?:经)?下(?:过)?单|下过单|上(?:次|回|个月|周|礼拜|一批|批)(?:买|订|拿|进|下|发|送|采购|要|装|做|办|签|那)"
    r"|之前(?:买|订|拿|采购|装|办|签)的?|去年(?:买|装|订|办|签)|刚买|才买|买了(?:没|不到|才)|才(?:用|装)了?"
    r"|用了(?:一|两|三|几|半|不到)|装了(?:一|两|三|几|半|不到)|这批货|那批货|上批|订单号|单号|快递单|运单|物流"
    r"|签收|收到货|到货(?:了|后)|已(?:经)?付(?:款|了)|付过款|钱(?:都|已经)?(?:付|交|打)了|交了(?:钱|定金|学费|费|年费)"
    r"|付了(?:钱|定金|全款)|退款|退货|换货|退钱|售后|保修|维修|报修|返修|上门|会员卡|年卡|卡里|保单|我的(?:订单|账号|账户|卡|课|车)"
    r"|续费|到期|扣款|发票.{0,4}(?:错|重开|作废|没收到|还没)|重开|补开|返工|补发|补货|少了|多了|发错|漏发")
_ANGER = re.compile(
    r"怎么回事|搞什么|什么情况|到底|气死|太差|差劲|垃圾|坑|骗|投诉|12315|说法|负责|赔|不像话|过分|别又|又(?:坏|出|是|没|挂)"
    r"|第[二三四五六]次|多少次|几次了|快点|赶紧|催|耽误|损失|谁负责|谁担|不管|受不了|离谱|无语|服了|!|！|\?.*[?？]|？.*[?？]")
_REP_SERVICE = re.compile(
    r"抱歉|不好意思|对不起|给您(?:处理|安排|补|换|退|查|申请|协调|反映|重开|开|预约)|帮您(?:查|处理|看|问|申请|安排|协调|预约|重开|操作|弄)"
    r"|马上(?:处理|过去|安排|查)|师傅|上门|售后|退款|补发|重发|换货|返工|补偿|理解您|原路|工作日|保修|登记")
_REP_OFFER = re.compile(
    r"报价|优惠|活动|打折|折扣|名额|方案|考虑|试用|体验|了解一下|介绍|推荐|新款|促销|价格|感兴趣|要不要|需不需要|合作"
    r"|样品|demo|报个价|给您算|划算")
_APPLICANT = re.compile(r"底薪|试用期|五险一金|应聘|求职|投简历|我的简历|发简历|月薪|年薪|课时费|提成(?:是)?(?:怎么|按|多少)"
                        r"|劳动合同")
# Softer signs of a job seeker (an input of the kind head only: HR software is sold with these words)
_JOB_HINT = re.compile(r"还招|招人吗|招.{0,3}吗|兼职|工资|试讲|面试|入职|干了.{0,3}年")
_EXISTING = re.compile(r"合同(?:上|里|中)(?:写|说|约定|规定|签)|合同约定|按合同(?:是|写|约定|来)|付了全款|付咗全款|按年付了"
                       r"|订单页面|已经付了.{0,6}(?:钱|款)|钱都付了|款都付了|付款都付了")
_FORWARD_STEP = re.compile(
    r"报价|报个价|合同|下单|订(?:货|购|一|两|几|\d)|签(?:约|合同)|付款|打款|定金|首付|采购|试用|样品|多少钱|什么价|价格|价钱"
    r"|账号发|开票资料|走流程|先要|先拿|先订|来一|要\d|拿\d|考虑|报名|预算")

# A customer who asks for service on what they already have (a policy, an account, an invoice,
# a subscription: 查保单, 理赔, 登不上, 权限, 发票抬头, 扣了两次) against one who buys more of it
# (续费报价, 加购, 升级到…版, 加10个账号): both talk of renewals and contracts.
_OWN_SERVICE = re.compile(
    r"登不上|登录不|登不了|密码|权限|重置|怎么(?:用|登|导出|导入|设置|操作|绑定|改|查|报销|理赔|退|弄)"
    r"|在哪(?:里|儿)?(?:看|查|改|设置|下载|找)|保单|理赔|报销|赔付|出险|批改|退保|宽限期|扣款失败|扣了两次|重复扣|多扣"
    r"|发票.{0,8}(?:重开|补开|丢|作废|红冲)|抬头|税号|停用|解绑|换绑|转让|过户|变更|转给|年检|保养"
    r"|重新开|账单|明细|自动续费|几号到期"
    r"|(?:我|我们)(?:的|家|公司)?(?:账号|账户|套餐|保单|会员|年卡|合同|系统|版本)")
_UPSELL = re.compile(
    r"续费.{0,6}(?:报价|价格|多少|优惠|打折|折扣|合同)|续约|续签|报价|加购|增购|扩容|升级到|升到|升吧|要升级"
    r"|加\s?\d+\s?个|再加|多加|再买|再订|再来|renew|quotation|upgrade|新(?:的)?报价|明年.{0,6}(?:价|预算)", re.I)
_REP_HOWTO = re.compile(
    r"帮您(?:重置|改|停用|释放|变更|补开)|后台|右上角|菜单|点(?:击)?.{0,8}(?:就行|即可)|原路|寄回|作废|红冲|重开|补开"
    r"|宽限期|不会失效|手续|身份证|前台|权限|临时密码|账号停用|理赔")


def existing(view) -> bool:
    """The turn cites the terms of a contract already signed or money already paid (searched
    once per turn: kind_of and kind_features share it)."""
    if view.existing is None:
        view.existing = bool(_EXISTING.search(view.text))
    return view.existing


def angry(view) -> bool:
    """The turn is angry or a question storm (searched once per turn, shared as existing())."""
    if view.anger is None:
        view.anger = bool(_ANGER.search(view.text))
    return view.anger


# What the speakers' display names say of their role ("售后-小刘", "客服小雅", "HR张", "应聘者小罗").
_NAME_SERVICE = re.compile(r"客服|售后|服务|support|service|客户成功|customer success|工程师|物业|前台|维修|跟单", re.I)
_NAME_HR = re.compile(r"hr|人事|人资|招聘|猎头|recruit|headhunt", re.I)
_NAME_APPLICANT = re.compile(r"应聘|求职|候选人|candidate|学员|业主|会员|买家|租户", re.I)


def kind_features(views: list, customer_views: list) -> dict[str, float]:
    """What says whether a text is a purchase to come or an order that exists: references to an
    existing/past order, anger and question storms, the rep apologising or servicing vs
    offering, and the customer's forward-looking purchase steps outside after-sales clauses."""
    side = customer_views or [v for v in views if v.turn.role != ROLE_REP]
    reps = [v for v in views if v.turn.role == ROLE_REP] if customer_views else []
    n = max(1, len(side))
    past = sum(1 for v in side if _PAST_ORDER.search(v.text))
    anger = sum(1 for v in side if angry(v))
    steps = sum(1 for v in side if not v.service and _FORWARD_STEP.search(v.text))
    rep_service = sum(1 for v in reps if _REP_SERVICE.search(v.text))
    rep_offer = sum(1 for v in reps if _REP_OFFER.search(v.text))
    own = sum(1 for v in side if _OWN_SERVICE.search(v.text))
    upsell = sum(1 for v in side if _UPSELL.search(v.text))
    howto = sum(1 for v in reps if _REP_HOWTO.search(v.text))
    applicant = len({m.group(0) for v in side for m in _APPLICANT.finditer(v.text)})
    job_hint = sum(1 for v in side if _JOB_HINT.search(v.text))
    first = views[0].turn.role if views else ""
    rep_names = " ".join({v.turn.speaker or "" for v in reps})
    customer_names = " ".join({v.turn.speaker or "" for v in side})
    return {
        "ks_name_service": float(bool(_NAME_SERVICE.search(rep_names))),
        "ks_name_hr": float(bool(_NAME_HR.search(rep_names))),
        "ks_name_applicant": float(bool(_NAME_APPLICANT.search(customer_names))),
        "ks_past_order": min(3, past) / 3,
        "ks_past_share": past / n,
        "ks_anger": min(3, anger) / 3,
        "ks_steps": min(3, steps) / 3,
        "ks_no_step": float(steps == 0),
        "ks_rep_service": min(3, rep_service) / 3,
        "ks_rep_offer": min(3, rep_offer) / 3,
        "ks_own_service": min(3, own) / 3,
        "ks_own_no_upsell": float(own > 0 and upsell == 0),
        "ks_upsell": min(3, upsell) / 3,
        "ks_rep_howto": min(3, howto) / 3,
        "ks_existing": float(any(existing(v) for v in side)),
        "ks_applicant": min(3, applicant) / 3,
        "ks_job_hint": min(3, job_hint) / 3,
        "ks_customer_opens": float(first == "customer"),
        "ks_rep_opens": float(first == ROLE_REP),
    }
