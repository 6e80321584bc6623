import factory

from apps.replies.models import SavedReply
from tests.factories import OrganizationFactory


class SavedReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedReply

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Saved reply {n}")
    body = "Hello {first_name}, thank you for writing to {brand}. {agent}"
