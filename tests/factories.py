"""Test data. Users and memberships go through the same service the app uses (member_add)."""

import factory
from django.utils import timezone

from apps.accounts.models import Brand, Organization, Role, Team
from apps.accounts.services import member_add
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.customers.models import Customer, Identity

PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    keywords = factory.LazyAttribute(lambda o: [o.name])
    competitors = ["Rival Co"]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


_user_counter = iter(range(10**9))


def membership_create(organization, role=Role.COMMUNITY_MANAGER, brands=(), username=None):
    return member_add(
        organization=organization,
        username=username or f"user{next(_user_counter)}",
        role=role,
        password=PASSWORD,
        brands=list(brands),
    )


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    brand = factory.SubFactory(BrandFactory)
    organization = factory.SelfAttribute("brand.organization")
    kind = ChannelKind.EMAIL
    name = factory.Sequence(lambda n: f"Channel {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    display_name = factory.Sequence(lambda n: f"Customer {n}")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    kind = ChannelKind.X
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    handle = factory.Sequence(lambda n: f"@person{n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    channel = factory.SubFactory(ChannelFactory)
    brand = factory.SelfAttribute("channel.brand")
    organization = factory.SelfAttribute("channel.organization")
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    subject = factory.Sequence(lambda n: f"Conversation {n}")
    last_message_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    organization = factory.SelfAttribute("conversation.organization")
    channel = factory.SelfAttribute("conversation.channel")
    direction = Message.Direction.INBOUND
    text = factory.Sequence(lambda n: f"Message {n}")
    sent_at = factory.LazyFunction(timezone.now)
