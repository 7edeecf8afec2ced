"""User-facing texts of voice notes, call recordings and the optional AI assistant (issue 17)."""
from __future__ import annotations

from core.texts_registry import TEXTS

TEXTS.update({
    # --- speech to text -----------------------------------------------------------------------
    "voice_not_configured": {
        "zh": "🎙 本团队还没有接入语音转文字服务，请直接打字发送。",
        "en": "🎙 No speech-to-text service is set up for this team yet; please type your update.",
    },
    "voice_not_allowed": {
        "zh": "🎙 团队设置不允许把录音发送到转写服务，请直接打字发送。",
        "en": "🎙 The team's settings do not allow audio to leave for transcription; please type your update.",
    },
    "voice_too_large": {
        "zh": "🎙 文件太大（{mb} MB）：机器人只能下载 20 MB 以内的文件。请剪短或压缩后再发。",
        "en": "🎙 That file is too big ({mb} MB): bots can only download files up to 20 MB. Please trim or compress it.",
    },
    "voice_too_long": {
        "zh": "🎙 录音太长（约 {minutes} 分钟，上限 {max} 分钟），请剪短后再发。",
        "en": "🎙 That recording is too long (about {minutes} min, limit {max} min); please trim it.",
    },
    "voice_bad_audio": {
        "zh": "🎙 这个文件无法作为音频读取，请换成常见格式（OGG、MP3、M4A、WAV）再发。",
        "en": "🎙 That file cannot be read as audio; please send OGG, MP3, M4A or WAV.",
    },
    "voice_download_failed": {
        "zh": "🎙 暂时无法从 Telegram 取回这个文件，请稍后点「重试」。",
        "en": "🎙 Telegram did not hand over the file just now; please press Retry in a moment.",
    },
    "voice_working": {"zh": "🎙 正在转写（{seconds} 秒）…", "en": "🎙 Transcribing ({seconds} s)…"},
    "voice_empty": {
        "zh": "🎙 没有听清内容，请靠近话筒再录一次，或直接打字。",
        "en": "🎙 Nothing could be made out; please record again closer to the microphone, or type.",
    },
    "voice_err_budget": {
        "zh": "🎙 今天的语音转写额度已用完，明天恢复；请先打字发送。",
        "en": "🎙 Today's transcription budget is used up (it resets tomorrow); please type for now.",
    },
    "voice_err_circuit_open": {
        "zh": "🎙 转写服务暂时不可用，约 {seconds} 秒后可点「重试」；录音不会丢失。",
        "en": "🎙 The transcription service is unavailable; press Retry in about {seconds} s. Nothing is lost.",
    },
    "voice_err_timeout": {
        "zh": "🎙 转写服务响应超时，请稍后点「重试」；录音不会丢失。",
        "en": "🎙 The transcription service timed out; press Retry later. Nothing is lost.",
    },
    "voice_err_unavailable": {
        "zh": "🎙 转写服务暂时不可用，请稍后点「重试」；录音不会丢失。",
        "en": "🎙 The transcription service is unavailable; press Retry later. Nothing is lost.",
    },
    "voice_err_rate_limited": {
        "zh": "🎙 转写服务繁忙，请约 {seconds} 秒后点「重试」；录音不会丢失。",
        "en": "🎙 The transcription service is busy; press Retry in about {seconds} s. Nothing is lost.",
    },
    "voice_err_rejected": {
        "zh": "🎙 转写服务拒绝了请求（地址、模型或密钥可能有误），请联系管理员。",
        "en": "🎙 The transcription service refused the request (URL, model or key may be wrong); please tell your admin.",
    },
    "voice_err_bad_response": {
        "zh": "🎙 转写服务返回了无法识别的结果，请稍后点「重试」或联系管理员。",
        "en": "🎙 The transcription service answered with something unreadable; retry later or tell your admin.",
    },
    "voice_note_transcript": {
        "zh": "🎙 <b>转写结果</b>（{seconds} 秒）\n{text}\n\n内容无误请点「✅ 使用」；需要改字请点「✏️ 修改」。",
        "en": "🎙 <b>Transcript</b> ({seconds} s)\n{text}\n\nPress “✅ Use” if it is right, or “✏️ Edit” to correct it.",
    },
    "voice_call_transcript": {
        "zh": "📞 <b>通话录音转写</b>（{minutes} 分钟）\n{text}\n\n内容无误请点「✅ 分析」；需要改字请点「✏️ 修改」。",
        "en": "📞 <b>Call transcript</b> ({minutes} min)\n{text}\n\nPress “✅ Analyse” if it is right, or “✏️ Edit” to correct it.",
    },
    "voice_edit_prompt": {
        "zh": "✏️ 请发送修改后的文字（可复制下面的原文修改，/cancel 取消）：\n<code>{text}</code>",
        "en": "✏️ Send the corrected text (copy the original below and edit it; /cancel to stop):\n<code>{text}</code>",
    },
    "btn_voice_use": {"zh": "✅ 使用", "en": "✅ Use"},
    "btn_voice_analyse": {"zh": "✅ 分析", "en": "✅ Analyse"},
    "btn_voice_edit": {"zh": "✏️ 修改", "en": "✏️ Edit"},
    "btn_voice_retry": {"zh": "🔁 重试", "en": "🔁 Retry"},
    # --- the assistant ---------------------------------------------------------------------------
    "btn_assist_summary": {"zh": "📝 总结", "en": "📝 Summary"},
    "btn_assist_reply": {"zh": "💬 帮我回复", "en": "💬 Draft replies"},
    "assist_off": {
        "zh": "🤖 本团队没有启用 AI 助手；上面的离线分析就是完整结果。",
        "en": "🤖 The AI assistant is not enabled for this team; the offline analysis above is complete.",
    },
    "assist_expired": {
        "zh": "🤖 这张分析卡已过期，请重新粘贴或转发对话。",
        "en": "🤖 This analysis card has expired; please paste or forward the conversation again.",
    },
    "assist_working": {"zh": "🤖 正在生成…", "en": "🤖 Working…"},
    "assist_summary": {
        "zh": "📝 <b>{name} 对话总结</b>（AI 生成，仅您可见）\n{text}",
        "en": "📝 <b>Summary: {name}</b> (AI, only you see this)\n{text}",
    },
    "assist_replies": {
        "zh": "💬 <b>回复草稿</b>（AI 生成，仅您可见；机器人不会发给客户，请自行修改后发送）\n{text}",
        "en": "💬 <b>Reply drafts</b> (AI, only you see this; the bot never sends them to the customer)\n{text}",
    },
    "assist_fallback": {
        "zh": "⚠️ AI 助手暂时不可用（{reason}），以下为离线分析：",
        "en": "⚠️ The AI assistant is unavailable ({reason}); here is the offline analysis:",
    },
    "assist_reason_budget": {"zh": "今日额度已用完", "en": "today's budget is used up"},
    "assist_reason_timeout": {"zh": "响应超时", "en": "timed out"},
    "assist_reason_other": {"zh": "服务出错", "en": "service error"},
    "offline_summary": {
        "zh": "📝 <b>{name} 对话总结</b>（离线分析）\n客户需求：{needs}\n客户顾虑：{objections}\n购买意向：{level}（{score}/100）\n关键信息：{keywords}\n下一步：{next}",
        "en": "📝 <b>Summary: {name}</b> (offline analysis)\nNeeds: {needs}\nConcerns: {objections}\nPurchase intent: {level} ({score}/100)\nKey facts: {keywords}\nNext step: {next}",
    },
    "offline_replies": {
        "zh": "💬 <b>回复草稿</b>（团队话术，仅您可见；机器人不会发给客户）\n{text}",
        "en": "💬 <b>Reply drafts</b> (team scripts, only you see this; the bot never sends them)\n{text}",
    },
    "offline_none": {"zh": "未发现", "en": "none found"},
    "offline_next_default": {
        "zh": "约定下一次跟进时间，并确认决策人和预算。",
        "en": "Agree the next follow-up and confirm the decision maker and budget.",
    },
    "offline_reply_default": {
        "zh": "感谢您的时间！我整理一下今天聊到的要点发您，您看什么时候方便再约个时间细聊？",
        "en": "Thank you for your time! I'll send a summary of what we discussed. When would suit you for a follow-up?",
    },
})
