"""An existing customer's service question on what they already bought (a lease to pay off early,
an invoice to re-issue, the next maintenance visit, a visa in progress) against a purchase to
come. Their chats carry quotes, invoices and contracts, so the lexicon reads them as buying; the
kind head often gives them P(not sales) well under its thresholds. What marks them: the customer
points at something already bought, signed or delivered ("我们那台挖掘机的租赁合同", "上个月充的那20万",
"去年签的维保合同") and asks for an action on it, with no step toward a new purchase (再来, 加购,
续约, 下单, 要500套). The call notes of an inbound call ("来电询问…") about such a thing read the same.
"""
from __future__ import annotations

import re

from nlp.parse import ROLE_REP

# Something the customer already has: a possessive pointer at one item ("我们那台", "我家的中央空调"),
# an acquisition in the past ("上个月充的", "5月20号下的那个订单", "去年10月装的", "我买了半年"),
# or the record of one (合同号, 订单号, 保单, 维保合同, 剩余租金).
_OWNED = re.compile(
    r"(?:我|我们|我家|咱们|咱|我哋)(?:的|家|公司|家的|公司的)?那(?:台|份|张|个|批|套|辆|间|单|笔|几台|些|部)"
    r"|(?:我|我们|我家)(?:的|家)?(?:那)?(?:寿险|保单|车(?!险)|房子|账户|账号|套餐|会员|年卡)"
    r"|(?:上个?月|上周|上礼拜|上次|上回|上批|去年|前年|年初|\d{1,2}月(?:\d{1,2}[号日])?|之前|前几天)"
    r"[^，。,.;；\n？?]{0,8}?(?:下|签|买|装|充|续费|成交|订|到|办|报|租|委託|委托|开)(?:过)?(?:的|咗)"
    # … but a price or a proposal quoted earlier is a sale's ("之前报的价格", "前几天收到的报价")
    r"(?![^，。\n]{0,2}(?:价|报价|方案|广告))"
    r"|(?:上个?月|上周|去年)的?那(?:批|张|单|笔)"
    r"|(?:我|我们)?(?:买|装|用|租)了(?:半|一|两|三|几|\d)[^，。\n]{0,3}(?:年|个月|月|天|周)"
    r"|合同(?:号|编号)|订单号|发票号|保单号|维保合同|租赁合同|代管合[约同]|剩余(?:租金|本金|课时|\d+期)|还剩(?:几|\d+)(?:期|节|次|课)"
    r"|在保修期|保修期内")
# An action asked on it: when, how, can you, how much is left, re-issue, change, send, check.
_ASK = re.compile(
    r"什么时候|几号|几时|怎么|怎样|能不能|能否|可不可以|可以.{0,6}吗|吗|么|[?？]|多少|在哪|发票|收据|重开|换开|拆|改成|改一下"
    r"|补|寄|查|进度|到期|扣款|结清|保养|年审|维修|坏|过户|入[账帳]|查詢|点样|點樣|嘅|哪一步|到哪|了没|好了没|办好")
# A step toward a new purchase by the customer.
_NEW_BUY = re.compile(
    r"再(?:来|要|订|买|加|拿|采购|签)|加购|增购|加\s?\d+|多加|续约|续签|续订|下单|来\s?\d+|要\s?\d+\s?(?:套|台|个|件|吨|箱|份|盒|张|条)"
    r"|报个价|多少钱一|什么价|试用|样品|定金|首付|签约|签合同|采购|新(?:的)?(?:报价|订单|项目|合同)|换(?:成|掉|一家|家|新)"
    r"|升级|扩容|开通|upgrade|renew|quotation|买(?:一|两|几|\d)|订(?:一|两|几|\d)|续租|续(?:的话|吧|\d)|(?<!手)续一|就续"
    r"|(?<![最更])新的|(?<!手)续费|续保|再发|再给|照旧|还是(?:发|要)\s?\d+|同样的再|配(?:一|个)|给我装"
    r"|加上|也加|能加|怎么卖|一起办|付款码|支付链接|补充协议|新买|想(?:一起)?(?:买|订|投保|办|加|要)"
    r"|(?:明天|今天|马上|现在)(?:就)?付|走付款|定下来|预付款|同意付款|这次要|就定", re.I)
# An invoice re-titled is no switch of supplier ("发票抬头要换成…", "换成公司抬头").
_TITLE_CHANGE = re.compile(r"抬头.{0,3}(?:换|改)成|(?:换|改)成[^，。\n]{0,8}抬头")


def _new_buy(text: str) -> bool:
    return bool(_NEW_BUY.search(_TITLE_CHANGE.sub("", text)))


# The notes of a call the customer made (or a call back) to ask about what they have.
_INBOUND_CALL = re.compile(r"(?:来电|來電|致电|致電|打电话来|打電話來|回访|回訪)[^\n]{0,24}?"
                           r"(?:询问|詢問|咨询|諮詢|查询|查詢|确认|確認|问|問)")
# What such a call asks of what the customer has: split or re-title an invoice, the next maintenance
# or inspection, a payment received — not a bare 进度 (a proposal's or a contract's progress is a
# sale's).
_CALL_SERVICE = re.compile(r"(?:发票|收据).{0,12}(?:拆|换|改|重开|分开|两张)|抬头|年审|保养|入[账帐]|到账|扣款日|还剩")


def on_existing(views: list, customer_views: list, call_notes: bool = False) -> bool:
    """The customer asks for service on something already bought, and takes no step toward a
    new purchase (see the module's note). Call notes are read whole (the note's own clause
    split gives the roles by guess); any other format reads the customer's turns."""
    if call_notes:
        text = "，".join(v.text for v in views)       # the note's clauses, read as one
        if not _INBOUND_CALL.search(text) or _new_buy(text):
            return False
        return bool(_OWNED.search(text) or _CALL_SERVICE.search(text))
    side = customer_views or [v for v in views if v.turn.role != ROLE_REP]
    # the rare pointer first: most chats stop here, before the long purchase-step pattern
    if not any(_OWNED.search(v.text) and _ASK.search(v.text) for v in side):
        return False
    return not any(_new_buy(v.text) for v in side)
