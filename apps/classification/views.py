from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.models import Brand
from apps.accounts.permissions import admin_required, current_membership
from apps.accounts.tenancy import get_visible_or_404

from . import services
from .models import ClassifierVersion, Task
from .selectors import classifier_scopes, recent_corrections
from .tasks import train_classifier_task


@admin_required
def classifiers(request):
    membership = current_membership(request)
    return render(
        request,
        "classification/classifiers.html",
        {
            "section": "org",
            "scopes": classifier_scopes(membership=membership),
            "settings": services.classification_settings(membership.organization_id),
            "corrections": recent_corrections(membership=membership),
        },
    )


def _scope(request, membership):
    brand_id = request.POST.get("brand") or None
    brand = get_visible_or_404(Brand, membership, pk=brand_id) if brand_id else None
    task = request.POST.get("task")
    if task not in Task.values:
        task = None
    return brand, task


@admin_required
@require_POST
def train(request):
    membership = current_membership(request)
    brand, task = _scope(request, membership)
    if task is None:
        flash.error(request, "Choose what to train.")
        return redirect("classification:classifiers")
    version = services.classifier_version_start(
        organization=membership.organization, brand=brand, task=task, user=request.user
    )
    train_classifier_task.delay(version.pk)
    if request.htmx:
        return render(request, "classification/classifiers.html#version-progress", {"version": version})
    flash.success(request, f"Training {version}.")
    return redirect("classification:classifiers")


@admin_required
def version_progress(request, pk: int):
    version = get_visible_or_404(
        ClassifierVersion.objects.defer("artifact"), current_membership(request), pk=pk
    )
    return render(request, "classification/classifiers.html#version-progress", {"version": version})


@admin_required
@require_POST
def activate(request, pk: int):
    version = get_visible_or_404(
        ClassifierVersion.objects.defer("artifact"), current_membership(request), pk=pk
    )
    try:
        services.classifier_activate(version=version, user=request.user)
        flash.success(request, f"{version} is now in use.")
    except ValueError as error:
        flash.error(request, str(error))
    return redirect("classification:classifiers")


@admin_required
@require_POST
def deactivate(request):
    membership = current_membership(request)
    brand, task = _scope(request, membership)
    if task is not None:
        services.classifier_deactivate(
            organization=membership.organization, brand=brand, task=task, user=request.user
        )
        flash.success(request, "Back to the model below this one.")
    return redirect("classification:classifiers")


@admin_required
@require_POST
def update_settings(request):
    membership = current_membership(request)
    try:
        services.classification_settings_update(
            organization_id=membership.organization_id,
            intent_labels=request.POST.get("intent_labels", ""),
            min_examples_to_train=request.POST.get("min_examples_to_train", ""),
            retrain_automatically=request.POST.get("retrain_automatically") == "on",
            user=request.user,
        )
        flash.success(request, "Classification settings saved.")
    except ValueError as error:
        flash.error(request, str(error))
    return redirect("classification:classifiers")
