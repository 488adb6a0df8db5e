"""How polls read: the draft's preview, each chat's copy, results, reminders (issue 9).

Every function takes a `Text` (one language, one time zone) and returns HTML, so one code path
renders `es`, `en` and `both`. Results never name an organisation; outside coordinators' views
groups of fewer than 3 organisations are folded (rule Q).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import i18n
from bot.db.models import Poll
from bot.db.states import PollStatus
from bot.i18n import N_, Text
from bot.services.polls import polls
from bot.services.polls.results import MIN_GROUP, Result, shown_groups, state_line_data
from bot.services.shared import vocabulary as v
from bot.services.shared.visibility import OTHER
from handlers.polls import chart

KIND_LABELS = {"single": N_("Single choice"), "multiple": N_("Multiple choice"),
               "ranked": N_("Ranked (order the options)")}
COUNTING_LABELS = {"org": N_("One vote per organisation"), "person": N_("One vote per person")}
AUDIENCES = {"all": N_("All organisations"), "member": N_("Full members only"),
             "ally": N_("Allies only")}


def audience_key(draft: polls.Draft) -> str:
    return draft.tiers[0] if len(draft.tiers) == 1 else "all"


def preview(t: Text, draft: polls.Draft) -> str:
    closes = draft.closes()
    lines = [t.tr("<b>Please check the poll</b>"), "",
             t.tr("Question: <b>{value}</b>", value=draft.question or "")]
    lines += [f"{n}. {i18n.escape(o)}" for n, o in enumerate(draft.options, 1)]
    lines += [
        "",
        t.tr("Kind: {value}",
             value=t.tr(KIND_LABELS.get(draft.kind or "", "")) if draft.kind else ""),
        t.tr("Counting: {value}", value=t.tr(COUNTING_LABELS[draft.counting])),
        t.tr("Allies' votes in the headline result: {value}",
             value=t.tr("yes") if draft.allies_count else t.tr("no")),
        t.tr("Audience: {value}", value=t.tr(AUDIENCES[audience_key(draft)])),
    ]
    if draft.regions or draft.topics or draft.kinds:
        lines.append(t.tr("Only: {value}", value=filters_text(t, draft)))
    # the closing as typed is read back here, in full and with its zone (the one formatter)
    lines.append(t.tr("Closes: {date}", date=t.moment(closes, with_zone=True) if closes else ""))
    return "\n".join(lines)


def reach_line(t: Text, orgs: int, chats: int) -> str:
    if not orgs:
        return t.tr("⚠️ No organisation matches: change the audience or the filters.")
    return t.tr("Organisations reached: {orgs}. Chats: {chats}.", orgs=t.number(orgs),
                chats=t.number(chats))


def filters_text(t: Text, draft: polls.Draft) -> str:
    parts = [v.region_label(r, t.lang) for r in draft.regions]  # a country by name, not "GT"
    parts += [t.tr(v.TOPICS[x]) for x in draft.topics if x in v.TOPICS]
    parts += [t.tr(v.KINDS[k]) for k in draft.kinds if k in v.KINDS]
    return ", ".join(parts)


def how_counted(t: Text, poll: Poll) -> str:
    closes = t.moment(poll.closes_at, with_zone=True)
    if poll.counting == "org":
        return t.tr("Closes {date}. One vote per organisation: its latest vote counts.",
                    date=closes)
    return t.tr("Closes {date}. One vote per person who answers for a member organisation.",
                date=closes)


def native_poll(poll: Poll, now: datetime) -> dict[str, Any]:
    """The `sendPoll` fields of a single or multiple choice copy: non-anonymous (so each vote
    reaches the bot) and closed by Telegram itself when the close is near enough."""
    fields: dict[str, Any] = {"question": poll.question, "options": list(poll.options),
                              "is_anonymous": False,
                              "allows_multiple_answers": poll.kind == "multiple"}
    if polls.MIN_OPEN <= poll.closes_at - now <= polls.TELEGRAM_MAX_OPEN:
        fields["close_date"] = int(poll.closes_at.timestamp())
    return fields


def ranked_announcement(t: Text, poll: Poll) -> str:
    lines = [t.tr("<b>Coalition poll</b>: rank the options in order of preference."), "",
             f"<b>{i18n.escape(poll.question)}</b>"]
    lines += [f"{n}. {i18n.escape(o)}" for n, o in enumerate(poll.options, 1)]
    lines += ["", how_counted(t, poll),
              t.tr("Press the button to rank them in a private chat with me; you may rank only "
                   "some.")]
    return "\n".join(lines)


def ballot_text(t: Text, poll: Poll, ranking: list[int]) -> str:
    lines = [f"<b>{i18n.escape(poll.question)}</b>", ""]
    if ranking:
        lines.append(t.tr("Your ranking so far:"))
        lines += [f"{n}. {i18n.escape(poll.options[o])}" for n, o in enumerate(ranking, 1)]
        lines.append("")
    if len(ranking) < len(poll.options):
        lines.append(t.tr("Choose your next preference, or confirm the ranking as it is."))
    else:
        lines.append(t.tr("Every option is ranked: confirm your ranking."))
    return "\n".join(lines)


def _votes(t: Text, n: int) -> str:
    return t.tr_plural("{n} vote", "{n} votes", n)


def _options_lines(t: Text, result: Result) -> list[str]:
    lines = []
    order = sorted(range(len(result.options)), key=lambda i: (-result.measure[i], i))
    for i in order:
        label = i18n.escape(result.options[i])
        if result.ranked:
            assert result.borda is not None
            points = i18n.Safe(t.tr_plural("{n} Borda point", "{n} Borda points",
                                           result.borda[i]))
            first = i18n.Safe(t.tr_plural("{n} first preference", "{n} first preferences",
                                          result.headline[i]))
            lines.append(t.tr("{option}: {points}, {first}", option=i18n.Safe(label),
                              points=points, first=first))
        else:
            lines.append(t.tr("{option}: {votes}", option=i18n.Safe(label),
                              votes=_votes(t, result.headline[i])))
    return lines


def _runoff_lines(t: Text, result: Result) -> list[str]:
    lines = []
    for number, round_ in enumerate(result.rounds, 1):
        counts = ", ".join(f"{i18n.escape(result.options[int(o)])} {c}"
                           for o, c in round_["counts"].items())
        line = t.tr("Round {n}: {counts}", n=number, counts=i18n.Safe(counts))
        if round_["eliminated"] is not None:
            line += t.tr("; eliminated: {option}", option=result.options[round_["eliminated"]])
        lines.append(line)
    if result.winner is not None:
        lines.append(t.tr("Instant-runoff winner: <b>{option}</b>",
                          option=result.options[result.winner]))
    return lines


def _group_name(t: Text, split: str, key: str) -> str:
    if key == OTHER:
        return t.tr("other groups together")
    if split == "state":
        return v.region_label(key, t.lang)
    if split == "tier":
        return t.tr(v.TIERS.get(key, key))
    return t.tr(v.KINDS.get(key, key))


def _split_lines(t: Text, result: Result, coordinator_view: bool) -> list[str]:
    lines: list[str] = []
    n = len(result.options)
    for split, title, groups in (("tier", N_("By membership"), result.by_tier),
                                 ("kind", N_("By kind"), result.by_kind),
                                 ("state", N_("By state"), result.by_state)):
        shown = shown_groups(groups, n, coordinator_view)
        if not shown:
            continue
        lines.append(f"<i>{t.tr(title)}</i>")
        for key, (orgs, measure) in shown.items():
            best = max(range(n), key=lambda i: (measure[i], -i))
            group = _group_name(t, split, key)
            lines.append(t.tr_plural("{group} ({n} organisation): first {option}",
                                     "{group} ({n} organisations): first {option}", orgs,
                                     group=group, option=result.options[best]))
    return lines


def results_text(t: Text, poll: Poll, result: Result, *, coordinator_view: bool,
                 areas: list[str] | None = None, scope: str | None = None) -> str:
    """The poll's results: totals, runoff, turnout, tallies apart, splits, and for a member
    chat the result in its organisation's states."""
    closed = poll.status == PollStatus.CLOSED
    head = (t.tr("<b>Poll results</b>") if closed
            else t.tr("<b>Poll results so far</b> (open until {date})",
                      date=t.moment(poll.closes_at, with_zone=True)))
    lines = [head, f"<b>{i18n.escape(poll.question)}</b>", "", *_options_lines(t, result)]
    if result.ranked:
        lines += ["", *_runoff_lines(t, result)]
    lines += ["", t.tr_plural("Turnout: {voted} of {n} organisation voted.",
                              "Turnout: {voted} of {n} organisations voted.", result.reached_orgs,
                              voted=t.number(result.voted_orgs))]
    for tier, totals, label in (("member", result.members, N_("Full members: {counts}")),
                                ("ally", result.allies, N_("Allies: {counts}"))):
        voted = result.by_tier.get(tier, (0, []))[0]
        if not coordinator_view and 0 < voted < MIN_GROUP:
            # The same rule as the splits below: a member who knows her own vote must not
            # work out another organisation's from a group of one or two.
            lines.append(t.tr(label, counts=t.tr("fewer than 3 organisations voted, not shown")))
            continue
        counts = ", ".join(f"{i18n.escape(o)} {c}" for o, c in zip(result.options, totals,
                                                                    strict=True))
        lines.append(t.tr(label, counts=i18n.Safe(counts)))
    if not poll.allies_count:
        lines.append(t.tr("Allies' votes are shown apart and not counted in the headline result."))
    if result.strangers or result.unattributed:
        lines.append(t.tr("Not counted: {strangers} from people who do not answer for a reached "
                          "organisation; {orphans} on copies that could not be traced.",
                          strangers=_votes(t, result.strangers),
                          orphans=_votes(t, result.unattributed)))
    splits = _split_lines(t, result, coordinator_view)
    if splits:
        lines += ["", *splits]
    if areas is not None and scope is not None:
        for state, option, place in state_line_data(result, areas, scope, coordinator_view):
            lines += ["", t.tr("In {state}, “{option}” came first; across the coalition, "
                               "{place}.", state=v.region_label(state, t.lang),
                               option=result.options[option], place=ordinal(t, place))]
    return "\n".join(lines)


def ordinal(t: Text, place: int) -> str:
    names = {1: N_("first"), 2: N_("second"), 3: N_("third"), 4: N_("fourth"),
             5: N_("fifth")}
    if place in names:
        return t.tr(names[place])
    return t.tr("in place {n}", n=place)


def nudge_text(t: Text, poll: Poll) -> str:
    return t.tr("Reminder: your organisation has not voted yet on “{question}”. The poll closes "
                "{date}.", question=poll.question, date=t.moment(poll.closes_at, with_zone=True))


def stranger_thanks(t: Text) -> str:
    return t.tr("Thank you for your vote. You do not answer for an organisation reached by this "
                "poll, so it is shown apart and not counted in the results.")


def chart_for(t: Text, poll: Poll, result: Result) -> chart.Chart:
    """The results chart: the options and their headline measure (votes, or Borda points)."""
    axis = t.tr("Borda points") if result.ranked else t.tr("Votes")
    return chart.draw(poll.question, list(result.options), list(result.measure), axis)


def chart_caption(t: Text, poll: Poll) -> str:
    return t.tr("Results chart: {question}", question=poll.question)[:1000]
