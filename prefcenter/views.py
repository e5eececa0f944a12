"""The preferences page, its save, and the sign-in link."""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from .forms import PreferencesForm, build_preferences_form
from .identity import Person, current_person, sign_in
from .links import LinkClaims, LinkExpired, LinkInvalid, Purpose
from .preferences import SectionState, TopicState, build_page, topics_of
from .saving import changed_topics, describe_change, save_changes
from .services import services
from .snapshot import SnapshotInvalid, dump_snapshot, load_snapshot

bp = Blueprint("preferences", __name__)


@bp.get("/")
def page() -> str | tuple[str, int]:
    """Show the signed-in person's preferences, as Courier holds them now."""
    person = current_person()
    if person is None:
        return _signed_out()
    svc = services()
    sections = svc.catalog.sections()
    preferences = svc.courier.list_preferences(person.user_id, person.tenant_id)
    shown = build_page(sections, preferences)
    form = build_preferences_form(shown, _snapshot(shown, person))
    return render_template("preferences/page.html", form=form, page=shown)


@bp.post("/")
def save() -> Response | tuple[str, int]:
    """Write the topics the person changed, then show the page again (PRG)."""
    person = current_person()
    if person is None:
        return _signed_out()
    svc = services()
    sections = svc.catalog.sections()
    try:
        shown = load_snapshot(
            sections,
            request.form.get("rendered", ""),
            person.user_id,
            current_app.config["SECRET_KEY"],
            current_app.config["SECRET_KEY_FALLBACKS"],
        )
    except SnapshotInvalid:
        return render_template("errors/stale_form.html"), 400
    form = build_preferences_form(shown, request.form.get("rendered", ""))
    if not form.validate():
        return _page_with_errors(form, shown, status=400)

    shown_topics = topics_of(shown)
    changes = changed_topics(shown_topics, form.choices())
    outcome = save_changes(svc.courier, person.user_id, person.tenant_id, changes)
    if outcome.failed:
        # Keep every choice the person made on screen. Topics that were saved are now the
        # baseline, so trying again writes only the ones that failed.
        now_shown = _with_topics(shown, outcome.saved)
        form.page = now_shown
        form.rendered.data = _snapshot(now_shown, person)
        return render_template(
            "preferences/page.html",
            form=form,
            page=now_shown,
            saved=[describe_change(shown_topics[t], s) for t, s in outcome.saved.items()],
            failed=[state.name for state in outcome.failed.values()],
        ), 502
    for topic_id, state in outcome.saved.items():
        flash(describe_change(shown_topics[topic_id], state), "saved")
    if not changes:
        flash("Nothing to save: your preferences were already like this.", "info")
    return redirect(url_for(".page"))


@bp.get("/l/<token>")
def open_link(token: str) -> Response | tuple[str, int]:
    """Sign in the person a manage link names, then drop the token from the address bar."""
    try:
        claims = services().links.load(token, Purpose.MANAGE)
    except LinkExpired:
        return render_template("links/expired.html"), 410
    except LinkInvalid:
        return render_template("links/invalid.html"), 404
    sign_in(claims)
    return redirect(url_for(".page"))


def mint_link(claims: LinkClaims) -> str:
    """Return the full public URL of a link for `claims`."""
    token = services().links.make(claims)
    return f"{current_app.config['PUBLIC_BASE_URL']}/l/{token}"


def _signed_out() -> tuple[str, int]:
    demo_link = None
    if current_app.config["DEMO_MODE"]:
        from .emulator.seed import DEMO_USER_ID

        demo_link = mint_link(LinkClaims(user_id=DEMO_USER_ID, purpose=Purpose.MANAGE))
    return render_template("preferences/signed_out.html", demo_link=demo_link), 401


def _snapshot(shown: tuple[SectionState, ...], person: Person) -> str:
    return dump_snapshot(
        shown,
        person.user_id,
        current_app.config["SECRET_KEY"],
        current_app.config["SECRET_KEY_FALLBACKS"],
    )


def _page_with_errors(
    form: PreferencesForm, shown: tuple[SectionState, ...], *, status: int
) -> tuple[str, int]:
    return render_template("preferences/page.html", form=form, page=shown), status


def _with_topics(
    page: tuple[SectionState, ...], topics: dict[str, TopicState]
) -> tuple[SectionState, ...]:
    """Return the page with some topics replaced by new states."""
    return tuple(
        replace(section, topics=tuple(topics.get(t.topic_id, t) for t in section.topics))
        for section in page
    )
