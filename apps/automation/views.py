"""Automation's pages: the rules (with their preview and runs), the acknowledgements and the satisfaction
survey per brand (admins); the satisfaction dashboard (dashboard roles); the survey's public page."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.models import Brand
from apps.accounts.permissions import admin_required, current_membership, dashboards_required
from apps.accounts.tenancy import get_visible_or_404, scoped

from . import selectors, services
from .models import AutoReply, Rule, Survey, SurveySettings, Trigger
from .registry import ACTIONS, CONDITIONS, OP_WORDS, RuleInvalid

#: Empty rows the rule form offers beyond the rule's own conditions and actions.
SPARE_ROWS = 2


def _rows(post, prefix: str, names: tuple[str, ...]) -> list[dict]:
    """The form's numbered rows (`cond-0-field`, `cond-0-op`…) as dicts, in order."""
    rows = []
    index = 0
    while f"{prefix}-{index}-{names[0]}" in post:
        rows.append({name: post.get(f"{prefix}-{index}-{name}", "").strip() for name in names})
        index += 1
    return rows


def _brands(membership):
    return scoped(Brand, membership).order_by("name")


def _rule_form(request, rule: Rule, *, error: str = "", status: int = 200, preview=None):
    membership = current_membership(request)
    # Lists show as the comma-separated text they are typed as.
    conditions = [
        {**c, "value": ", ".join(c["value"]) if isinstance(c.get("value"), list) else c.get("value", "")}
        for c in rule.conditions or []
        if isinstance(c, dict)
    ]
    actions = list(rule.actions or [])
    return render(
        request,
        "automation/rule_form.html",
        {
            "section": "org",
            "rule": rule,
            "error": error,
            "brands": _brands(membership),
            "triggers": Trigger.choices,
            "conditions": conditions + [{}] * SPARE_ROWS,
            "actions": actions + [{}] * SPARE_ROWS,
            "condition_choices": CONDITIONS.values(),
            "operator_choices": OP_WORDS.items(),
            "action_choices": ACTIONS.values(),
            "preview": preview,
            "runs": selectors.rule_runs(rule=rule) if rule.pk else [],
        },
        status=status,
    )


@admin_required
def rule_list(request):
    membership = current_membership(request)
    return render(
        request,
        "automation/rule_list.html",
        {
            "section": "org",
            "rules": selectors.rule_list(membership=membership),
            "auto_replies": selectors.auto_reply_list(membership=membership),
            "survey_settings": selectors.survey_settings_list(membership=membership),
            "brands": _brands(membership),
        },
    )


def _save_rule(request, rule: Rule):
    post = request.POST
    membership = current_membership(request)
    brand_id = post.get("brand") or None
    rule.brand = get_visible_or_404(Brand, membership, pk=brand_id) if brand_id else None
    rule.name = post.get("name", "").strip()[:200]
    rule.trigger = post.get("trigger", "")
    rule.stop_processing = post.get("stop_processing") == "on"
    rule.active = post.get("active") == "on"
    try:
        rule.position = int(post.get("position") or 100)
        rule.wait_minutes = int(post.get("wait_minutes") or 60)
    except ValueError:
        return _rule_form(request, rule, error="Position and waiting time are whole numbers.", status=400)
    rule.conditions = [r for r in _rows(post, "cond", ("field", "op", "key", "value")) if r["field"]]
    rule.actions = [r for r in _rows(post, "act", ("type", "value")) if r["type"]]
    try:
        services.rule_save(rule=rule, actor=request.user, membership=membership)
    except RuleInvalid as error:
        return _rule_form(request, rule, error=str(error), status=400)
    flash.success(request, f"Rule “{rule.name}” saved.")
    return redirect("automation:rule_edit", pk=rule.pk)


@admin_required
def rule_new(request):
    rule = Rule(organization=current_membership(request).organization)
    if request.method != "POST":
        return _rule_form(request, rule)
    return _save_rule(request, rule)


@admin_required
def rule_edit(request, pk: int):
    rule = get_visible_or_404(Rule, current_membership(request), pk=pk)
    if request.method != "POST":
        return _rule_form(request, rule)
    return _save_rule(request, rule)


@admin_required
def rule_preview(request, pk: int):
    membership = current_membership(request)
    rule = get_visible_or_404(Rule, membership, pk=pk)
    preview = selectors.rule_preview(rule=rule, membership=membership)
    if request.htmx:
        return render(request, "automation/rule_form.html#preview", {"rule": rule, "preview": preview})
    return _rule_form(request, rule, preview=preview)


@admin_required
@require_POST
def rule_delete(request, pk: int):
    rule = get_visible_or_404(Rule, current_membership(request), pk=pk)
    services.rule_delete(rule=rule, actor=request.user)
    flash.success(request, f"Rule “{rule.name}” deleted.")
    return redirect("automation:rules")


def _texts(post, prefix: str) -> dict[str, str]:
    """Texts by language from rows `<prefix>-N-language` / `<prefix>-N-text`."""
    return {
        row["language"].lower(): row["text"]
        for row in _rows(post, prefix, ("language", "text"))
        if row["language"] and row["text"]
    }


@admin_required
def auto_reply_edit(request, pk: int | None = None):
    membership = current_membership(request)
    auto_reply = (
        get_visible_or_404(AutoReply, membership, pk=pk)
        if pk
        else AutoReply(organization=membership.organization)
    )
    error, status = "", 200
    if request.method == "POST":
        if pk is None:
            auto_reply.brand = get_visible_or_404(Brand, membership, pk=request.POST.get("brand") or 0)
            auto_reply.kind = request.POST.get("kind", "")
        auto_reply.texts = _texts(request.POST, "text")
        auto_reply.default_language = request.POST.get("default_language", "en").strip().lower() or "en"
        auto_reply.active = request.POST.get("active") == "on"
        try:
            auto_reply.window_hours = int(request.POST.get("window_hours") or 24)
            services.auto_reply_save(auto_reply=auto_reply, actor=request.user, membership=membership)
        except (RuleInvalid, ValueError) as failure:
            error, status = str(failure), 400
        else:
            flash.success(request, "Acknowledgement saved.")
            return redirect("automation:auto_reply_edit", pk=auto_reply.pk)
    return render(
        request,
        "automation/auto_reply_form.html",
        {
            "section": "org",
            "auto_reply": auto_reply,
            "brands": _brands(membership),
            "kinds": AutoReply.Kind.choices,
            "texts": list((auto_reply.texts or {}).items()) + [("", "")] * SPARE_ROWS,
            "error": error,
        },
        status=status,
    )


@admin_required
def survey_settings_edit(request, brand_id: int):
    membership = current_membership(request)
    brand = get_visible_or_404(Brand, membership, pk=brand_id)
    config = SurveySettings.objects.filter(brand=brand).first() or SurveySettings(
        organization=membership.organization, brand=brand
    )
    error, status = "", 200
    if request.method == "POST":
        config.questions = _texts(request.POST, "question")
        config.thanks = _texts(request.POST, "thanks")
        config.comment_prompts = _texts(request.POST, "comment")
        config.default_language = request.POST.get("default_language", "en").strip().lower() or "en"
        config.active = request.POST.get("active") == "on"
        try:
            services.survey_settings_save(survey_settings=config, actor=request.user, membership=membership)
        except RuleInvalid as failure:
            error, status = str(failure), 400
        else:
            flash.success(request, "Survey saved.")
            return redirect("automation:survey_settings", brand_id=brand.pk)
    return render(
        request,
        "automation/survey_settings_form.html",
        {
            "section": "org",
            "brand": brand,
            "config": config,
            "questions": list((config.questions or {}).items()) + [("", "")] * SPARE_ROWS,
            "thanks": list((config.thanks or {}).items()) + [("", "")] * SPARE_ROWS,
            "comments": list((config.comment_prompts or {}).items()) + [("", "")] * SPARE_ROWS,
            "error": error,
        },
        status=status,
    )


@dashboards_required
def satisfaction(request):
    membership = current_membership(request)
    try:
        days = max(1, min(365, int(request.GET.get("days") or 30)))
        brand_id = int(request.GET.get("brand") or 0) or None
    except ValueError:
        days, brand_id = 30, None
    return render(
        request,
        "automation/satisfaction.html",
        {
            "section": "dashboards",
            "stats": selectors.survey_stats(membership=membership, days=days, brand_id=brand_id),
            "charts": selectors.survey_charts(membership=membership, days=days, brand_id=brand_id),
            "latest": selectors.survey_latest_answers(membership=membership),
            "brands": _brands(membership),
            "brand_id": brand_id,
            "days": days,
        },
    )


def survey_public(request, signed: str):
    """The survey's own page, reached by its signed link (no sign-in): a rating and an optional comment."""
    survey = services.survey_from_signed(signed)
    if survey is None:
        raise Http404("no such survey")
    done = False
    error = ""
    if request.method == "POST":
        try:
            rating = int(request.POST.get("rating") or 0)
            services.survey_answer(
                survey=survey, rating=rating, via=Survey.Via.LINK, comment=request.POST.get("comment", "")
            )
            done = True
        except (ValueError, RuleInvalid):
            error = "Choose a rating from 1 to 5."
        survey.refresh_from_db()
    return render(
        request,
        "automation/survey_public.html",
        {"survey": survey, "ratings": services.RATING_LABELS.items(), "done": done, "error": error},
        status=400 if error else 200,
    )
