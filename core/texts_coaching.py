"""User-facing texts of the coaching area (issue 16): lost reasons, stalls, competitors, visit
plans, SOP feedback and the weekly review."""
from __future__ import annotations

from core.texts_registry import COMMANDS, TEXTS

COMMANDS.update({
    "visit": ("拜访计划：/visit 客户名", "Visit plan: /visit CUSTOMER"),
    "matrix": ("竞品对比分析矩阵", "Competitor matrix"),
    "review": ("每周复盘（经理）", "Weekly review (managers)"),
    "pilot": ("试点效果（经理）", "Pilot impact (managers)"),
})

TEXTS.update({
    "btn_back_card": {"zh": "« 返回客户卡", "en": "« Back to the card"},
    "btn_skip": {"zh": "跳过", "en": "Skip"},
    "note_dropped": {"zh": "这段文字太长（{n} 字，备注最多 {max} 字），没有作为备注保存；已记录的内容不受影响。如果是聊天记录，请再发一次。",
                     "en": "That text is too long for a note ({n} characters, {max} at most) and was not saved as one; what was recorded stays. If it was a chat to analyse, send it again."},
    # --- lost reasons ----------------------------------------------------------------------------
    "lost_ask_reason": {"zh": "已将 <b>{name}</b> 标记为丢单。\n丢单原因是？", "en": "<b>{name}</b> marked as lost.\nWhy was it lost?"},
    "lost_ask_competitor": {"zh": "客户选了哪家竞品？（不清楚可跳过）", "en": "Which competitor won it? (skip if unknown)"},
    "btn_lost_no_competitor": {"zh": "无 / 不清楚", "en": "None / unknown"},
    "lost_ask_note": {"zh": "补充一句备注吗？直接发送文字（最多 500 字），或点「跳过」（/cancel 取消）。",
                      "en": "Add a note? Send it as text (500 characters at most), or tap Skip (/cancel to stop)."},
    "lost_saved": {"zh": "📌 已记录丢单：<b>{name}</b>\n原因：{reason} · 竞品：{competitor}\n备注：{note}\n经理会在每周复盘里看到汇总。",
                   "en": "📌 Loss recorded: <b>{name}</b>\nReason: {reason} · competitor: {competitor}\nNote: {note}\nYour manager sees the totals in the weekly review."},
    # --- the card -------------------------------------------------------------------------------------
    "card_stalled": {"zh": "⏳ <b>停滞</b>：已 {days} 天没有推进（本阶段 {limit} 天即算停滞）。完成一项清单或推进阶段即可解除。",
                     "en": "⏳ <b>Stalled</b>: no progress for {days} days (this stage allows {limit}). Complete a step or move the stage."},
    "card_competitor": {"zh": "⚔️ 竞品 <b>{name}</b> 应对话术：\n💬 {script}", "en": "⚔️ Competitor <b>{name}</b> — counter-script:\n💬 {script}"},
    "btn_visit_plan": {"zh": "🗺 拜访计划", "en": "🗺 Visit plan"},
    "btn_sop_feedback": {"zh": "🗣 SOP反馈", "en": "🗣 SOP feedback"},
    "analysis_competitor": {"zh": "\n⚔️ 提到竞品 <b>{name}</b>：\n💬 {script}", "en": "\n⚔️ Competitor <b>{name}</b> mentioned:\n💬 {script}"},
    # --- SOP feedback ------------------------------------------------------------------------------------
    "sop_menu": {"zh": "🗣 <b>{name}</b> 本阶段清单，哪一步有问题？点一下即可（只会汇总进经理的每周复盘）：",
                 "en": "🗣 <b>{name}</b>: which step of this stage has a problem? One tap (it only reaches your manager in the weekly review):"},
    "sop_no_items": {"zh": "这个阶段没有清单项。", "en": "This stage has no checklist."},
    "btn_sop_u": {"zh": "{n} 没用", "en": "{n} useless"},
    "btn_sop_m": {"zh": "{n} 缺一步", "en": "{n} step missing"},
    "btn_sop_c": {"zh": "{n} 说不清", "en": "{n} unclear"},
    "sop_kind_useless": {"zh": "没用", "en": "useless"},
    "sop_kind_missing": {"zh": "缺一步", "en": "step missing"},
    "sop_kind_unclear": {"zh": "说不清", "en": "unclear"},
    "sop_saved_short": {"zh": "已记录，谢谢！", "en": "Noted, thanks!"},
    "sop_saved": {"zh": "✅ 已记录反馈：「{item}」· {kind}\n想补充一句吗？直接发送文字（最多 300 字），或点「跳过」。",
                  "en": "✅ Feedback saved: “{item}” · {kind}\nAdd a note? Send it as text (300 characters at most), or tap Skip."},
    "sop_thanks": {"zh": "🙏 谢谢反馈，经理会在每周复盘里看到。", "en": "🙏 Thanks — your manager sees it in the weekly review."},
    # --- visit plans -----------------------------------------------------------------------------------
    "usage_visit": {"zh": "用法：/visit 客户名", "en": "Usage: /visit CUSTOMER"},
    "visit_week_empty": {"zh": "未来 7 天没有安排拜访。用 /visit 客户名 生成拜访计划。",
                         "en": "No visits planned for the next 7 days. Use /visit CUSTOMER for a visit plan."},
    "visit_week_header": {"zh": "🗓 <b>未来 7 天的拜访</b>（{n} 个）", "en": "🗓 <b>Visits in the next 7 days</b> ({n})"},
    "visit_week_line": {"zh": "• {when} <b>{name}</b>：{goal}", "en": "• {when} <b>{name}</b>: {goal}"},
    "visit_plan": {
        "zh": ("🗺 <b>拜访计划 · {name}</b>（{company}）\n阶段：{stage}\n"
               "\n<b>🎯 拜访目标</b>\n{goal}\n"
               "\n<b>👥 见谁</b>\n{meet}\n"
               "\n<b>🎒 带什么</b>\n{bring}\n"
               "\n<b>❓ 要问清</b>\n{questions}\n"
               "\n<b>🛡 客户顾虑与应答</b>\n{answers}\n{counters}"
               "\n<b>🕘 建议时间</b>：{when}（{why}）"),
        "en": ("🗺 <b>Visit plan · {name}</b> ({company})\nStage: {stage}\n"
               "\n<b>🎯 Goal</b>\n{goal}\n"
               "\n<b>👥 Whom to meet</b>\n{meet}\n"
               "\n<b>🎒 What to bring</b>\n{bring}\n"
               "\n<b>❓ Questions to ask</b>\n{questions}\n"
               "\n<b>🛡 Objections and answers</b>\n{answers}\n{counters}"
               "\n<b>🕘 Proposed time</b>: {when} ({why})"),
    },
    "visit_counters": {"zh": "\n<b>⚔️ 竞品应对</b>\n{lines}\n", "en": "\n<b>⚔️ Competitors</b>\n{lines}\n"},
    "visit_none": {"zh": "（暂无）", "en": "(none)"},
    "visit_meet_unknown": {"zh": "联系人、决策人未知：先问清谁拍板", "en": "Contact and decision maker unknown: find out who decides"},
    "visit_question": {"zh": "{field}", "en": "{field}"},
    "visit_slot_best_hour": {"zh": "客户常在这个时段回复", "en": "the customer usually replies at this hour"},
    "visit_slot_default": {"zh": "默认上午时段，且不与您其他拜访冲突", "en": "a morning default that avoids your other visits"},
    "btn_visit_ok": {"zh": "📅 安排并加入日历", "en": "📅 Schedule and add to calendar"},
    "visit_scheduled": {"zh": "✅ 已安排拜访 <b>{name}</b>：{when}。\n拜访前会提醒您，结束后我会问结果。",
                        "en": "✅ Visit to <b>{name}</b> scheduled: {when}.\nI'll remind you before and ask how it went after."},
    "visit_ics_caption": {"zh": "📅 点开文件即可加入手机日历：拜访 {name}，{when}", "en": "📅 Open the file to add it to your calendar: visit {name}, {when}"},
    "visit_summary": {"zh": "拜访 {name}", "en": "Visit {name}"},
    "visit_alarm": {"zh": "即将拜访 {name}", "en": "Visit {name} soon"},
    "visit_reminder": {"zh": "⏰ {when} 拜访 <b>{name}</b>。\n目标：{goal}", "en": "⏰ Visit to <b>{name}</b> at {when}.\nGoal: {goal}"},
    "visit_checkin": {"zh": "📍 {when} 的拜访 <b>{name}</b>：去了吗？结果？", "en": "📍 Your visit to <b>{name}</b> ({when}): did you go? How did it go?"},
    "btn_visit_went": {"zh": "✅ 去了", "en": "✅ I went"},
    "btn_visit_miss": {"zh": "✖️ 没去", "en": "✖️ Didn't go"},
    "btn_visit_replan": {"zh": "🗺 重新安排", "en": "🗺 Plan again"},
    "visit_ask_result": {"zh": "结果如何？下一步是什么？一句话即可，例如：<code>客户认可方案，下周二报价</code>（/cancel 取消）",
                         "en": "How did it go, and what is the next step? e.g. <code>liked the proposal, quote next Tuesday</code> (/cancel to stop)"},
    "visit_logged": {"zh": "📝 已记录拜访：{name}。{next}", "en": "📝 Visit logged for {name}. {next}"},
    "visit_no_next": {"zh": "别忘了约定下一步时间。", "en": "Remember to agree on a date for the next step."},
    "visit_missed": {"zh": "好的，已记为未拜访：<b>{name}</b>。", "en": "OK, recorded as not visited: <b>{name}</b>."},
    "visit_already": {"zh": "这次拜访已经记录过了。", "en": "This visit was already recorded."},
    # --- the competitor matrix --------------------------------------------------------------------------
    "matrix_empty": {"zh": "playbook 里还没有竞品。在 config.toml 中添加 [[competitors]]（name、aliases、counter_scripts…）。",
                     "en": "The playbook has no competitors yet. Add [[competitors]] (name, aliases, counter_scripts…) to config.toml."},
    "matrix_header": {"zh": "⚔️ <b>竞品对比分析矩阵</b>（{n} 家）", "en": "⚔️ <b>Competitor matrix</b> ({n})"},
    "matrix_columns": {"zh": "竞品       商机 赢 输 胜率 常见异议", "en": "Competitor deals W  L  win% objections"},
    "matrix_footer": {"zh": "点竞品名查看定位、优劣势和应对话术；/matrix 名称 直接查看。",
                      "en": "Tap a competitor for positioning, strengths, weaknesses and counter-scripts; or /matrix NAME."},
    "matrix_detail": {
        "zh": ("⚔️ <b>{name}</b>\n定位：{positioning} · 价格：{price}\n"
               "\n<b>优势</b>\n{strengths}\n\n<b>劣势</b>\n{weaknesses}\n\n<b>应对话术</b>\n{scripts}\n"
               "\n<b>本团队数据</b>：出现在 {deals} 个商机 · 赢 {won} · 输 {lost}（其中明确输给它 {lost_to}）· 进行中 {open} · 胜率 {rate}\n"
               "常伴随的顾虑：{objections}"),
        "en": ("⚔️ <b>{name}</b>\nPositioning: {positioning} · price: {price}\n"
               "\n<b>Strengths</b>\n{strengths}\n\n<b>Weaknesses</b>\n{weaknesses}\n\n<b>Counter-scripts</b>\n{scripts}\n"
               "\n<b>Our team</b>: in {deals} deals · won {won} · lost {lost} (lost to them: {lost_to}) · open {open} · win rate {rate}\n"
               "Objections that come with them: {objections}"),
    },
    "matrix_no_script": {"zh": "（playbook 未配置应对话术）", "en": "(no counter-script in the playbook)"},
    "matrix_name_too_long": {"zh": "竞品名称太长（{n} 字，最多 {max} 字）。没有做任何更改。",
                             "en": "That competitor name is too long ({n} characters, {max} at most). Nothing was changed."},
    "matrix_unknown": {"zh": "playbook 里没有竞品「{q}」。现有：{names}", "en": "No competitor “{q}” in the playbook. Known: {names}"},
    "btn_matrix_back": {"zh": "« 竞品矩阵", "en": "« Competitor matrix"},
    "btn_matrix_image": {"zh": "🖼 图表", "en": "🖼 Chart"},
    "matrix_chart_title": {"zh": "竞品对比：商机输赢", "en": "Competitors: deals won and lost"},
    "matrix_chart_won": {"zh": "赢", "en": "won"},
    "matrix_chart_lost": {"zh": "输", "en": "lost"},
    "matrix_chart_open": {"zh": "进行中", "en": "open"},
    "matrix_chart_caption": {"zh": "⚔️ 竞品对比分析矩阵（{n} 家）", "en": "⚔️ Competitor matrix ({n})"},
    "price_low": {"zh": "低", "en": "low"},
    "price_mid": {"zh": "中", "en": "mid"},
    "price_high": {"zh": "高", "en": "high"},
    # --- stalled deals in the digest --------------------------------------------------------------------
    "digest_stalled": {"zh": "⏳ <b>停滞升级</b> {n} 个（超过停滞天数 {extra} 天以上）：{items}",
                       "en": "⏳ <b>Stalled, escalated</b>: {n} (past their stall limit by {extra}+ days): {items}"},
    # --- the weekly review --------------------------------------------------------------------------------
    "review_title": {"zh": "📋 <b>每周复盘</b> {start} – {end}", "en": "📋 <b>Weekly review</b> {start} – {end}"},
    "review_none": {"zh": "  （本周无数据）", "en": "  (no data this week)"},
    "review_steps_header": {"zh": "\n<b>① 清单步骤与商机推进</b>（推进的商机做了 / 没推进的商机做了）",
                            "en": "\n<b>① Checklist steps and advancing deals</b> (done by advancing deals / by the others)"},
    "review_step_line": {"zh": "• {stage}·{item}：推进 {adv_done}/{adv_n} · 未推进 {other_done}/{other_n}{caution}",
                         "en": "• {stage}·{item}: advancing {adv_done}/{adv_n} · others {other_done}/{other_n}{caution}"},
    "review_small": {"zh": " ⚠️样本少于{n}，仅供参考", "en": " ⚠️ fewer than {n} deals, indicative only"},
    "review_flags_header": {"zh": "\n<b>② 一线反馈最多的步骤</b>", "en": "\n<b>② Most-flagged steps</b>"},
    "review_flag_line": {"zh": "• {stage}·{item}：{n} 条（{kinds}）{notes}", "en": "• {stage}·{item}: {n} ({kinds}){notes}"},
    "review_flag_note": {"zh": "\n   “{note}”", "en": "\n   “{note}”"},
    "review_lost_header": {"zh": "\n<b>③ 丢单原因</b>（共 {n} 个）", "en": "\n<b>③ Why deals were lost</b> ({n})"},
    "review_lost_line": {"zh": "• {stage}：{reason} × {n}", "en": "• {stage}: {reason} × {n}"},
    "review_lost_comp_line": {"zh": "• 竞品 {competitor}：{reason} × {n}", "en": "• competitor {competitor}: {reason} × {n}"},
    "review_reason_unspecified": {"zh": "未填原因", "en": "no reason given"},
    "review_stalls_header": {"zh": "\n<b>④ 停滞商机</b>（{n} 个）", "en": "\n<b>④ Stalled deals</b> ({n})"},
    "review_stall_line": {"zh": "• {name}（{stage}）：{days} 天无推进，上限 {limit} 天", "en": "• {name} ({stage}): {days} days without progress, limit {limit}"},
    "review_pilot_header": {"zh": "\n<b>⑤ 试点效果</b>：模块 {module} {state}（试点：{pilot}；对照：{others}；近 {days} 天）",
                            "en": "\n<b>⑤ Pilot</b>: module {module} {state} (pilot: {pilot}; others: {others}; last {days} days)"},
    "pilot_on": {"zh": "开启", "en": "on"},
    "pilot_off": {"zh": "关闭", "en": "off"},
    "review_pilot_line": {"zh": "• {stage}：停留中位数 {a} 天 vs {b} 天（{d} 天，n={na}/{nb}）；转化 {ca} vs {cb}（{dc} 个百分点，n={da}/{db}）",
                          "en": "• {stage}: median {a} vs {b} days ({d} days, n={na}/{nb}); conversion {ca} vs {cb} ({dc} points, n={da}/{db})"},
    "review_pilot_early": {"zh": "• {stage}：太早，无法判断（n={na}/{nb}，每组至少 {min} 个）",
                           "en": "• {stage}: too early to tell (n={na}/{nb}; at least {min} per group)"},
    "review_pilot_note": {"zh": "  注：这是两组团队的对比，团队之间可能还有其他差异。", "en": "  Note: a comparison of teams, which may differ in other ways too."},
    "pilot_none": {"zh": "目前没有试点：所有团队启用的模块相同（/modules 为本团队单独开关模块）。",
                   "en": "No pilot running: every team has the same modules (/modules switches them for your team)."},
    "review_more": {"zh": "  …另有 {n} 个", "en": "  …{n} more"},
    "review_suggest_header": {"zh": "\n<b>⑥ 建议</b>（在 config.toml 中修改）", "en": "\n<b>⑥ Suggestions</b> (edit in config.toml)"},
    "review_suggest_none": {"zh": "  暂无建议。", "en": "  Nothing to suggest."},
    "review_suggest_flagged_unclear": {"zh": "• 「{item}」被 {n} 人次标为说不清：把步骤写得更具体", "en": "• “{item}” was flagged unclear {n} times: make the step concrete"},
    "review_suggest_flagged_missing": {"zh": "• 「{item}」被 {n} 人次标为缺一步：补上缺的动作或拆成两步", "en": "• “{item}” was flagged as missing a step {n} times: add it or split the step"},
    "review_suggest_flagged_useless": {"zh": "• 「{item}」被 {n} 人次标为没用：降低分值或移出清单", "en": "• “{item}” was flagged useless {n} times: lower its points or drop it"},
    "review_suggest_separates": {"zh": "• 「{item}」：推进的商机 {adv}% 做了，其他仅 {other}%：提高分值，强化这一步",
                                 "en": "• “{item}”: done in {adv}% of advancing deals vs {other}% of the others: raise its points"},
    "review_suggest_unused": {"zh": "• 「{item}」几乎没人做：确认是否还需要，或放进试点模块",
                              "en": "• “{item}” is almost never done: check it is still needed, or move it to a pilot module"},
    "review_suggest_lost_stage": {"zh": "• {stage} 阶段因「{reason}」丢单 {n} 个：在该阶段话术中加入应对",
                                  "en": "• {n} deals lost at {stage} for “{reason}”: add an answer to that stage's scripts"},
    "review_suggest_stalls": {"zh": "• {stage} 有 {n} 个商机停滞（上限 {days} 天）：检查清单是否卡人，或调整停滞天数",
                              "en": "• {n} deals stalled at {stage} (limit {days} days): check the checklist, or adjust the limit"},
    "review_suggest_competitor": {"zh": "• 输给 {competitor} {n} 个：更新应对话术", "en": "• {n} deals lost to {competitor}: update the counter-scripts"},
})
