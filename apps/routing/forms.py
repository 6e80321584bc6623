"""The settings page's forms: each one's choices come from the admin's own organisation."""

from django import forms

from apps.accounts.models import Brand, Team
from apps.accounts.tenancy import scoped

from .calendar import weekly_from_text, weekly_to_text
from .models import BusinessHours, Holiday, SLAPolicy


def _brand_field(form, membership) -> None:
    """The admin's own organisation and brands; a brand-limited admin must choose one of theirs (a setting
    of no brand is the organisation's: apps.routing.services.setting_reach_check)."""
    form.instance.organization = membership.organization
    form.fields["brand"].queryset = scoped(Brand, membership)
    if membership.limited_to_brands:
        form.fields["brand"].required = True
        form.fields["brand"].empty_label = None


class SLAPolicyForm(forms.ModelForm):
    class Meta:
        model = SLAPolicy
        fields = [
            "name",
            "brand",
            "channel_kind",
            "priority_level",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "business_hours",
            "warn_before_minutes",
            "escalate_notify",
            "escalate_reassign",
            "escalate_raise_priority",
        ]

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        _brand_field(self, membership)
        self.fields["business_hours"].queryset = scoped(BusinessHours, membership)


class BusinessHoursForm(forms.ModelForm):
    hours = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="One weekday a line: mon 09:00-12:00 13:00-17:00. A day not listed is closed.",
    )

    class Meta:
        model = BusinessHours
        fields = ["name", "brand", "team", "timezone"]

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        _brand_field(self, membership)
        self.fields["team"].queryset = scoped(Team, membership)
        if self.instance.pk:
            self.initial["hours"] = weekly_to_text(self.instance.weekly)

    def clean_hours(self):
        try:
            return weekly_from_text(self.cleaned_data["hours"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def save(self, commit=True):
        self.instance.weekly = self.cleaned_data["hours"]
        return super().save(commit=commit)


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
