"""How an alert reads in a chat: one function of a `Text`, so `es`, `en` and `both` come from one
code path, and the composer's preview is the very text a recipient gets.

Bodies and titles are coordinators' free text: they are escaped (HTML) here, once. No Telegram:
buttons are the caller's business (handlers/alerts/copies.py).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.db.models import Alert
from bot.i18n import BOTH_SEPARATOR, LANGUAGES, N_, Text, escape
from bot.services.shared import vocabulary as v

SEVERITY: dict[str, str] = {
    "info": N_("Information"),
    "warning": N_("Warning"),
    "urgent": N_("Urgent"),
}
ICON = {"info": "ℹ️", "warning": "⚠️", "urgent": "🚨"}
ASK: dict[str, str] = {
    "acknowledge": N_("Received"),
    "sign_on": N_("We sign on"),
    "affected": N_("This affects us"),
    "can_help": N_("We can help"),
}
ASK_ICON = {"acknowledge": "✅", "sign_on": "✍️", "affected": "⚠️", "can_help": "🤝"}
AUDIENCE: dict[str, str] = {
    "all": N_("All organisations"),
    "members": N_("Full members only"),
    "allies": N_("Allies only"),
    "kinds": N_("Some kinds of organisation"),
}


def region_name(t: Text, code: str) -> str:
    return v.region_label(code, t.lang)


def ask_label(t: Text, kind: str) -> str:
    return f"{ASK_ICON.get(kind, '')} {t.tr(ASK[kind])}".strip()


def section(t: Text, alert: Alert, body: str) -> str:
    """One language's version of the alert."""
    lines = [
        t.tr("{icon} <b>Alert: {severity}</b>", icon=ICON.get(alert.severity, ""),
             severity=t.tr(SEVERITY.get(alert.severity, SEVERITY["info"]))),
        f"<b>{escape(alert.title)}</b>",
        "",
        escape(body),
        "",
    ]
    if alert.deadline is not None:
        lines.append(t.tr("⏰ Deadline: {date}", date=t.moment(alert.deadline, with_zone=True)))
    if alert.link:
        lines.append(t.tr("🔗 More: {link}", link=alert.link))
    if alert.topics:
        lines.append(t.tr("Topics: {value}", value=", ".join(
            t.tr(v.TOPICS[x]) for x in alert.topics if x in v.TOPICS)))
    if alert.regions:
        lines.append(t.tr("Regions: {value}", value=", ".join(
            region_name(t, r) for r in alert.regions)))
    statement = statement_for(alert, t.lang)
    if statement and "sign_on" in (alert.asks or []):
        lines += ["", t.tr("✍️ <b>Statement to sign</b>:"), escape(statement)]
        if alert.sign_deadline is not None:
            lines.append(t.tr("Signing closes {date}.",
                              date=t.moment(alert.sign_deadline, with_zone=True)))
        lines.append("")
    if alert.asks:
        lines.append(t.tr("Please answer for your organisation with the buttons below."))
    return "\n".join(lines).rstrip()


def statement_for(alert: Alert, lang: str) -> str:
    """The statement in `lang`, or the other language's when it has none."""
    own = alert.statement_en if lang == "en" else alert.statement_es
    other = alert.statement_es if lang == "en" else alert.statement_en
    return own or other or ""


def body_for(alert: Alert, lang: str) -> str:
    """The body in `lang`, or the other language's when it has none."""
    own = alert.body_en if lang == "en" else alert.body_es
    other = alert.body_es if lang == "en" else alert.body_en
    return own or other or ""


def alert_text(alert: Alert, choice: str, timezone: str) -> str:
    """The alert as a chat with this language choice reads it: `both` is Spanish then English,
    each with its own text (a language without a text is left out)."""
    if choice == "both":
        langs = [lang for lang in LANGUAGES if getattr(alert, f"body_{lang}")] or ["es"]
        return BOTH_SEPARATOR.join(section(Text(lang, timezone), alert, body_for(alert, lang))
                                   for lang in langs)
    lang = choice if choice in LANGUAGES else "es"
    return section(Text(lang, timezone), alert, body_for(alert, lang))


def nudge_section(t: Text, alert: Alert) -> str:
    lines = [t.tr("🔔 <b>Reminder</b>: your organisation has not answered this alert yet."),
             f"<b>{escape(alert.title)}</b>"]
    if alert.deadline is not None:
        lines.append(t.tr("⏰ Deadline: {date}", date=t.moment(alert.deadline, with_zone=True)))
    lines.append(t.tr("Please answer for your organisation with the buttons below."))
    return "\n".join(lines)


def nudge_text(alert: Alert, choice: str, timezone: str) -> str:
    if choice == "both":
        return BOTH_SEPARATOR.join(nudge_section(Text(lang, timezone), alert)
                                   for lang in LANGUAGES)
    return nudge_section(Text(choice if choice in LANGUAGES else "es", timezone), alert)


def corrected_mark(t: Text, alert: Alert) -> str:
    return t.tr("✏️ <b>Corrected</b> on {date}: this replaces the earlier text.",
                date=t.moment(alert.corrected_at) if alert.corrected_at else "—")


def corrected_text(alert: Alert, choice: str, timezone: str) -> str:
    """A corrected alert: the visible mark, then the alert as it now reads."""
    return render_each(choice, timezone, lambda t: corrected_mark(t, alert)) + "\n\n" + \
        alert_text(alert, choice, timezone)


def withdrawn_section(t: Text, alert: Alert) -> str:
    return "\n".join([
        t.tr("⛔ <b>Withdrawn</b> on {date}: the coordinators withdrew this alert.",
             date=t.moment(alert.withdrawn_at) if alert.withdrawn_at else "—"),
        f"<s>{escape(alert.title)}</s>",
        t.tr("Why: {reason}", reason=alert.withdraw_reason or "—"),
    ])


def withdrawn_text(alert: Alert, choice: str, timezone: str) -> str:
    return render_each(choice, timezone, lambda t: withdrawn_section(t, alert))


def stale_part(t: Text) -> str:
    return t.tr("✏️ This part of the alert was removed when it was corrected; the corrected text "
                "is above.")


def render_each(choice: str, timezone: str, build: Callable[[Text], str]) -> str:
    if choice == "both":
        return BOTH_SEPARATOR.join(build(Text(lang, timezone)) for lang in LANGUAGES)
    return build(Text(choice if choice in LANGUAGES else "es", timezone))
