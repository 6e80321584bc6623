"""Conversations and messages: the inbox's filters and the conversation page's actions, notes and replies,
through the same services as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.tenancy import get_visible_or_404
from apps.api import filters
from apps.api import serializers as s
from apps.classification.services import label_correct
from apps.conversations.models import Conversation, Message, Tag
from apps.conversations.selectors import conversation_last_change, conversation_thread, inbox_agents
from apps.conversations.services import (
    ConversationActionError,
    ConversationChanged,
    conversation_assign_to,
    conversation_snooze,
    conversation_untag,
    conversations_bulk_set_status,
    conversations_bulk_tag,
    note_add,
)
from apps.core.parsing import ascii_int
from apps.replies.selectors import reply_channels
from apps.replies.services import ReplyRefused, reply_send

from .base import NOT_FOUND, REFUSED, THREAD_LIMIT, TenantViewSet

CONFLICT = OpenApiResponse(
    s.ConflictSerializer,
    description="Someone changed the conversation since the version sent (`version` or If-Match): nothing "
    "was done. The answer says who, when, and the conversation as it is now; send its version to go ahead.",
)


def _latest(thread) -> list[Message]:
    """The latest THREAD_LIMIT messages of a thread (ordered oldest first), oldest first."""
    return list(thread.reverse()[:THREAD_LIMIT])[::-1]


@extend_schema_view(
    list=extend_schema(summary="Conversations, newest first, filtered by the query parameters"),
    retrieve=extend_schema(
        summary="One conversation", responses={200: s.ConversationSerializer, 404: NOT_FOUND}
    ),
)
class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Conversation
    serializer_class = s.ConversationSerializer
    filterset_class = filters.ConversationFilter

    def base_queryset(self):
        return Conversation.objects.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name")))

    def _done(self, conversation: Conversation) -> Response:
        current = self.get_queryset().get(pk=conversation.pk)
        return Response(s.ConversationSerializer(current).data, headers={"ETag": f'"{current.version}"'})

    def retrieve(self, request, *args, **kwargs):
        return self._done(self.get_object())

    def _seen(self, given) -> int | None:
        """The version the client saw: `version` in the body, else the If-Match header ("3" or W/"3")."""
        if given.validated_data.get("version") is not None:
            return given.validated_data["version"]
        header = self.request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
        return ascii_int(header) if header else None

    def _conflict(self, conversation: Conversation) -> Response:
        current = self.get_queryset().get(pk=conversation.pk)
        change = conversation_last_change(conversation=current)
        body = {
            "detail": "Someone changed this conversation since that version: nothing was done.",
            "change": f"{change.text} {change.ago}" if change else None,
            "changed_at": change.at if change else None,
            "conversation": s.ConversationSerializer(current).data,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)

    @extend_schema(
        summary="Assign to a member who works on the brand, or unassign (null)",
        request=s.AssignInput,
        responses={200: s.ConversationSerializer, 400: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        conversation = self.get_object()
        given = s.AssignInput(data=request.data)
        given.is_valid(raise_exception=True)
        assignee = None
        if given.validated_data["assignee"] is not None:
            agent = inbox_agents(membership=self.membership).filter(user_id=given.validated_data["assignee"])
            if not agent.exists():
                raise ValidationError({"assignee": "not a member of this organisation who works the inbox"})
            assignee = agent.get().user
        try:
            conversation_assign_to(
                conversation=conversation,
                assignee=assignee,
                actor=request.user,
                seen_version=self._seen(given),
            )
        except ConversationChanged:
            return self._conflict(conversation)
        except ConversationActionError as error:
            return self.refused(error)
        return self._done(conversation)

    @extend_schema(
        summary="Change the status (open, pending, snoozed with snoozed_until, closed)",
        request=s.StatusInput,
        responses={200: s.ConversationSerializer, 400: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        conversation = self.get_object()
        given = s.StatusInput(data=request.data)
        given.is_valid(raise_exception=True)
        wanted = given.validated_data["status"]
        seen = self._seen(given)
        try:
            if wanted == Conversation.Status.SNOOZED:
                conversation_snooze(
                    conversation=conversation,
                    until=given.validated_data["snoozed_until"],
                    actor=request.user,
                    seen_version=seen,
                )
            else:
                conversations_bulk_set_status(
                    conversations=[conversation],
                    status=wanted,
                    actor=request.user,
                    seen=None if seen is None else {conversation.pk: seen},
                )
        except ConversationChanged:
            return self._conflict(conversation)
        except (ConversationActionError, DjangoValidationError) as error:
            return self.refused(error)
        return self._done(conversation)

    @extend_schema(
        summary="Close the conversation (If-Match: the version seen)",
        request=None,
        responses={200: s.ConversationSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        conversation = self.get_object()
        given = s.SeenInput(data={})
        given.is_valid(raise_exception=True)
        seen = self._seen(given)
        try:
            conversations_bulk_set_status(
                conversations=[conversation],
                status=Conversation.Status.CLOSED,
                actor=request.user,
                seen=None if seen is None else {conversation.pk: seen},
            )
        except ConversationChanged:
            return self._conflict(conversation)
        return self._done(conversation)

    @extend_schema(
        summary="Put aside until a moment in the future; it reopens then",
        request=s.SnoozeInput,
        responses={200: s.ConversationSerializer, 400: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        conversation = self.get_object()
        given = s.SnoozeInput(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            conversation_snooze(
                conversation=conversation,
                until=given.validated_data["until"],
                actor=request.user,
                seen_version=self._seen(given),
            )
        except ConversationChanged:
            return self._conflict(conversation)
        except (ConversationActionError, DjangoValidationError) as error:
            return self.refused(error)
        return self._done(conversation)

    @extend_schema(
        summary="Tag the conversation (the organisation's tag of that name, made if new)",
        request=s.TagInput,
        responses={200: s.ConversationSerializer, 400: REFUSED, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def tag(self, request, pk=None):
        conversation = self.get_object()
        given = s.TagInput(data=request.data)
        given.is_valid(raise_exception=True)
        seen = self._seen(given)
        try:
            conversations_bulk_tag(
                conversations=[conversation],
                name=given.validated_data["name"],
                actor=request.user,
                seen=None if seen is None else {conversation.pk: seen},
            )
        except ConversationChanged:
            return self._conflict(conversation)
        except ConversationActionError as error:
            return self.refused(error)
        return self._done(conversation)

    @extend_schema(
        summary="Take a tag off the conversation",
        request=s.TagInput,
        responses={200: s.ConversationSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def untag(self, request, pk=None):
        conversation = self.get_object()
        given = s.TagInput(data=request.data)
        given.is_valid(raise_exception=True)
        tag = get_visible_or_404(conversation.tags.all(), self.membership, name=given.validated_data["name"])
        try:
            conversation_untag(
                conversation=conversation, tag=tag, actor=request.user, seen_version=self._seen(given)
            )
        except ConversationChanged:
            return self._conflict(conversation)
        return self._done(conversation)

    @extend_schema(
        summary="The conversation's latest 500 messages, oldest first (notes included); "
        "every message: /messages/?conversation=",
        responses={200: s.MessageSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def messages(self, request, pk=None):
        thread = conversation_thread(conversation=self.get_object())
        return Response(s.MessageSerializer(_latest(thread), many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The conversation's latest 500 internal notes, oldest first",
        responses={200: s.MessageSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add an internal note; its @mentions notify colleagues",
        request=s.NoteInput,
        responses={201: s.MessageSerializer, 400: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, pk=None):
        conversation = self.get_object()
        if request.method == "GET":
            notes = conversation_thread(conversation=conversation).filter(direction=Message.Direction.NOTE)
            return Response(s.MessageSerializer(_latest(notes), many=True).data)
        given = s.NoteInput(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            note = note_add(conversation=conversation, author=request.user, text=given.validated_data["text"])
        except ConversationActionError as error:
            return self.refused(error)
        return Response(s.MessageSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Reply to the customer, now or at send_at, within the channel's limits",
        request=s.ReplyInput,
        responses={
            201: s.MessageSerializer,
            400: OpenApiResponse(s.ReplyRefusedSerializer, description="Refused: `issues` say why."),
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def replies(self, request, pk=None):
        conversation = self.get_object()
        given = s.ReplyInput(data=request.data)
        given.is_valid(raise_exception=True)
        channels = reply_channels(conversation=conversation)
        channel = channels[0]
        if given.validated_data.get("channel"):
            channel = next((c for c in channels if c.pk == given.validated_data["channel"]), None)
            if channel is None:
                raise ValidationError({"channel": "not a channel on which this customer can be reached"})
        try:
            message = reply_send(
                conversation=conversation,
                author=request.user,
                text=given.validated_data["text"],
                channel=channel,
                send_at=given.validated_data.get("send_at"),
            )
        except ReplyRefused as refused:
            issues = [{"code": i.code, "message": i.message, "blocking": i.blocking} for i in refused.issues]
            return Response({"detail": str(refused), "issues": issues}, status=status.HTTP_400_BAD_REQUEST)
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Messages, newest first, filtered by the query parameters"),
    retrieve=extend_schema(summary="One message", responses={200: s.MessageSerializer, 404: NOT_FOUND}),
)
class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Message
    serializer_class = s.MessageSerializer
    filterset_class = filters.MessageFilter

    @extend_schema(
        summary="Correct a label (sentiment, intent; relevance per mention): the brand's model learns it",
        request=s.CorrectionInput,
        responses={200: s.MessageSerializer, 400: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        message = self.get_object()
        given = s.CorrectionInput(data=request.data)
        given.is_valid(raise_exception=True)
        mention = None
        if given.validated_data.get("mention"):
            mention = get_visible_or_404(
                message.mentions.all(), self.membership, pk=given.validated_data["mention"]
            )
        try:
            label_correct(
                message=message,
                task=given.validated_data["task"],
                label=given.validated_data["label"],
                mention=mention,
                user=request.user,
            )
        except ValueError as error:
            return self.refused(error)
        message.refresh_from_db()
        return Response(s.MessageSerializer(message).data)
