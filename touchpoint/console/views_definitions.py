"""Campaigns and trial journeys: the list with live figures, a definition's page, the editor (check, save a
draft, preview, publish), pause and resume. Every change goes through touchpoint.console.definitions, which
validates before anything reaches a topic and delivers the audit record with the change."""

from __future__ import annotations

from typing import Any

import yaml
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from touchpoint.console import definitions as defs
from touchpoint.console import form as forms
from touchpoint.console.context import console, needs
from touchpoint.console.preview import PreviewError
from touchpoint.dashboards.report_results import interval_svg, render_results
from touchpoint.dashboards.results import axis, points

#: A definition's pages are /<kinds>/<key>[/action]; the pages of the collection are under /<kinds>/-/ (no id or
#: trial product is "-"), so that no key can shadow them.
blueprint = Blueprint("definitions", __name__)
blueprint.add_app_template_global(forms.rel, "rel")  # a field's path in the form (touchpoint/console/form.py)
#: how long a page waits for the followed topics' first read
FIRST_READ_S = 5.0


def _kind(kinds: str) -> defs.Kind:
    if kinds not in defs.KINDS:
        abort(404, description=f"no such page: /{kinds}")
    return defs.KINDS[kinds]


def _published(kind: defs.Kind) -> dict[str, dict]:
    return console().live[kind.name].rows(wait_s=FIRST_READ_S)


def _catalogue() -> set[str] | None:
    from touchpoint.clients.campaigns import catalogue

    return catalogue(console().settings)


# --- the list ---------------------------------------------------------------------------------------------------


def _entries(kind: defs.Kind) -> tuple[list[dict[str, Any]], Any]:
    """One entry per definition in force or drafted, with its figures, and the figures' problem if any."""
    c = console()
    published = _published(kind)
    drafts = defs.drafts(c.settings, kind)
    pauses = c.live["guardrail"].rows() if kind.name == "campaigns" else {}
    figures = c.figures.of(kind.name)
    treatment = {cid: next((a for a in arms if a["arm"] == "treatment"), None) for cid, arms in figures.results.items()}
    estimated = [r for r in treatment.values() if r and r["estimate"] == "yes"]
    half = axis(estimated) if estimated else 0.1
    out = []
    for key in sorted(published.keys() | drafts.keys()):
        d = published.get(key) or drafts[key]
        ident = str(d.get("id", key))
        row = {
            "key": key,
            "name": str(d.get("name", "")),
            "status": str(d.get("status", "active")) if key in published else "draft",
            "draft": key in drafts,
            "guardrail": (pauses.get(key) or {}).get("state") == "paused",
        }
        if kind.name == "campaigns":
            f = figures.funnel.get(ident) or {}
            arm = treatment.get(ident)
            row |= {
                "trigger": (d.get("trigger") or {}).get("kind", ""),
                "triggers": f.get("triggers"),
                "leads": f.get("leads"),
                "delivered": f.get("delivered"),
                "converted": f.get("converted"),
                "reasons": figures.reasons.get(ident, []),
                "uplift": _uplift(arm, half),
            }
        else:
            f = figures.journeys.get(ident) or {}
            row |= {k: f.get(k) for k in ("started", "nudged", "reminded", "converted", "running")}
        out.append(row)
    return out, figures


def _uplift(arm: dict | None, half: float) -> dict | None:
    if not arm or arm["estimate"] != "yes":
        return None
    return {
        "text": f"{points(arm['uplift'])} [{points(arm['ci_low'])}, {points(arm['ci_high'])}]",
        "svg": interval_svg(arm["ci_low"], arm["uplift"], arm["ci_high"], half),
    }


@blueprint.get("/<kinds>")
def listing(kinds: str):
    kind = _kind(kinds)
    entries, figures = _entries(kind)
    return render_template("list.html", kind=kind, entries=entries, figures=figures)


@blueprint.get("/<kinds>/-/live")
def live_table(kinds: str):
    """The list's table alone: what the open page fetches every ``console.refresh_seconds``."""
    kind = _kind(kinds)
    entries, figures = _entries(kind)
    return render_template("_definitions_table.html", kind=kind, entries=entries, figures=figures)


# --- one definition ------------------------------------------------------------------------------------------


def _as_yaml(d: dict) -> str:
    return yaml.safe_dump(d, sort_keys=False, allow_unicode=True, width=100)


@blueprint.get("/<kinds>/<key>")
def detail(kinds: str, key: str):
    kind = _kind(kinds)
    c = console()
    published = _published(kind).get(key)
    draft = defs.drafts(c.settings, kind).get(key)
    if published is None and draft is None:
        abort(404, description=f"no {kind.one} {key!r} on topic {getattr(c.settings.topics, kind.name)} or in drafts")
    d = published or draft
    ident = str(d.get("id", key))
    figures = c.figures.of(kind.name)
    history, history_problem = c.figures.audit(kind.name, key)
    pause = c.live["guardrail"].rows().get(key) if kind.name == "campaigns" else None
    return render_template(
        "detail.html",
        kind=kind,
        key=key,
        ident=ident,
        published=published,
        published_yaml=_as_yaml(published) if published else "",
        draft_yaml=_as_yaml(draft) if draft else "",
        figures=figures,
        funnel=figures.funnel.get(ident),
        reasons=figures.reasons.get(ident, []),
        results=render_results(figures.results.get(ident, []), []) if kind.name == "campaigns" else "",
        journey=figures.journeys.get(ident),
        pause=pause if pause and pause.get("state") == "paused" else None,
        history=history,
        history_problem=history_problem,
    )


# --- the editor ----------------------------------------------------------------------------------------------


def _editor(kind: defs.Kind, raw: dict[str, str], original: str, errors: list[tuple[str, str]], **extra):
    shown = forms.paths(kind.layout, raw)
    return render_template(
        "edit.html",
        kind=kind,
        layout=kind.layout,
        raw=raw,
        original=original,
        placed=forms.place(errors, shown),
        errors=errors,
        row_count=lambda rows: forms.row_count(rows, raw) + 1,
        **extra,
    )


@blueprint.get("/<kinds>/-/new")
@needs("marketer")
def new(kinds: str):
    kind = _kind(kinds)
    return _editor(kind, {"status": "active"} if kind.name == "campaigns" else {}, "", [])


@blueprint.get("/<kinds>/<key>/edit")
@needs("marketer")
def edit(kinds: str, key: str):
    kind = _kind(kinds)
    d = defs.drafts(console().settings, kind).get(key) or _published(kind).get(key)
    if d is None:
        abort(404, description=f"no {kind.one} {key!r}")
    return _editor(kind, forms.to_raw(kind.layout, d), key, [])


@blueprint.post("/<kinds>/-/editor")
@needs("marketer")
def editor(kinds: str):
    kind = _kind(kinds)
    c = console()
    action = request.form.get("action", "check")
    original = request.form.get("original", "")
    obj, raw, text_errors = forms.from_form(kind.layout, request.form)
    found = list(text_errors.items())
    found += [p for p in defs.problems(kind, obj, _catalogue()) if p[0] not in text_errors]
    if action == "save":
        try:
            key = defs.save_draft(c.settings, kind, obj)
        except defs.FieldError as e:
            return _editor(kind, raw, original, [(e.field, e.message), *found]), 422
        if original and original != key:  # saved under a new key: the draft was renamed
            defs.delete_draft(c.settings, kind, original)
        return _editor(kind, raw, key, found, notice=f"Draft {key} saved" + (" (not valid yet)." if found else "."))
    if found:
        return _editor(kind, raw, original, found), 422
    if action == "preview":
        return _editor(kind, raw, original, [], preview=_preview(kind, obj), notice="Valid.")
    if action == "publish":
        return _publish(kind, obj, raw, original)
    return _editor(kind, raw, original, [], notice=f"Valid: {kind.one} {defs.key_of(kind, obj)} can be published.")


def _preview(kind: defs.Kind, obj: dict) -> dict:
    """The preview, or why there is none."""
    from udfs.campaigns import CampaignError, parse_campaign

    if kind.name != "campaigns":
        return {"problem": "a preview is for campaigns: a journey's steps follow its trials, not triggers"}
    published = []
    for d in _published(kind).values():
        try:
            published.append(parse_campaign(d))
        except CampaignError:
            continue  # the decision job dead-letters it too
    try:
        return {"result": console().previewer.run(parse_campaign(obj), published)}
    except PreviewError as e:
        return {"problem": str(e)}


def _unread(kind: defs.Kind) -> str | None:
    """Why the definitions in force are not known for sure yet (a change is made against them), or None."""
    table = console().live[kind.name]
    table.rows(wait_s=FIRST_READ_S)
    if table.problem:
        return table.problem
    if not table.loaded:
        return f"topic {table.topic} is not read to its end yet: try again in a moment"
    return None


def _publish(kind: defs.Kind, obj: dict, raw: dict, original: str):
    c = console()
    key = defs.key_of(kind, obj)
    if why := _unread(kind):
        return _editor(kind, raw, original, [], delivery=f"Nothing was published: {why}."), 503
    before = _published(kind).get(key)
    if before is not None and key != original:  # a new definition, or one renamed, onto one in force
        taken = f"{kind.one} {key!r} is already in force: open it and edit it instead"
        return _editor(kind, raw, original, [(kind.key_field, taken)]), 422
    try:
        defs.publish(c.settings, kind, obj, before, g.user, _catalogue())
    except defs.DeliveryFailed as e:
        return _editor(kind, raw, original, [], delivery=str(e)), 503
    except defs.FieldError as e:  # invalid after all (validated again on the way out)
        return _editor(kind, raw, original, [(e.field, e.message)]), 422
    c.live[kind.name].put(key, obj)
    defs.delete_draft(c.settings, kind, key)
    if original and original != key:
        defs.delete_draft(c.settings, kind, original)
    flash(f"Published {kind.one} {key} to topic {getattr(c.settings.topics, kind.name)}.")
    return redirect(url_for("definitions.detail", kinds=kind.name, key=key))


@blueprint.post("/<kinds>/<key>/delete-draft")
@needs("marketer")
def delete_draft(kinds: str, key: str):
    kind = _kind(kinds)
    defs.delete_draft(console().settings, kind, key)
    flash(f"Draft {key} deleted.")
    return redirect(url_for("definitions.listing", kinds=kind.name))


# --- pause and resume ------------------------------------------------------------------------------------------


@blueprint.post("/<kinds>/<key>/<any(pause, resume):action>")
@needs("marketer")
def set_status(kinds: str, key: str, action: str):
    """Publish the definition in force again with status paused or active (the decision job suppresses a paused
    campaign's triggers as campaign_inactive; a paused journey starts no trial)."""
    kind = _kind(kinds)
    c = console()
    if why := _unread(kind):
        flash(f"Not {action}d: {why}.", "error")
        return redirect(url_for("definitions.detail", kinds=kind.name, key=key))
    before = _published(kind).get(key)
    if before is None:
        abort(404, description=f"no {kind.one} {key!r} in force to {action}")
    after = defs.with_status(before, "paused" if action == "pause" else "active")
    note = request.form.get("note", "").strip()
    try:
        defs.publish(c.settings, kind, after, before, g.user, None, action=action, note=note)
    except defs.ChangeError as e:
        flash(f"Not {action}d: {e}", "error")
        return redirect(url_for("definitions.detail", kinds=kind.name, key=key))
    c.live[kind.name].put(key, after)
    flash(f"{kind.one.capitalize()} {key} {action}d.")
    return redirect(url_for("definitions.detail", kinds=kind.name, key=key))


@blueprint.post("/campaigns/<key>/resume-guardrail")
@needs("marketer")
def resume_guardrail(key: str):
    c = console()
    pause = c.live["guardrail"].rows().get(key)
    if not pause or pause.get("state") != "paused":
        abort(404, description=f"the guardrail has not paused {key!r}")
    try:
        resumed = defs.resume_guardrail(c.settings, key, pause, g.user, request.form.get("note", "").strip())
    except defs.ChangeError as e:
        flash(f"Not resumed: {e}", "error")
        return redirect(url_for("definitions.detail", kinds="campaigns", key=key))
    c.live["guardrail"].put(key, resumed)
    flash(f"Campaign {key} resumed: the guardrail's pause is lifted.")
    return redirect(url_for("definitions.detail", kinds="campaigns", key=key))
