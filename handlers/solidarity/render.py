"""Solidarity's button data (decoded in handlers/shared/callback_data.py like every other) and
the texts the outbox sends: a request to the organisations that offer the capacity, an offer to the
asking organisation, the "you are in touch" messages, and what coordinators read.

Kept apart from the handlers so the scheduled escalation (handlers/solidarity/tasks.py) renders
what the handlers render. Rule Q lives in `asker_label`/`helper_label`: an anonymous request
names nobody, and a low-profile organisation is named to others only by its alias.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot import i18n
from bot.db.models import HelpOffer, HelpRequest, Organisation
from bot.delivery.outbox import Outgoing
from bot.i18n import N_, Safe, Text
from bot.services.shared import vocabulary as v
from bot.services.shared.visibility import shown_name
from bot.services.solidarity import solidarity
from handlers.shared.callback_data import action, encode
from handlers.solidarity import chart

URGENCY: dict[str, str] = {
    "routine": N_("Routine"),
    "soon": N_("Soon (within days)"),
    "urgent": N_("Urgent"),
}
OUTCOME: dict[str, str] = {
    "helped": N_("✅ We were helped"),
    "not_needed": N_("Not needed any more"),
    "no_help": N_("No help came"),
}
STATUS: dict[str, str] = {"open": N_("open"), "matched": N_("matched"), "closed": N_("closed")}


# --- button data --------------------------------------------------------------------------------

@action("ho")
@dataclasses.dataclass(frozen=True)
class OfferPress:
    """An answer under a request: help (relay), intro (help, and introduce us), no (not now).
    The organisation comes from the chat and the presser (rule A), never from the data."""

    request: int
    kind: str

    def valid(self) -> bool:
        return self.request > 0 and self.kind in ("help", "intro", "no")


@action("hy")
@dataclasses.dataclass(frozen=True)
class AcceptPress:
    """The asking organisation accepts an organisation's offer (1: and wants an introduction)."""

    request: int
    org: int
    intro: int

    def valid(self) -> bool:
        return self.request > 0 and self.org > 0 and self.intro in (0, 1)


@action("hx")
@dataclasses.dataclass(frozen=True)
class ClosePress:
    request: int
    outcome: str

    def valid(self) -> bool:
        return self.request > 0 and self.outcome in solidarity.OUTCOMES


# --- names, as others may read them (rule Q) ----------------------------------------------------

def asker_label(t: Text, request: HelpRequest, org: Organisation | None) -> str:
    """How the asking organisation is named to other members: never when anonymous."""
    name = shown_name(org, coordinator_view=False) if org is not None and not request.anonymous \
        else None
    return i18n.escape(name) if name else t.tr("an organisation that asks without its name")


def helper_label(t: Text, org: Organisation | None) -> str:
    name = shown_name(org, coordinator_view=False) if org is not None else None
    return i18n.escape(name) if name else t.tr("an organisation that keeps a low profile")


def capacity_label(t: Text, code: str) -> str:
    return t.tr(v.CAPACITIES.get(code, code))


# --- the request, to the organisations that offer the capacity ------------------------------------

def request_text(t: Text, request: HelpRequest, org: Organisation | None,
                 alert_title: str | None) -> str:
    lines = [t.tr("🆘 <b>Request for help #{id}</b>: {capacity}", id=request.id,
                  capacity=capacity_label(t, request.capacity)),
             t.tr("Urgency: {value}", value=t.tr(URGENCY[request.urgency])),
             t.tr("Asked by: {who}", who=i18n.Safe(asker_label(t, request, org)))]
    if alert_title:
        lines.append(t.tr("About the alert: {title}", title=alert_title))
    lines += ["", i18n.escape(request.text), "",
              t.tr("If your organisation can help, press a button below. The organisation that "
                   "asked sees your offer and decides; you are put in touch only if it accepts.")]
    return "\n".join(lines)


def offer_buttons(request_id: int, choice: str) -> list[list[dict[str, Any]]]:
    def button(kind: str, label: str) -> list[dict[str, Any]]:
        return [{"text": i18n.label(choice, lambda t: t.tr(label)),
                 "callback_data": encode(OfferPress(request_id, kind))}]

    return [button("help", N_("🤝 We can help")),
            button("intro", N_("🤝 We can help: introduce us by name")),
            button("no", N_("Not now"))]


def request_copy(default_timezone: str, org: Organisation,
                 alert_title: str | None) -> solidarity.Render:
    def render(request: HelpRequest, target: solidarity.Target) -> Outgoing:
        text = i18n.render(target.language, target.timezone or default_timezone,
                           lambda t: request_text(t, request, org, alert_title))
        return Outgoing(target.chat_id, text=text,
                        buttons=offer_buttons(request.id, target.language))

    return render


# --- coordinators ---------------------------------------------------------------------------------

def coordinator_text(t: Text, request: HelpRequest, org: Organisation, escalated: bool) -> str:
    name = org.name + (" " + t.tr("(low profile)") if org.low_profile else "")
    if escalated:
        head = t.tr("⏰ <b>Urgent request #{id} has no offer yet</b> after {wait}.", id=request.id,
                    wait=t.duration(solidarity.ESCALATE_AFTER.total_seconds()))
    else:
        head = t.tr("🆘 <b>Request for help #{id}</b>, for coordinators only: match it by hand.",
                    id=request.id)
    lines = [head, t.tr("Organisation: {name}", name=name),
             t.tr("Help needed: {capacity}", capacity=capacity_label(t, request.capacity)),
             t.tr("Urgency: {value}", value=t.tr(URGENCY[request.urgency]))]
    if request.anonymous and request.visibility == "members":
        lines.append(t.tr("Members read it without the organisation's name."))
    lines += ["", i18n.escape(request.text), "", t.tr("/requests lists every request.")]
    return "\n".join(lines)


def coordinator_copies(recipients: list[Any], default_language: str, timezone: str,
                       escalated: bool) -> solidarity.CoordinatorRender:
    def render(request: HelpRequest, org: Organisation) -> list[Outgoing]:
        found = []
        for r in recipients:
            choice = r.language if r.language in i18n.CHOICES else default_language
            found.append(Outgoing(r.chat_id, text=i18n.render(
                choice, timezone, lambda t: coordinator_text(t, request, org, escalated))))
        return found

    return render


# --- the asking organisation: offers ------------------------------------------------------------

def offer_text(t: Text, request: HelpRequest, helper: Organisation | None,
               offer: HelpOffer) -> str:
    text = t.tr("🤝 <b>An offer for your request #{id}</b> ({capacity}): {who} can help.",
                id=request.id, capacity=capacity_label(t, request.capacity),
                who=i18n.Safe(helper_label(t, helper)))
    if offer.intro:
        text += " " + t.tr("They agree to be introduced by name.")
    return text + "\n\n" + t.tr("Nothing about you is shared until you accept. If you accept, I "
                                "pass your messages on between our private chats, without names.")


def offer_notice(chat_id: int, choice: str, timezone: str, request: HelpRequest,
                 helper: Organisation | None, offer: HelpOffer) -> Outgoing:
    buttons = [[{"text": i18n.label(choice, lambda t: t.tr("Accept (messages through the bot)")),
                 "callback_data": encode(AcceptPress(request.id, offer.org_id, 0))}]]
    if offer.intro:
        buttons.append([{"text": i18n.label(choice, lambda t: t.tr("Accept and introduce us")),
                         "callback_data": encode(AcceptPress(request.id, offer.org_id, 1))}])
    return Outgoing(chat_id, text=i18n.render(choice, timezone,
                                              lambda t: offer_text(t, request, helper, offer)),
                    buttons=buttons)


def close_buttons(request_id: int, choice: str) -> list[list[dict[str, Any]]]:
    return [[{"text": i18n.label(choice, lambda t, label=label: t.tr(label)),
              "callback_data": encode(ClosePress(request_id, code))}]
            for code, label in OUTCOME.items()]


# --- in touch -----------------------------------------------------------------------------------

def relay_for_helper(t: Text, request: HelpRequest, asker: Organisation | None) -> str:
    return t.tr("✅ <b>Request #{id}</b>: {who} accepted your offer. Write here and I pass your "
                "messages on, without your name; theirs reach you here, until the request is "
                "closed. In several conversations, reply to a passed-on message.",
                id=request.id, who=i18n.Safe(asker_label(t, request, asker)))


def relay_for_asker(t: Text, request: HelpRequest, helper: Organisation | None) -> str:
    return t.tr("✅ You accepted the offer of {who} for request #{id}. Write here and I pass your "
                "messages on, without your name; theirs reach you here, until you close the "
                "request. In several conversations, reply to a passed-on message.",
                id=request.id, who=i18n.Safe(helper_label(t, helper)))


def person(name: str | None, username: str | None) -> str:
    return f"{name or ''} (@{username})".strip()


def intro_for_helper(t: Text, request: HelpRequest, asker: Organisation | None,
                     name: str | None, username: str | None) -> str:
    org_name = shown_name(asker, coordinator_view=False) if asker is not None else None
    org = " " + t.tr("from {name}", name=org_name) if org_name else ""
    return t.tr("✅ <b>Request #{id}</b>: your offer was accepted and both of you asked to be "
                "introduced. Write to {person}{org} directly.", id=request.id,
                person=person(name, username),
                org=i18n.Safe(org))


def intro_for_asker(t: Text, request: HelpRequest, helper: Organisation | None,
                    offer: HelpOffer) -> str:
    return t.tr("✅ Request #{id}: both of you asked to be introduced. Write to {person} from "
                "{who} directly.", id=request.id,
                person=person(offer.intro_name, offer.intro_username),
                who=i18n.Safe(helper_label(t, helper)))


def closed_for_helper(t: Text, request: HelpRequest) -> str:
    return t.tr("Request #{id} was closed by the organisation that asked. Thank you for your "
                "help: messages are no longer passed on.", id=request.id)


def relay_header(t: Text, request_id: int, from_asker: bool, request: HelpRequest,
                 asker: Organisation | None, helper: Organisation | None) -> str:
    who = asker_label(t, request, asker) if from_asker else helper_label(t, helper)
    return t.tr("💬 <b>Request #{id}</b> · {who}:", id=request_id, who=i18n.Safe(who))


# --- coordinators' list and measures ------------------------------------------------------------

def table(rows: list[tuple[str, int, int]], head: tuple[str, str, str]) -> str:
    """A plain text table (no chart library is a dependency): label, requests, offers, bar."""
    width = max([len(head[0]), *(len(r[0]) for r in rows)])
    lines = [f"{head[0]:<{width}}  {head[1]:>5}  {head[2]:>5}"]
    top = max([r[1] for r in rows] or [1]) or 1
    for label, requests, offers in rows:
        bar = "█" * max(1, round(10 * requests / top)) if requests else ""
        lines.append(f"{label:<{width}}  {requests:>5}  {offers:>5}  {bar}")
    return "<pre>" + i18n.escape("\n".join(lines)) + "</pre>"


def measures_text(t: Text, m: solidarity.Measures) -> str:
    if not m.requests:
        return t.tr("No request for help yet.")
    requests = Safe(t.tr_plural("{n} request", "{n} requests", m.requests))
    opened = Safe(t.tr_plural("{n} open", "{n} open", m.by_status.get("open", 0)))
    matched = Safe(t.tr_plural("{n} matched", "{n} matched", m.by_status.get("matched", 0)))
    closed = Safe(t.tr_plural("{n} closed", "{n} closed", m.by_status.get("closed", 0)))
    lines = [t.tr("<b>Measures</b>: {requests} ({open}, {matched}, {closed}).", requests=requests,
                  open=opened, matched=matched, closed=closed)]
    if m.median_first_offer_s is None:
        lines.append(t.tr("Median time to a first offer: no offer yet."))
    else:
        lines.append(t.tr("Median time to a first offer: {wait}.",
                          wait=t.duration(m.median_first_offer_s)))
    share = m.helped_share
    if share is None:
        lines.append(t.tr("Closed as helped: none closed yet."))
    else:
        lines.append(t.tr("Closed as helped: {share} ({helped} of {closed}).",
                          share=f"{round(100 * share)} %", helped=t.number(m.helped),
                          closed=t.number(m.closed)))
    head = (t.tr("Help"), t.tr("Asked"), t.tr("Offers"))
    lines += ["", table([(capacity_label(t, c), r, o)
                         for c, (r, o) in sorted(m.by_capacity.items())], head)]
    head = (t.tr("State or country"), t.tr("Asked"), t.tr("Offers"))
    lines += [table([(v.MX_STATES.get(s, t.tr("no state")), r, o)
                     for s, (r, o) in sorted(m.by_state.items())], head)]
    return "\n".join(lines)


def listing_text(t: Text, lines: list[solidarity.Line]) -> str:
    if not lines:
        return t.tr("No request for help yet.")
    out = [t.tr("<b>Requests for help</b> (open first):")]
    for line in lines:
        r = line.request
        name = line.org.name if line.org is not None else t.tr("(erased)")
        status = t.tr(STATUS.get(r.status, r.status))
        if r.outcome:
            status += " · " + t.tr(OUTCOME[r.outcome])
        out.append(t.tr("#{id} · {status} · {capacity} · {urgency} · {org} · {date} · offers: "
                        "{offers}, accepted: {accepted}", id=r.id, status=status,
                        capacity=capacity_label(t, r.capacity), urgency=t.tr(URGENCY[r.urgency]),
                        org=name, date=t.moment(r.created_at),
                        offers=t.number(line.offers), accepted=t.number(line.accepted)))
        if r.visibility == "coordinators":
            out[-1] += " · " + t.tr("coordinators only")
    return "\n".join(out)


def pairs_text(t: Text, alert_id: int, pairs: list[solidarity.Pair]) -> str:
    if not pairs:
        return t.tr("Alert #{id}: no organisation answered “this affects us” yet.", id=alert_id)
    out = [t.tr("<b>Alert #{id}: who can help whom</b> (closest first)", id=alert_id)]
    for pair in pairs:
        helpers = ", ".join(f"{i18n.escape(o.name)} ({capacity_label(t, c)})"
                            for o, c in pair.helpers) or t.tr("nobody offered help yet")
        out.append(t.tr("{affected} ← {helpers}", affected=pair.affected.name,
                        helpers=i18n.Safe(helpers)))
    return "\n".join(out)


def measures_chart(t: Text, m: solidarity.Measures) -> chart.Chart | None:
    """Requests and offers per kind of help, for coordinators (none before the first request)."""
    if not m.requests:
        return None
    codes = [c for c in v.CAPACITIES if c in m.by_capacity]
    return chart.draw(
        t.tr("Requests for help and offers, per kind of help"),
        [capacity_label(t, c) for c in codes], [m.by_capacity[c][0] for c in codes],
        [m.by_capacity[c][1] for c in codes], (t.tr("Asked"), t.tr("Offers")))


def chart_caption(t: Text) -> str:
    return t.tr("Chart: requests for help and offers, per kind of help.")
