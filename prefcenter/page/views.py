"""The preferences page, its save and "unsubscribe from everything"; signing in and out.

The blueprint is registered twice: at / for people signed in by session, and at
/e/<embed_token>/ for the page framed in a product's settings (see access.py).

A manage link (/l/<token>) signs in by GET, so the "Manage preferences" link in an email is
one click; it then redirects, which drops the token from the address bar. The browser's
history still holds the address: the token is for managing preferences only, and stops
working after MANAGE_LINK_MAX_AGE. A link for someone other than the person signed in asks
before replacing them.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from itsdangerous import BadData, URLSafeTimedSerializer

from ..access.guard import csrf_value, person, token_authenticated
from ..access.identity import Person, current_person, masked, sign_in, sign_out
from ..access.links import LinkClaims, LinkExpired, LinkInvalid, Purpose
from ..courier import CourierNotFound, PreferenceStatus, TopicPreference
from ..platform.embedding import is_embedded
from ..platform.i18n import chosen_locale, use_link_locale
from ..services import per_worker, services
from .consent import Via
from .errors import STALE_MESSAGE, json_refusal, wants_json
from .forms import build_preferences_form
from .fresh_link import expired_page
from .names import localized
from .preferences import (
    DefaultStates,
    SectionState,
    TopicState,
    build_page,
    topics_of,
    topics_without_default,
)
from .rendering import render_page
from .saving import SaveOutcome, changed_topics, describe_change, merge_change, save_changes
from .snapshot import SnapshotExpired, SnapshotInvalid, dump_snapshot, load_snapshot

bp = Blueprint("preferences", __name__)
links_bp = Blueprint("links", __name__)

UNDO_SALT = "prefcenter.undo-unsubscribe-all"
RESULT_SALT = "prefcenter.page.unsubscribe-all-result"
SIGNED_OUT_MESSAGE = lazy_gettext(
    "You are signed out, so nothing was saved. Reload the page to sign in again."
)
CONFLICT_MESSAGE = lazy_gettext(
    "“%(topic)s” was changed elsewhere after this page was opened, so it now shows what is"
    " saved. Make your change again if you still want it."
)
KEPT_MESSAGE = lazy_gettext(
    "This page was open for a long time, so nothing was saved yet. Your changes are shown on"
    " your preferences as they are now: check them and save again."
)
CHANNELS_REFUSED_MESSAGE = lazy_gettext(
    "Choosing channels is not available at the moment, so only on or off was saved."
)


@bp.get("/")
def page() -> str | tuple[str, int]:
    """Show the person's preferences, as Courier holds them now."""
    who = person()
    if who is None:
        return _signed_out()
    shown = _read_page(who)
    form = build_preferences_form(shown, _snapshot(shown, who))
    said = _said_after_save(who)
    if said is None:
        return _render_page(shown, form)
    return _render_page(
        shown,
        form,
        saved=said.get("s", []),
        nothing=bool(said.get("n")),
        notices={str(n): str(n) for n in said.get("c", [])},
        save_event=said.get("e"),
    )


def _said_after_save(who: Person) -> dict[str, Any] | None:
    """What an embedded save said, carried signed in the address it redirected to."""
    value = request.args.get("said")
    if not value or not is_embedded():
        return None
    try:
        said = _result_serializer().loads(value, max_age=current_app.config["UNDO_MAX_AGE"])
    except BadData:
        return None  # too old, or not ours: the page alone, as Courier holds it
    if not isinstance(said, dict) or said.get("w") != _who_digest(who):
        return None
    return said


@bp.post("/")
def save() -> Response | str | tuple[str | Response, int]:
    """Write the topics the person changed, then show the page again (autosave: JSON)."""
    who = person()
    if who is None:
        if wants_json():
            return json_refusal(SIGNED_OUT_MESSAGE, 401, reload=True)
        return _signed_out()
    sections = services().catalog.sections()
    rendered = request.form.get("rendered", "")
    try:
        shown = load_snapshot(
            sections,
            rendered,
            who,
            *_snapshot_keys(),
            max_age=current_app.config["FORM_RECORD_MAX_AGE"],
            other_heading=_other_heading(),
        )
    except SnapshotExpired as expired:
        if wants_json():
            return json_refusal(STALE_MESSAGE, 400, reload=True)
        return _choices_kept(who, expired.page)
    except SnapshotInvalid:
        if wants_json():
            return json_refusal(STALE_MESSAGE, 400, reload=True)
        return render_template("errors/stale_form.html"), 400
    # The names the page showed, in its language: what the save's messages speak of.
    shown = localized(shown, sections)
    # Autosave posts only the topics it changed, naming them in `only`; the rest are as shown.
    only = set(request.form.getlist("only")) if wants_json() else set()
    form = build_preferences_form(_only(shown, only) if only else shown, rendered, submitted=True)
    # A topic's problem stays with that topic: the valid changes beside it are still saved.
    refused = set() if form.validate() else _refused_topics(form)
    errors = form.error_summary()
    if form.rendered.errors or (errors and not refused):
        if wants_json():
            return jsonify({"errors": [{"field": f, "message": m} for f, m in errors]}), 400
        return _render_page(shown, form), 400

    shown_topics = topics_of(shown)
    chosen = {t: c for t, c in form.choices().items() if t not in refused}
    changes = changed_topics(shown_topics, chosen)
    via = Via.EMBEDDED_PAGE if is_embedded() else Via.MANAGE_PAGE
    outcome = _save(via, who, shown_topics, changes)
    described = _described(shown_topics, outcome)
    saved = list(described.values())
    conflicts = {t: str(CONFLICT_MESSAGE % {"topic": s.name}) for t, s in outcome.conflicts.items()}
    # Topics that were saved are the new baseline, so a retry writes only what failed. A
    # topic changed elsewhere keeps its old baseline: a later save of the same form then
    # meets the same change and again leaves it alone.
    now_shown = _with_topics(shown, outcome.saved)
    if wants_json():
        return _json_outcome(
            now_shown, who, described, outcome, conflicts, nothing=not changes, errors=errors
        )
    if errors:
        # The refused topics keep the person's values and their errors; the rest is saved.
        form.rendered.data = _snapshot(now_shown, who)
        failed = [state.name for state in outcome.failed.values()]
        return _render_page(
            now_shown, form, saved=saved, failed=failed, outcome=outcome, notices=conflicts
        ), 400
    if outcome.failed:
        form.rendered.data = _snapshot(now_shown, who)
        failed = [state.name for state in outcome.failed.values()]
        return _render_page(
            now_shown, form, saved=saved, failed=failed, outcome=outcome, notices=conflicts
        ), 502
    if is_embedded():
        # A framed page has no cookies for flash messages: what to say travels signed in
        # the address of the page it redirects to, so a reload posts nothing again.
        said = {
            "w": _who_digest(who),
            "s": saved,
            "c": list(conflicts.values()),
            "n": not changes,
            "e": _save_event(outcome),
        }
        return redirect(url_for(".page", said=_result_serializer().dumps(said)), 303)
    for message in saved:
        flash(message, "saved")
    for message in conflicts.values():
        flash(message, "info")
    if not changes:
        flash(gettext("Nothing to save: your preferences were already like this."), "info")
    return redirect(url_for(".page"))


@bp.get("/unsubscribe-all")
def confirm_unsubscribe_all() -> str | tuple[str, int]:
    """Ask before turning everything off, saying what goes off and what stays on."""
    who = person()
    if who is None:
        return _signed_out()
    topics = topics_of(_read_page(who))
    return render_template(
        "preferences/unsubscribe_all_confirm.html",
        turning_off=[t for t in topics.values() if not t.required and t.opted_in],
        still_receiving=[t for t in topics.values() if t.required],
    )


@bp.post("/unsubscribe-all")
def unsubscribe_all() -> Response | tuple[str, int]:
    """Opt the person out of every topic they may leave, then show the result (PRG)."""
    who = person()
    if who is None:
        return _signed_out()
    shown = _read_page(who)
    topics = topics_of(shown)
    changes = {
        topic_id: replace(topic, opted_in=False)
        for topic_id, topic in topics.items()
        if not topic.required and topic.opted_in
    }
    outcome = _save(Via.UNSUBSCRIBE_ALL, who, topics, changes)
    return _to_result(who, "off", outcome)


@bp.get("/unsubscribe-all/done/<result>")
def unsubscribe_all_result(result: str) -> str | tuple[str, int]:
    """What "unsubscribe from everything" (or its Undo) did, safe to reload.

    The result travels signed in the address rather than in the session: a framed page has
    no cookies, and a reload (or another language) must still offer Undo. It names the
    person only by a digest.
    """
    who = person()
    if who is None:
        return _signed_out()
    try:
        data = _result_serializer().loads(result, max_age=current_app.config["UNDO_MAX_AGE"])
    except BadData:
        return render_template("errors/stale_form.html"), 400
    if not isinstance(data, dict) or data.get("w") != _who_digest(who):
        return render_template("errors/stale_form.html"), 400
    topics = topics_of(_read_page(who))
    done = [t for t in topics.values() if t.topic_id in data.get("t", [])]  # page order
    failed = [t for t in topics.values() if t.topic_id in data.get("f", [])]
    status = 502 if failed else 200
    # An embedding host hears what changed, as after any save (each topic as Courier now
    # holds it); a reload tells it again, which changes nothing for it.
    event = _save_event(
        SaveOutcome(saved={t.topic_id: t for t in done}, failed={t.topic_id: t for t in failed})
    )
    if data.get("k") == "on":
        return render_template(
            "preferences/unsubscribe_all_undone.html",
            turned_on=done,
            failed=failed,
            save_event=event,
        ), status
    undo = _undo_serializer().dumps(
        {"u": who.user_id, "n": who.tenant_id or "", "t": [t.topic_id for t in done]}
    )
    return render_template(
        "preferences/unsubscribed_all.html",
        turned_off=done,
        failed=failed,
        still_receiving=[t for t in topics.values() if t.required],
        undo=undo if done else None,
        save_event=event,
    ), status


@bp.post("/unsubscribe-all/undo")
def undo_unsubscribe_all() -> Response | str | tuple[str, int]:
    """Turn back on the topics an "unsubscribe from everything" turned off (PRG)."""
    who = person()
    if who is None:
        return _signed_out()
    try:
        data = _undo_serializer().loads(
            request.form.get("undo", ""), max_age=current_app.config["UNDO_MAX_AGE"]
        )
    except BadData:  # also when too old: Undo is offered for a while, not for ever
        return render_template("errors/stale_form.html"), 400
    if (
        not isinstance(data, dict)
        or data.get("u") != who.user_id
        or data.get("n", "") != (who.tenant_id or "")
    ):
        return render_template("errors/stale_form.html"), 400
    shown = _read_page(who)
    topics = topics_of(shown)
    changes = {
        topic_id: replace(topics[topic_id], opted_in=True)
        for topic_id in data.get("t", [])
        if topic_id in topics and not topics[topic_id].opted_in
    }
    outcome = _save(Via.UNSUBSCRIBE_ALL_UNDO, who, topics, changes)
    return _to_result(who, "on", outcome)


def _to_result(who: Person, kind: str, outcome: SaveOutcome) -> Response:
    """Redirect to the result page of unsubscribe-all ("off") or its Undo ("on")."""
    result = _result_serializer().dumps(
        {"w": _who_digest(who), "k": kind, "t": sorted(outcome.saved), "f": sorted(outcome.failed)}
    )
    return redirect(url_for(".unsubscribe_all_result", result=result), 303)


def _who_digest(who: Person) -> str:
    """Name the person in a signed value that sits in an address, without their id."""
    return hashlib.sha256(f"{who.user_id}\0{who.tenant_id or ''}".encode()).hexdigest()[:32]


@links_bp.get("/l/<token>")
@token_authenticated
def open_link(token: str) -> Response | tuple[str, int]:
    """Sign in the person a manage link names, then drop the token from the address bar.

    If someone else is signed in on this browser, ask first rather than replace them.
    """
    try:
        claims = services().links.load(token, Purpose.MANAGE)
    except LinkExpired as expired:
        use_link_locale(expired.locale)
        return expired_page(token, Purpose.MANAGE)
    except LinkInvalid:
        return render_template("links/invalid.html"), 404
    signed_in = current_person()
    if signed_in is not None and signed_in.user_id != claims.user_id:
        return someone_else_page(signed_in, claims), 200
    sign_in(claims)
    return redirect(url_for("preferences.page"))


@links_bp.post("/l/<token>")
def continue_link(token: str) -> Response | tuple[str, int]:
    """Sign in as the person a manage link names, confirmed on the page (session CSRF)."""
    try:
        claims = services().links.load(token, Purpose.MANAGE)
    except LinkExpired as expired:
        use_link_locale(expired.locale)
        return expired_page(token, Purpose.MANAGE)
    except LinkInvalid:
        return render_template("links/invalid.html"), 404
    sign_in(claims)
    return redirect(url_for("preferences.page"), 303)


@links_bp.post("/sign-out")
def sign_out_now() -> Response:
    """End the session (session CSRF), then say so."""
    sign_out()
    return redirect(url_for("links.signed_out"), 303)


@links_bp.get("/signed-out")
def signed_out() -> Response | tuple[str, int]:
    """The page after signing out."""
    if person() is not None:
        return redirect(url_for("preferences.page"))
    return _signed_out(just_signed_out=True)


def someone_else_page(signed_in: Person, claims: LinkClaims, *, confirm_field: bool = False) -> str:
    """Ask whether to replace the person signed in with the one a link names.

    The page's form has no action: it posts back to the address the link was opened at, so
    the token appears nowhere it did not already. `confirm_field` adds the marker a view
    needs when that address also answers the unconfirmed POST.
    """
    return render_template(
        "links/someone_else.html",
        current=masked(signed_in.user_id),
        other=masked(claims.user_id),
        confirm_field=confirm_field,
    )


def _save(
    via: Via, who: Person, shown: dict[str, TopicState], changes: dict[str, TopicState]
) -> SaveOutcome:
    svc = services()
    return save_changes(svc.courier, svc.consent, via, who, shown, changes)


def _read_page(who: Person) -> tuple[SectionState, ...]:
    """The page for this person: the cached catalog plus one read of their preferences.

    A tenant's defaults are cached like the catalog. Only when neither the list nor any
    default tells a topic's status (an overrides-only list, a catalog without
    `default_status`) is that topic read on its own, rather than guessed.
    """
    svc = services()
    sections = svc.catalog.sections()
    preferences = svc.courier.list_preferences(who.user_id, who.tenant_id)
    defaults = svc.tenant_defaults.defaults(who.tenant_id)
    for topic_id in topics_without_default(sections, preferences, defaults):
        preferences.append(_read_topic(who, topic_id))
    page = build_page(
        sections,
        [pref for pref in preferences if pref is not None],
        defaults,
        channel_choice=svc.courier.plan.offers_channel_choice(),
        other_heading=_other_heading(),
        shared=per_worker("prefcenter_default_states", DefaultStates),
    )
    return localized(page, sections)


def _read_topic(who: Person, topic_id: str) -> TopicPreference | None:
    try:
        return services().courier.get_preference(who.user_id, topic_id, who.tenant_id)
    except CourierNotFound:
        return None  # archived since the catalog was read: not on the page


def _choices_kept(who: Person, old_page: tuple[SectionState, ...]) -> tuple[str, int]:
    """A page open too long: nothing is saved, but the person's changes are not lost.

    The page shows what Courier holds now with their changes made on it, field by field as
    a save would make them, for them to check and save.
    """
    form = build_preferences_form(old_page, "", submitted=True)
    if not form.validate():
        return render_template("errors/stale_form.html"), 400
    shown = topics_of(old_page)
    fresh = _read_page(who)
    now = topics_of(fresh)
    proposed = {
        topic_id: merge_change(shown[topic_id], chosen, now[topic_id]).state
        for topic_id, chosen in changed_topics(shown, form.choices()).items()
        if topic_id in now
    }
    page = _with_topics(fresh, proposed)
    kept = build_preferences_form(page, _snapshot(fresh, who))
    return _render_page(page, kept, notices={"": str(KEPT_MESSAGE)}), 400


def _refused_topics(form) -> set[str]:
    """The topics with an error in any of their fields, after validate()."""
    refused = set()
    for topic in topics_of(form.page).values():
        fields = form.topic_fields(topic).form
        if fields.status.errors or fields.channels.errors or fields.digest.errors:
            refused.add(topic.topic_id)
    return refused


def _only(page: tuple[SectionState, ...], topic_ids: set[str]) -> tuple[SectionState, ...]:
    """The page with just these topics (sections left empty go)."""
    kept = (
        replace(section, topics=tuple(t for t in section.topics if t.topic_id in topic_ids))
        for section in page
    )
    return tuple(section for section in kept if section.topics)


def _other_heading() -> LazyString:
    """The heading of topics Courier holds for the person that belong to no section.

    Lazy: most pages have no such topic, and a quiet page's stencil translates nothing else.
    """
    return lazy_gettext("Other")


def _described(shown: dict[str, TopicState], outcome: SaveOutcome) -> dict[str, str]:
    """Say what the save did to each saved topic, and when the plan refused its channels."""
    described = {}
    for topic_id, state in outcome.saved.items():
        before = shown[topic_id]
        if topic_id in outcome.routing_dropped:
            # Only on/off was written: say that, not the channels Courier's reset implies.
            state = replace(
                state,
                has_custom_routing=before.has_custom_routing,
                custom_routing=before.custom_routing,
            )
        message = describe_change(before, state)
        if topic_id in outcome.channels_refused:
            message = f"{message} {CHANNELS_REFUSED_MESSAGE}"
        described[topic_id] = message
    return described


def _render_page(
    shown: tuple[SectionState, ...],
    form,
    *,
    saved: list[str] | None = None,
    failed: list[str] | None = None,
    outcome: SaveOutcome | None = None,
    nothing: bool = False,
    notices: dict[str, str] | None = None,
    save_event: dict[str, object] | None = None,
    **context: Any,
) -> str:
    # Every topic's row is made once and reused (page/rendering.py); the rest, per request.
    return render_page(
        "preferences/page.html",
        sections=services().catalog.sections(),
        secrets=_request_values(form, read_only=bool(context.get("read_only"))),
        form=form,
        page=shown,
        saved=saved or [],
        failed=failed or [],
        notices=list((notices or {}).values()),
        nothing_changed=nothing,
        save_event=_save_event(outcome) if outcome is not None else save_event,
        channels_withdrawn=_channel_choice_withdrawn(),
        **context,  # a read-only preview's additions
    )


def _request_values(form, *, read_only: bool) -> tuple[str, ...]:
    """What this render holds for this request alone: its signed record and CSRF value.

    A read-only preview carries no CSRF value, and must not make one (it would write the
    viewer's session).
    """
    record = getattr(form, "record", None) or getattr(form.rendered, "data", None) or ""
    return (record,) if read_only else (record, csrf_value())


def read_only_page(who: Person, **banner: Any) -> str:
    """The person's page as Courier holds it now, with nothing on it that saves.

    For a support preview: the same markup the person sees, every control disabled (the
    template's `read_only`), no form record to save with, and nothing that reads or writes the
    viewer's own session: no CSRF value, no flashed messages.
    """
    shown = _read_page(who)
    return _render_page(
        shown,
        build_preferences_form(shown, ""),
        read_only=True,
        csrf_field=lambda: "",
        get_flashed_messages=lambda **_: [],
        **banner,
    )


def _channel_choice_withdrawn() -> bool:
    """Whether the catalog offers channel choice that Courier's plan has refused."""
    svc = services()
    if svc.courier.plan.offers_channel_choice():
        return False
    return any(section.offers_channel_choice for section in svc.catalog.sections())


def _json_outcome(
    now_shown: tuple[SectionState, ...],
    who: Person,
    saved: dict[str, str],
    outcome: SaveOutcome,
    conflicts: dict[str, str],
    *,
    nothing: bool,
    errors: list[tuple[str, str]],
) -> tuple[Response, int]:
    """The autosave answer: what was saved, failed or refused, and the page's new snapshot."""
    body: dict[str, object] = {
        "errors": [{"field": f, "message": m} for f, m in errors],
        "saved": [{"topic_id": t, "message": m} for t, m in saved.items()],
        "failed": [{"topic_id": t, "name": s.name} for t, s in outcome.failed.items()],
        # Changed elsewhere meanwhile: the page should be reloaded to show what is saved.
        "conflicts": [{"topic_id": t, "message": m} for t, m in conflicts.items()],
        "rendered": _snapshot(now_shown, who),
        "nothing_changed": nothing,
        # An embedded page's token is renewed on every request: later posts use the new one.
        "action": url_for(".save"),
        "csrf_token": csrf_value(),
    }
    if is_embedded():
        body["event"] = _save_event(outcome)  # for embed.js to post to the host page
    return jsonify(body), 502 if outcome.failed else 400 if errors else 200


def _save_event(outcome: SaveOutcome) -> dict[str, object]:
    """The `prefcenter:saved` message an embedded page posts to its host."""

    def topic(state: TopicState) -> dict[str, object]:
        status = PreferenceStatus.OPTED_IN if state.opted_in else PreferenceStatus.OPTED_OUT
        if state.required:
            status = PreferenceStatus.REQUIRED
        return {
            "topic_id": state.topic_id,
            "status": status.value,
            "channels": [str(c) for c in state.channels],
        }

    return {
        "type": "prefcenter:saved",
        "saved": [topic(s) for s in outcome.saved.values()],
        "failed": [s.topic_id for s in outcome.failed.values()],
    }


def _signed_out(*, just_signed_out: bool = False) -> tuple[str, int]:
    demo_link = None
    if current_app.config["DEMO_MODE"]:
        from ..emulator.seed import DEMO_USER_ID

        claims = LinkClaims(DEMO_USER_ID, Purpose.MANAGE, locale=chosen_locale())
        demo_link = services().minter.url(claims)
    page = render_template(
        "preferences/signed_out.html", demo_link=demo_link, just_signed_out=just_signed_out
    )
    return page, 200 if just_signed_out else 401


def _snapshot_keys() -> tuple[str, list[str]]:
    return current_app.config["SECRET_KEY"], current_app.config["SECRET_KEY_FALLBACKS"]


def _snapshot(shown: tuple[SectionState, ...], who: Person) -> str:
    return dump_snapshot(shown, who, *_snapshot_keys())


def _result_serializer() -> URLSafeTimedSerializer:
    secret, fallbacks = _snapshot_keys()
    return URLSafeTimedSerializer([*reversed(fallbacks), secret], salt=RESULT_SALT)


def _undo_serializer() -> URLSafeTimedSerializer:
    secret, fallbacks = _snapshot_keys()
    return URLSafeTimedSerializer([*reversed(fallbacks), secret], salt=UNDO_SALT)


def _with_topics(
    page: tuple[SectionState, ...], topics: dict[str, TopicState]
) -> tuple[SectionState, ...]:
    """Return the page with some topics replaced by new states."""
    return tuple(
        replace(section, topics=tuple(topics.get(t.topic_id, t) for t in section.topics))
        for section in page
    )
