from rest_framework import serializers

from apps.accounts.tenancy import scoped

from .permissions import api_membership


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of a row the caller may see (tenant and brands): any other id is "does not exist", whether or
    not it exists elsewhere."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(queryset=model._default_manager.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return scoped(self.model, api_membership(request) if request else None)
