"""How digests read, in each language: one message where it fits (the delivery engine splits a
longer one), dates and numbers through Babel in the chat's time zone.

A member digest names no other organisation (rule Q: a low-profile one would be named otherwise);
the coordinators' digest is their view and names organisations.
"""

from __future__ import annotations

from bot.i18n import Safe, Text
from bot.services.digests import digests
from handlers.actions.render import ANSWER as RSVP
from handlers.actions.render import KIND as ACTION_KIND
from handlers.actions.render import KIND_ICON
from handlers.alerts.render import ASK, ICON


def _date(t: Text, value: object) -> str:
    return t.moment(value)  # type: ignore[arg-type]


def member_text(digest: digests.MemberDigest) -> object:
    def build(t: Text) -> str:
        lines = [t.tr("<b>Coalition digest</b>: {since} to {until}",
                      since=_date(t, digest.since), until=_date(t, digest.until)), ""]
        lines.append(t.tr("<b>Alerts</b>"))
        if not digest.alerts:
            lines.append(t.tr("No new alerts."))
        for alert in digest.alerts:
            state = (t.tr("you answered: {answer}", answer=t.gettext(ASK.get(alert.answer, "")))
                     if alert.answer else t.tr("not answered yet"))
            lines.append(f"{ICON.get(alert.severity, '•')} " + t.tr(
                "{title} ({date}): {state}", title=alert.title, date=_date(t, alert.sent_at),
                state=state))
        lines += ["", t.tr("<b>Polls waiting for your vote</b>")]
        if not digest.polls:
            lines.append(t.tr("None: your organisation has voted in every open poll."))
        for poll in digest.polls:
            lines.append("📊 " + t.tr("{question} (closes {date})", question=poll.question,
                                      date=_date(t, poll.closes_at)))
        lines += ["", t.tr("<b>Coming up in the next 14 days</b>")]
        if not digest.actions:
            lines.append(t.tr("Nothing scheduled."))
        for action in digest.actions:
            answer = (t.gettext(RSVP[action.rsvp]) if action.rsvp in RSVP
                      else t.tr("no answer yet"))
            lines.append(f"{KIND_ICON.get(action.kind, '•')} " + t.tr(
                "{date}: {title} ({kind}). Your answer: {answer}", date=_date(t, action.starts_at),
                title=action.title, kind=t.gettext(ACTION_KIND.get(action.kind, "")),
                answer=answer))
        active = Safe(t.tr_plural("{n} active organisation", "{n} active organisations",
                                  digest.active_orgs))
        answers = Safe(t.tr_plural("{n} answer to alerts", "{n} answers to alerts",
                                   digest.answers_week))
        lines += ["", t.tr("The coalition: {orgs}; {answers} this week.", orgs=active,
                           answers=answers)]
        lines.append(t.tr("Change how often this chat gets the digest: /digest_settings"))
        return "\n".join(lines)

    return build


def coordinator_text(digest: digests.CoordinatorDigest) -> object:
    def build(t: Text) -> str:
        lines = [t.tr("<b>Coordinators' digest</b>: {since} to {until}",
                      since=_date(t, digest.since), until=_date(t, digest.until)), ""]
        failed = Safe(t.tr_plural("{n} failed", "{n} failed", digest.failed))
        unreachable = Safe(t.tr_plural("{n} unreachable chat", "{n} unreachable chats",
                                       digest.unreachable))
        lines.append(t.tr("Delivery: {failed}, {unreachable}.", failed=failed,
                          unreachable=unreachable))
        for reason, count in digest.reasons.items():
            lines.append(t.tr("  • {reason}: {count}", reason=reason, count=t.number(count)))
        lines.append(t.tr("Contacts the bot cannot write to: {n}",
                          n=t.number(digest.unreachable_people)))
        lines += ["", t.tr("<b>Registrations waiting</b>: {n}", n=t.number(len(digest.pending)))]
        lines += [t.tr("  • #{id} {name}", id=i, name=n) for i, n in digest.pending[:20]]
        lines += ["", t.tr("<b>Silent for 30 days</b> (no answer, no vote): {n}",
                           n=t.number(len(digest.silent)))]
        lines += [t.tr("  • #{id} {name}", id=i, name=n) for i, n in digest.silent[:30]]
        if len(digest.silent) > 30:
            lines.append(t.tr("  … and {n} more (/members)", n=t.number(len(digest.silent) - 30)))
        lines += ["", t.tr("<b>Urgent alerts still unanswered</b>")]
        if not digest.urgent_unanswered:
            lines.append(t.tr("None."))
        lines += [t.tr_plural("  • {title}: {n} organisation silent",
                              "  • {title}: {n} organisations silent", n, title=title)
                  for title, n in digest.urgent_unanswered]
        lines += ["", t.tr("Open requests for help: {n}", n=t.number(digest.open_requests))]
        return "\n".join(lines)

    return build


def rate_chart_labels(t: Text, digest: digests.CoordinatorDigest) -> tuple[list[str], list[int]]:
    labels = [t.tr("week of {date}", date=t.day(week))
              for week, _ in digest.weekly_rates]
    values = [round(100 * rate) if rate is not None else 0 for _, rate in digest.weekly_rates]
    return labels, values
