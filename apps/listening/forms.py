from django import forms

from apps.accounts.models import Brand
from apps.accounts.tenancy import scoped

from .models import ListeningQuery


class ListeningQueryForm(forms.ModelForm):
    class Meta:
        model = ListeningQuery
        fields = ["brand", "name", "level", "query", "competitor", "is_active"]
        widgets = {"query": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})}

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.fields["brand"].queryset = scoped(Brand, membership)

    def save(self, commit=True):
        self.instance.organization_id = self.membership.organization_id
        return super().save(commit)
