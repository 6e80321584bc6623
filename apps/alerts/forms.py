from django import forms
from django.contrib.postgres.forms import SimpleArrayField

from apps.accounts.models import Brand, Role, User

from .models import AlertRule


class AlertRuleForm(forms.ModelForm):
    email_recipients = SimpleArrayField(
        forms.EmailField(), required=False, help_text="Addresses separated by commas.", delimiter=","
    )

    class Meta:
        model = AlertRule
        fields = AlertRule.EDITABLE_FIELDS

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = Brand.objects.visible_to(membership)
        # In-app notifications are read on the notifications page, which inbox roles have.
        self.fields["notify_members"].queryset = User.objects.filter(
            memberships__organization_id=membership.organization_id,
            memberships__role__in=[Role.ADMIN, Role.COMMUNITY_MANAGER],
        ).order_by("username")
        self.fields["notify_members"].required = False
