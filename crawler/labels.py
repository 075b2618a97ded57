"""The Chinese words users read for touthunt's codes: hit categories, review statuses, authorities, batch
states, re-check outcomes, run statuses and failure reasons. Codes stay English in data and code; only output
uses these labels."""

from __future__ import annotations

CATEGORIES = {
    "scalper_service": "号贩子/代挂号",
    "medical_tout": "网络医托",
    "illegal_medical_ad": "违法医疗广告",
}

HIT_STATUSES = {"new": "待审核", "confirmed": "已确认", "dismissed": "已排除"}

AUTHORITIES = {
    "cac": "网信部门",
    "miit": "通信管理局",
    "samr": "市场监管部门",
    "police": "公安机关",
}

BATCH_STATUSES = {"draft": "草稿", "approved": "已审批", "sent": "已发送", "answered": "已回复"}

RECHECK_OUTCOMES = {
    "removed": "已删除",
    "still_online": "仍在线",
    "changed": "内容变化仍违规",
    "unreachable": "无法访问",
}

RUN_STATUSES = {
    "running": "运行中",
    "finished": "已完成",
    "failed": "失败",
    "interrupted": "已中断",
    "blocked": "受阻停止",  # the platform showed a login wall, a captcha or an empty page
}

FAILURE_REASONS = {
    "timeout": "超时",
    "too_large": "页面过大",
    "binary": "非文本内容",
    "redirect_loop": "重定向循环",
    "robots_disallowed": "robots.txt 禁止",
    "dns_error": "域名无法解析",
    "connection_refused": "连接被拒绝",
    "connection_error": "连接错误",
    "duplicate_url": "重复网址",
    "store_error": "入库失败",
    "parser_failure": "结果页解析失败",
    "redirect_expired": "跳转链接失效",
    "captcha": "验证码拦截",
    "link_expired": "链接已过期",
    "link_unreadable": "跳转链接无法解析",
}

# What a run saw of its source (CrawlRun.source_state); the coverage line and the commands name it so.
SOURCE_STATES = {
    "ok": "正常",
    "empty": "无内容",
    "login_wall": "需要登录",
    "captcha": "验证码拦截",
    "parser_failure": "解析失败 (页面结构可能已变)",
    "blocked": "被拦截",
}

SOURCE_KINDS = {"site": "网站", "search": "搜索引擎", "classifieds": "分类信息"}


def category_label(code: str | None) -> str:
    return CATEGORIES.get(code or "", code or "")


def failure_label(reason: str) -> str:
    if reason.startswith("http_"):
        return f"HTTP {reason.removeprefix('http_')} 错误"
    return FAILURE_REASONS.get(reason, reason)
