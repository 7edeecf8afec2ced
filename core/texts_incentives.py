"""Texts of the incentives area: points, approvals, /shop, /me, /board, digest, spot-checks, groups.

Keys used with ``t`` are HTML templates (values escaped); keys used with ``tp`` are plain (buttons).
"""
from core.texts_registry import TEXTS

TEXTS.update({
    # --- ledger actions and evidence ------------------------------------------------------------
    "action_followup_logged": {"zh": "记录跟进", "en": "Follow-up logged"},
    "action_complete_data": {"zh": "客户资料完整", "en": "Complete customer data"},
    "action_contract_signed": {"zh": "签约", "en": "Contract signed"},
    "action_payment_collected": {"zh": "回款", "en": "Payment collected"},
    "action_stage": {"zh": "推进到「{stage}」", "en": "Moved to “{stage}”"},
    "evidence_meeting_needed": {
        "zh": ("ℹ️ 「{item}」（{name}）的积分需要会议记录作证：请用 /meeting 记录参会人，至少一位来自{dept}以外的部门，例如\n"
               "<code>/meeting {name} 张工/技术部 李经理/交付部</code>\n记录后积分自动发放。"),
        "en": ("ℹ️ Points for “{item}” ({name}) need the meeting on record: use /meeting with at least one attendee "
               "outside {dept}, e.g.\n<code>/meeting {name} Zhang/Engineering Li/Delivery</code>\nThe points follow automatically."),
    },
    "meeting_usage": {
        "zh": "用法：/meeting 客户名 参会人/部门 …\n例如：<code>/meeting 张总 张工/技术部 李经理/交付部</code>",
        "en": "Usage: /meeting CUSTOMER name/department …\ne.g. <code>/meeting Zhang Wang/Engineering Li/Delivery</code>",
    },
    "meeting_saved": {
        "zh": "🤝 已记录与 <b>{name}</b> 的会议（{n} 位参会人）。{extra}",
        "en": "🤝 Meeting with <b>{name}</b> recorded ({n} attendees). {extra}",
    },
    "meeting_cross": {"zh": "跨部门协同 ✅", "en": "Cross-department ✅"},
    "meeting_points": {"zh": "跨部门协同 ✅ +{points} 分", "en": "Cross-department ✅ +{points} pts"},
    "meeting_same_dept": {
        "zh": "参会人都来自{dept}，不算跨部门会议。",
        "en": "All attendees are from {dept}: not a cross-department meeting.",
    },
    "pick_more_specific": {"zh": "有多个客户匹配「{q}」：{names}。请写得更具体些。",
                           "en": "Several customers match “{q}”: {names}. Please be more specific."},
    # --- approvals -----------------------------------------------------------------------------
    "approval_request": {
        "zh": "🔔 待审批积分：<b>{rep}</b> 申请 +{points} 分（{action}，客户：{customer}）。",
        "en": "🔔 Points to approve: <b>{rep}</b> +{points} ({action}, customer: {customer}).",
    },
    "btn_approve": {"zh": "✅ 批准", "en": "✅ Approve"},
    "btn_approve_short": {"zh": "✅ {what}", "en": "✅ {what}"},
    "btn_decline": {"zh": "✖️ 驳回", "en": "✖️ Decline"},
    "approved_note": {"zh": "✅ 已批准（{by}）", "en": "✅ Approved ({by})"},
    "declined_note": {"zh": "✖️ 已驳回（{by}）", "en": "✖️ Declined ({by})"},
    "already_decided": {"zh": "这一项已经处理过了。", "en": "This was already decided."},
    "not_allowed": {"zh": "您无权处理这一项。", "en": "You are not allowed to decide this."},
    "redeem_short_balance": {"zh": "余额不足，无法批准。", "en": "Not enough points to approve."},
    "award_approved_rep": {"zh": "✅ 经理已批准：{action} +{points} 分。", "en": "✅ Approved by your manager: {action} +{points} pts."},
    "award_declined_rep": {"zh": "经理未批准：{action}（{points} 分）。", "en": "Not approved by your manager: {action} ({points} pts)."},
    # --- anti-cheating flags -------------------------------------------------------------------
    "flag_burst": {
        "zh": "⚠️ 异常操作：<b>{rep}</b> 在 {seconds} 秒内连续获得 {n} 次积分，看起来像机械刷分。请核实：",
        "en": "⚠️ Unusual activity: <b>{rep}</b> earned points {n} times within {seconds} seconds. Please check:",
    },
    "flag_copy_paste": {
        "zh": "⚠️ 疑似复制粘贴：<b>{rep}</b> 在多个客户上写了相同的跟进记录「{detail}」（{n} 条积分）。请核实：",
        "en": "⚠️ Copy-paste notes: <b>{rep}</b> logged the same note “{detail}” on several customers ({n} awards). Please check:",
    },
    "flag_kind_burst": {"zh": "连续刷分", "en": "burst"},
    "flag_kind_copy_paste": {"zh": "复制粘贴", "en": "copy-paste"},
    "btn_flag_clear": {"zh": "👍 正常", "en": "👍 Fine"},
    "btn_flag_revoke": {"zh": "↩️ 撤回这些积分", "en": "↩️ Revoke these points"},
    "flag_cleared_note": {"zh": "👍 已确认正常（{by}）", "en": "👍 Marked fine ({by})"},
    "flag_revoked_note": {"zh": "↩️ 已撤回积分（{by}）", "en": "↩️ Points revoked ({by})"},
    "flag_revoked_rep": {"zh": "↩️ 经理核查后撤回了一组积分（{kind}）。积分只奖励真实、规范的动作。",
                         "en": "↩️ Your manager revoked a group of points ({kind}). Points reward real, by-the-book work only."},
    "lead_revoked_rep": {"zh": "↩️ 客户 <b>{name}</b> 被认定为{reason}，相关积分已撤回（{points} 分）。",
                         "en": "↩️ <b>{name}</b> was found to be: {reason}. Its points were revoked ({points})."},
    "milestone_reached": {"zh": "🎯 里程碑达成：{label}（+{points} 分）", "en": "🎯 Milestone reached: {label} (+{points} pts)"},
    # --- /shop ---------------------------------------------------------------------------------
    "shop": {
        "zh": "🎁 <b>积分兑换</b>\n当前积分：<b>{balance}</b>（待审批兑换占用 {reserved}，可用 {available}）\n\n{items}{requests}\n\n点下方按钮申请兑换，经理批准后扣除积分。",
        "en": "🎁 <b>Rewards</b>\nBalance: <b>{balance}</b> ({reserved} held by pending requests, {available} available)\n\n{items}{requests}\n\nTap to request; points are deducted when your manager approves.",
    },
    "shop_item": {"zh": "• {name} — {price} 分", "en": "• {name} — {price} pts"},
    "shop_requests": {"zh": "\n\n<b>我的兑换</b>\n{lines}", "en": "\n\n<b>My requests</b>\n{lines}"},
    "shop_request_line": {"zh": "• {name}（{price} 分）：{status}", "en": "• {name} ({price} pts): {status}"},
    "redeem_status_requested": {"zh": "待审批", "en": "waiting"},
    "redeem_status_approved": {"zh": "已批准", "en": "approved"},
    "redeem_status_declined": {"zh": "未批准", "en": "declined"},
    "btn_redeem": {"zh": "兑换 {name}（{price}分）", "en": "Redeem {name} ({price})"},
    "redeem_requested": {"zh": "已提交兑换申请：{name}（{price} 分），等待经理审批。", "en": "Requested: {name} ({price} pts); waiting for your manager."},
    "redeem_insufficient": {"zh": "积分不足：{name} 需要 {price} 分，您可用 {available} 分。", "en": "Not enough points: {name} costs {price}, you have {available} available."},
    "redeem_request": {
        "zh": "🎁 兑换申请：<b>{rep}</b> 想兑换「{reward}」（{price} 分，当前积分 {balance}）。",
        "en": "🎁 Reward request: <b>{rep}</b> wants “{reward}” ({price} pts, balance {balance}).",
    },
    "redeem_approved_rep": {"zh": "🎁 兑换已批准：{reward}（-{price} 分），剩余 {balance} 分。", "en": "🎁 Approved: {reward} (-{price} pts); balance {balance}."},
    "redeem_declined_rep": {"zh": "兑换未获批准：{reward}。积分未扣除（当前 {balance} 分）。", "en": "Not approved: {reward}. No points deducted (balance {balance})."},
    # --- /me -------------------------------------------------------------------------------------
    "me_caption": {
        "zh": ("<b>{name}</b> 的积分与能力画像\n"
               "积分余额：<b>{balance}</b>{pending} · 近{days}天获得 {earned}\n"
               "{rank}"
               "KPI：<b>{kpi}</b>（{kpi_parts}）\n"
               "流程合规：{compliance}（清单按时 {items} · 推进资料完整 {moves}{flags}）\n"
               "能力：{dims}\n"
               "{honors}"
               "📌 最需要加强：<b>{weak}</b>\n{hint}"),
        "en": ("<b>{name}</b>: points and profile\n"
               "Balance: <b>{balance}</b>{pending} · earned {earned} in {days} days\n"
               "{rank}"
               "KPI: <b>{kpi}</b> ({kpi_parts})\n"
               "Process compliance: {compliance} (items on time {items} · moves with complete data {moves}{flags})\n"
               "Ability: {dims}\n"
               "{honors}"
               "📌 Work on: <b>{weak}</b>\n{hint}"),
    },
    "me_pending": {"zh": "（另有 {n} 分待审批）", "en": " ({n} pending approval)"},
    "me_rank": {"zh": "排名：{group} 第 {rank}/{size} 名 · 目标完成 {share}% {move}\n",
                "en": "Rank: {rank}/{size} in {group} · {share}% of target {move}\n"},
    "me_flags": {"zh": " · 抽查问题 {n}", "en": " · spot-check issues {n}"},
    "me_honors": {"zh": "🏅 荣誉：{items}\n", "en": "🏅 Honors: {items}\n"},
    "kpi_data_completeness": {"zh": "资料完整", "en": "data"},
    "kpi_compliance": {"zh": "合规", "en": "compliance"},
    "kpi_target": {"zh": "目标", "en": "target"},
    "kpi_followup": {"zh": "跟进及时", "en": "on-time follow-up"},
    "radar_title": {"zh": "{name} 能力画像", "en": "{name}: ability profile"},
    "radar_me": {"zh": "本人", "en": "Me"},
    "radar_team": {"zh": "团队平均", "en": "Team average"},
    "me_pick_rep": {"zh": "选择要查看的销售：", "en": "Whose profile?"},
    "me_no_reps": {"zh": "团队里还没有销售。", "en": "There are no reps in the team yet."},
    "me_manager_hint": {"zh": "经理可查看任一销售：/me 姓名", "en": "Managers can open any rep: /me NAME"},
    # --- /board and group posts -------------------------------------------------------------------
    "board_daily": {"zh": "日榜", "en": "Daily board"},
    "board_weekly": {"zh": "周榜", "en": "Weekly board"},
    "period_day": {"zh": "今日", "en": "today"},
    "period_week": {"zh": "本周", "en": "this week"},
    "period_month": {"zh": "本月累计", "en": "month to date"},
    "group_all": {"zh": "全员", "en": "Everyone"},
    "group_tenure_first": {"zh": "新人组（入职<{days}天）", "en": "Newcomers (<{days} days)"},
    "group_tenure_mid": {"zh": "入职{low}-{high}天", "en": "{low}-{high} days"},
    "group_tenure_last": {"zh": "资深组（入职≥{days}天）", "en": "Experienced (≥{days} days)"},
    "move_new": {"zh": "新", "en": "new"},
    "board_caption_title": {"zh": "🏆 <b>{team} {board}</b>（{period}，按个人目标完成率）",
                            "en": "🏆 <b>{team} {board}</b> ({period}, by share of own target)"},
    "board_caption_group": {"zh": "<b>【{group}】</b>", "en": "<b>[{group}]</b>"},
    "board_caption_row": {"zh": "{rank}. {name} {share}%（{points}分）{move}", "en": "{rank}. {name} {share}% ({points} pts) {move}"},
    "board_caption_improved": {"zh": "📈 进步最快：{name}（{move}）", "en": "📈 Most improved: {name} ({move})"},
    "board_caption_footer": {"zh": "每个人的完整排名已私信发送。", "en": "Everyone got their own rank privately."},
    "board_private": {
        "zh": "📊 {board}（{period}）：您在{group}排第 <b>{rank}/{size}</b> 名 {move}\n目标完成 {share}%（{points}/{target} 分）· 成交 {deals} · 合规 {compliance} · 数据质量 {quality}",
        "en": "📊 {board} ({period}): you are <b>{rank}/{size}</b> in {group} {move}\n{share}% of target ({points}/{target} pts) · deals {deals} · compliance {compliance} · data {quality}",
    },
    "board_full_row": {"zh": "{rank}. {name} {share}% · {points}分 · 成交{deals} · 合规{compliance} · 数据{quality} {move}",
                       "en": "{rank}. {name} {share}% · {points} pts · deals {deals} · compl. {compliance} · data {quality} {move}"},
    "board_empty": {"zh": "还没有可排名的销售。", "en": "No reps to rank yet."},
    "board_chart_title": {"zh": "{team} {board}（{period}）", "en": "{team} {board} ({period})"},
    "board_chart_subtitle": {"zh": "按个人目标完成率、在可比组内排名 · 完整排名已私信", "en": "Ranked by share of own target within comparable groups"},
    "board_chart_subtitle_full": {"zh": "经理视图：完整排名（仅私下可见）", "en": "Manager view: the full ranking (private)"},
    "col_share": {"zh": "目标完成率 %", "en": "% of own target"},
    "col_points": {"zh": "积分", "en": "Points"},
    "col_deals": {"zh": "成交", "en": "Deals"},
    "col_compliance": {"zh": "合规", "en": "Compl."},
    "col_quality": {"zh": "数据质量", "en": "Data"},
    "col_move": {"zh": "变化", "en": "Move"},
    "board_group_unbound": {"zh": "这个群还没有绑定团队。请经理在群里发送 /bind。", "en": "This group is not bound to a team. A manager can send /bind here."},
    # --- honors ------------------------------------------------------------------------------------
    "honor_group_title": {"zh": "🏅 <b>{team} 荣誉榜</b>", "en": "🏅 <b>{team} honors</b>"},
    "honor_group_line": {"zh": "• {label}（{period}）：<b>{name}</b>", "en": "• {label} ({period}): <b>{name}</b>"},
    "honor_private": {"zh": "🏅 恭喜获得「{label}」（{period}）！已记入您的个人档案（/me）。",
                      "en": "🏅 Congratulations: {label} ({period})! It is on your profile (/me)."},
    # --- groups --------------------------------------------------------------------------------------
    "bind_done": {"zh": "✅ 本群已绑定到团队 <b>{team}</b>：排行榜和荣誉会按时发到这里（不含客户姓名和电话）。",
                  "en": "✅ This group is now bound to <b>{team}</b>: leaderboards and honors will be posted here (never customer names or phones)."},
    "bind_private": {"zh": "请在要接收排行榜的群里发送 /bind。", "en": "Send /bind in the group that should get the leaderboards."},
    "unbind_done": {"zh": "已解除本群与团队的绑定。", "en": "This group is no longer bound to a team."},
    "group_hello": {"zh": "大家好！我是团队销售助手。请经理在群里发送 /bind，把排行榜绑定到本群。",
                    "en": "Hello! I'm the team's sales assistant. A manager can send /bind to get leaderboards here."},
    # --- /digest -----------------------------------------------------------------------------------
    "digest_nothing_new": {"zh": "📭 {team} {date} 团队日报：昨日没有新动态（逾期客户 {overdue} 个）。",
                           "en": "📭 {team} digest {date}: nothing new yesterday ({overdue} overdue customers)."},
    "digest_title": {"zh": "☀️ <b>{team} 团队日报 {date}</b>", "en": "☀️ <b>{team} digest, {date}</b>"},
    "digest_funnel": {"zh": "\n<b>漏斗</b>（当前/到达 →转化率）\n{steps} ｜ 成交 {won}",
                      "en": "\n<b>Funnel</b> (now/reached →conversion)\n{steps} | won {won}"},
    "digest_bottleneck": {"zh": "🚧 瓶颈：<b>{stage}</b>（{stalled}/{current} 个客户超过预计时间）",
                          "en": "🚧 Bottleneck: <b>{stage}</b> ({stalled}/{current} customers past the expected time)"},
    "digest_no_bottleneck": {"zh": "✅ 各阶段都没有超期停滞的客户。", "en": "✅ No stage has customers stalled past the expected time."},
    "digest_yesterday": {"zh": "\n<b>昨日动态</b>（共 {total} 条）", "en": "\n<b>Yesterday</b> ({total} actions)"},
    "digest_rep_line": {"zh": "• {name}：{kinds} ｜ KPI {kpi} · 合规 {compliance}", "en": "• {name}: {kinds} | KPI {kpi} · compliance {compliance}"},
    "digest_more": {"zh": "…另有 {n} 人", "en": "…and {n} more"},
    "digest_idle": {"zh": "昨日无记录（{n}）：{names}", "en": "No activity yesterday ({n}): {names}"},
    "digest_compliance": {
        "zh": "\n<b>合规与KPI</b>（近{days}天）\n清单按时 {items} · 推进资料完整 {moves} · 综合 {overall}\n平均KPI {kpi} · 落后：{low}",
        "en": "\n<b>Compliance and KPI</b> ({days} days)\nItems on time {items} · moves with complete data {moves} · overall {overall}\nAverage KPI {kpi} · behind: {low}",
    },
    "digest_overdue": {"zh": "\n⏰ <b>逾期客户 {n} 个</b>：{items}", "en": "\n⏰ <b>{n} overdue customers</b>: {items}"},
    "digest_hot": {"zh": "🔥 <b>高意向</b>：{items}", "en": "🔥 <b>Hot prospects</b>: {items}"},
    "digest_spot_flags": {"zh": "\n🔍 <b>抽查发现问题 {n} 条</b>：{items}", "en": "\n🔍 <b>{n} spot-check issues</b>: {items}"},
    "digest_cheat_flags": {"zh": "⚠️ <b>待核实的异常积分 {n} 条</b>：{items}", "en": "⚠️ <b>{n} flags to check</b>: {items}"},
    "digest_pending": {"zh": "📝 <b>待审批 {n} 项</b>（见下方按钮或之前的通知）", "en": "📝 <b>{n} approvals waiting</b> (buttons below or in earlier notices)"},
    "digest_blocked": {"zh": "🚫 已停用机器人（{n}）：{names}", "en": "🚫 Blocked the bot ({n}): {names}"},
    "digest_chart_title": {"zh": "{team} 销售漏斗", "en": "{team} sales funnel"},
    "digest_chart_caption": {"zh": "📉 {team} 漏斗 {date}{bottleneck}", "en": "📉 {team} funnel {date}{bottleneck}"},
    "digest_chart_bottleneck": {"zh": " · 瓶颈：{stage}（{stalled} 个超期）", "en": " · bottleneck: {stage} ({stalled} stalled)"},
    "funnel_reached": {"zh": "到达", "en": "reached"},
    "funnel_current": {"zh": "当前", "en": "now"},
    "funnel_stalled": {"zh": "超期", "en": "stalled"},
    "funnel_bottleneck": {"zh": "瓶颈", "en": "bottleneck"},
    "kind_followup": {"zh": "跟进", "en": "follow-ups"},
    "kind_checklist": {"zh": "清单", "en": "items"},
    "kind_stage": {"zh": "推进", "en": "moves"},
    "kind_create": {"zh": "新建", "en": "new"},
    "kind_other": {"zh": "其他", "en": "other"},
    "rep_line": {"zh": "📊 昨日：{kinds} ｜ KPI {kpi} · 合规 {compliance} · 逾期 {overdue}",
                 "en": "📊 Yesterday: {kinds} | KPI {kpi} · compliance {compliance} · overdue {overdue}"},
    "rep_line_quiet": {"zh": "📊 昨日暂无记录 ｜ KPI {kpi} · 合规 {compliance} · 逾期 {overdue}",
                       "en": "📊 Nothing logged yesterday | KPI {kpi} · compliance {compliance} · overdue {overdue}"},
    # --- spot-checks ---------------------------------------------------------------------------------
    "spot_card": {
        "zh": ("🔍 <b>抽查 {index}/{total}</b>：<b>{name}</b>（{company}）\n"
               "负责人：{owner} · 阶段：{stage}（第 {days} 天）· 资料完整度 {completeness}%\n"
               "电话：{phone} · 待补必填：{missing}\n最近记录：\n{notes}\n抽中原因：{risks}\n记录属实吗？"),
        "en": ("🔍 <b>Spot-check {index}/{total}</b>: <b>{name}</b> ({company})\n"
               "Owner: {owner} · stage: {stage} (day {days}) · data {completeness}%\n"
               "Phone: {phone} · missing: {missing}\nLatest notes:\n{notes}\nDrawn because: {risks}\nDoes the record look right?"),
    },
    "spot_note": {"zh": "• {when} {text}", "en": "• {when} {text}"},
    "spot_no_notes": {"zh": "（暂无跟进记录）", "en": "(no notes yet)"},
    "risk_recent": {"zh": "最近有改动", "en": "recent change"},
    "risk_stale": {"zh": "跟进停滞", "en": "stale follow-up"},
    "risk_big": {"zh": "大单", "en": "big deal"},
    "risk_new_rep": {"zh": "新人负责", "en": "new rep"},
    "risk_random": {"zh": "随机抽取", "en": "random"},
    "btn_spot_ok": {"zh": "👍 属实", "en": "👍 Looks right"},
    "btn_spot_flag": {"zh": "⚠️ 有问题", "en": "⚠️ Flag an issue"},
    "btn_back": {"zh": "« 返回", "en": "« Back"},
    "spot_pick_reason": {"zh": "问题是什么？", "en": "What is wrong?"},
    "spot_ok_note": {"zh": "👍 已确认属实。", "en": "👍 Confirmed."},
    "spot_flag_note": {"zh": "⚠️ 已标记：{reason}。已通知负责人{revoked}。", "en": "⚠️ Flagged: {reason}. The owner was told{revoked}."},
    "spot_revoked": {"zh": "，撤回积分 {points}", "en": ", {points} points revoked"},
    "spot_flag_owner": {
        "zh": "🔍 经理 {manager} 抽查了客户 <b>{name}</b>，发现问题：{reason}。请尽快核实并补正。{points} 分已撤回。",
        "en": "🔍 {manager} spot-checked <b>{name}</b> and found: {reason}. Please check and correct it. {points} points were revoked.",
    },
})
