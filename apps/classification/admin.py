from django.contrib import admin, messages

from apps.accounts.admin_base import TenantAdmin

from . import services
from .models import ClassificationSettings, ClassifierVersion, TrainingExample
from .tasks import train_classifier_task


@admin.register(ClassificationSettings)
class ClassificationSettingsAdmin(TenantAdmin):
    list_display = ["organization", "intent_labels", "min_examples_to_train", "retrain_automatically"]


@admin.register(TrainingExample)
class TrainingExampleAdmin(TenantAdmin):
    list_display = ["text", "task", "label", "brand", "language", "source", "created_by", "created_at"]
    list_filter = ["task", "source", "language"]
    search_fields = ["text", "label"]
    raw_id_fields = ["message"]
    actions = ["retrain"]

    @admin.action(description="Train a new version for the scopes of the selected examples")
    def retrain(self, request, queryset):
        scopes = set(queryset.values_list("organization", "brand", "task"))
        for example in {
            (o, b, t): queryset.filter(organization=o, brand=b, task=t).first() for o, b, t in scopes
        }.values():
            version = services.classifier_version_start(
                organization=example.organization, brand=example.brand, task=example.task, user=request.user
            )
            train_classifier_task.delay(version.pk)
        self.message_user(
            request, f"Training {len(scopes)} model(s); progress on Organisation → Classifiers."
        )


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(TenantAdmin):
    list_display = [
        "__str__",
        "brand",
        "task",
        "version",
        "status",
        "is_active",
        "progress",
        "examples_count",
        "created_at",
    ]
    list_filter = ["task", "status", "is_active"]
    exclude = ["artifact"]
    readonly_fields = [
        "brand", "task", "version", "status", "is_active", "feature_spec", "labels", "examples_count",
        "metrics", "progress", "error", "created_by", "created_at", "finished_at",
    ]  # fmt: skip
    actions = ["activate"]

    def has_add_permission(self, request):
        return False  # versions come from training

    @admin.action(description="Use this version (roll back or forward)")
    def activate(self, request, queryset):
        for version in queryset:
            try:
                services.classifier_activate(version=version, user=request.user)
            except ValueError as error:
                self.message_user(request, str(error), level=messages.ERROR)
