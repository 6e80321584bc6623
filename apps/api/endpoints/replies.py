"""Saved replies and macros: the same scoping rule as their pages (apps.replies.selectors.shelf_usable to see,
shelf_editable to change), saved through the same services; macros run on conversations and are undone
through apps.replies.macros."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Brand, Team
from apps.accounts.tenancy import scoped
from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.conversations.models import Conversation
from apps.conversations.selectors import conversation_last_change
from apps.conversations.services import ConversationChanged
from apps.core.parsing import ascii_int
from apps.replies.macros import MacroRefused, macro_run, macro_undo
from apps.replies.models import Macro, MacroRun, SavedReply
from apps.replies.selectors import shelf_editable, shelf_search, shelf_usable
from apps.replies.services import ShelfRefused, macro_save, saved_reply_save, shelf_delete

from .base import NOT_FOUND, REFUSED, TenantViewSet

SHELF_FIELDS = ["id", "scope", "folder", "team", "brand", "owner", "usage_count", "last_used_at"]
SHELF_READ_ONLY = ["id", "owner", "usage_count", "last_used_at", "created_at", "updated_at"]


class _ShelfSerializer(serializers.ModelSerializer):
    brand = ScopedPrimaryKeyRelatedField(Brand, required=False, allow_null=True)
    team = ScopedPrimaryKeyRelatedField(Team, required=False, allow_null=True)


class SavedReplySerializer(_ShelfSerializer):
    class Meta:
        model = SavedReply
        fields = [*SHELF_FIELDS, "title", "body", "language", "intent", "created_at", "updated_at"]
        read_only_fields = SHELF_READ_ONLY


class MacroSerializer(_ShelfSerializer):
    actions = serializers.JSONField(
        help_text='A list of actions, run in order: {"type": "saved_reply", "saved_reply": id}, '
        '{"type": "tag", "tag": "name"}, {"type": "assign", "assignee": "me" | "nobody" | user id}, '
        '{"type": "status", "status": "open" | "pending" | "closed"}, '
        '{"type": "priority", "priority": 0-100}, '
        '{"type": "snooze", "hours": n}, {"type": "note", "text": "..."}.'
    )

    class Meta:
        model = Macro
        fields = [*SHELF_FIELDS, "name", "actions", "created_at", "updated_at"]
        read_only_fields = SHELF_READ_ONLY


class MacroRunRequestSerializer(serializers.Serializer):
    conversations = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)
    versions = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        help_text="Conversation id → the `version` the client saw (as every conversation action takes): when "
        "one changed since, nothing is run (409). Conversations left out are not checked.",
    )

    def validate_versions(self, value: dict) -> dict[int, int]:
        versions = {ascii_int(key): version for key, version in value.items()}
        if None in versions:
            raise serializers.ValidationError("keys are conversation ids")
        return versions


class MacroChangedSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Its version now: send it to run the macro over it anyway.")
    change = serializers.CharField(allow_null=True, help_text="Who changed it last, and how.")
    changed_at = serializers.DateTimeField(allow_null=True)


class MacroConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    changed = MacroChangedSerializer(many=True)


MACRO_CONFLICT = OpenApiResponse(
    MacroConflictSerializer,
    description="Some conversations changed since the versions sent: nothing was run. Says which, who, when.",
)


class MacroRunSerializer(serializers.ModelSerializer):
    inserted_text = serializers.CharField(read_only=True, default="")
    notes = serializers.ListField(child=serializers.CharField(), read_only=True, default=list)

    class Meta:
        model = MacroRun
        fields = [
            "id",
            "macro",
            "name",
            "changes",
            "skipped",
            "created_at",
            "undone_at",
            "inserted_text",
            "notes",
        ]
        read_only_fields = fields


class _ShelfViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    def get_queryset(self):
        found = shelf_usable(self.model, membership=self.membership)
        return shelf_search(found, query=self.request.query_params.get("q", "")).order_by("pk")

    def _store(self, item):
        raise NotImplementedError

    def _save(self, serializer, item, code: int) -> Response:
        for field, value in serializer.validated_data.items():
            setattr(item, field, value)
        try:
            item = self._store(item)
        except ShelfRefused as error:
            return self.refused(error)
        return Response(self.serializer_class(item, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = self.model(organization_id=self.membership.organization_id)
        return self._save(serializer, item, status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._save(serializer, item, status.HTTP_200_OK)

    def destroy(self, request, *args, **kwargs):
        item = self.get_object()
        if not shelf_editable(item, membership=self.membership):
            return self.refused(ShelfRefused("only its owner, or an admin for shared ones, deletes it"), 403)
        shelf_delete(item=item, membership=self.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Saved replies this member may use (`q` searches title and body)"),
    retrieve=extend_schema(summary="One saved reply", responses={200: SavedReplySerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Add a saved reply (agents: personal; admins: any scope)",
        responses={201: SavedReplySerializer, 400: REFUSED},
    ),
    update=extend_schema(
        summary="Replace a saved reply", responses={200: SavedReplySerializer, 400: REFUSED}
    ),
    partial_update=extend_schema(
        summary="Change a saved reply", responses={200: SavedReplySerializer, 400: REFUSED}
    ),
    destroy=extend_schema(
        summary="Delete a saved reply", responses={204: None, 403: REFUSED, 404: NOT_FOUND}
    ),
)
class SavedReplyViewSet(_ShelfViewSet):
    model = SavedReply
    serializer_class = SavedReplySerializer

    def _store(self, item):
        return saved_reply_save(saved_reply=item, actor=self.request.user, membership=self.membership)


@extend_schema_view(
    list=extend_schema(summary="Macros this member may use (`q` searches names)"),
    retrieve=extend_schema(summary="One macro", responses={200: MacroSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Add a macro (agents: personal; admins: any scope)",
        responses={201: MacroSerializer, 400: REFUSED},
    ),
    update=extend_schema(summary="Replace a macro", responses={200: MacroSerializer, 400: REFUSED}),
    partial_update=extend_schema(summary="Change a macro", responses={200: MacroSerializer, 400: REFUSED}),
    destroy=extend_schema(summary="Delete a macro", responses={204: None, 403: REFUSED, 404: NOT_FOUND}),
)
class MacroViewSet(_ShelfViewSet):
    model = Macro
    serializer_class = MacroSerializer

    def _store(self, item):
        return macro_save(macro=item, membership=self.membership)

    @extend_schema(
        summary="Run the macro on conversations (a saved reply it inserts comes back as `inserted_text`)",
        request=MacroRunRequestSerializer,
        responses={201: MacroRunSerializer, 400: REFUSED, 404: NOT_FOUND, 409: MACRO_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        macro = self.get_object()
        asked = MacroRunRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        ids = set(asked.validated_data["conversations"])
        conversations = list(scoped(Conversation, self.membership).filter(pk__in=ids))
        if len(conversations) != len(ids):
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        try:
            outcome = macro_run(
                macro=macro,
                conversations=conversations,
                actor=request.user,
                seen=asked.validated_data.get("versions"),
            )
        except ConversationChanged as changed:
            return Response(
                {
                    "detail": "Someone changed conversations since those versions: nothing was run.",
                    "changed": [
                        {
                            "conversation": c.pk,
                            "version": c.version,
                            "change": f"{d.text} {d.ago}" if d else None,
                            "changed_at": d.at if d else None,
                        }
                        for c in changed.changed
                        for d in [conversation_last_change(conversation=c)]
                    ],
                },
                status=status.HTTP_409_CONFLICT,
            )
        except MacroRefused as error:
            return self.refused(error)
        outcome.run.inserted_text = outcome.text
        outcome.run.notes = outcome.notes
        return Response(MacroRunSerializer(outcome.run).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Macro runs: one's own (admins of every brand: everyone's), newest first"),
    retrieve=extend_schema(summary="One macro run", responses={200: MacroRunSerializer, 404: NOT_FOUND}),
)
class MacroRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = MacroRun
    serializer_class = MacroRunSerializer

    def get_queryset(self):
        runs = super().get_queryset()
        if self.membership is None:
            return runs  # none at all without a membership: scoped()
        # A run spans conversations of any brand (its `changes` name them, before and after): only an admin of
        # every brand reads other people's runs; anyone limited to some brands, admins too, reads their own.
        if self.membership.is_admin and not self.membership.limited_to_brands:
            return runs
        return runs.filter(actor=self.request.user)

    @extend_schema(
        summary="Undo the run: what nobody changed since goes back as it was",
        request=None,
        responses={200: MacroRunSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        run = self.get_object()
        try:
            left = macro_undo(run=run, actor=request.user)
        except MacroRefused as error:
            return self.refused(error, status.HTTP_409_CONFLICT)
        run.refresh_from_db()
        run.notes = left
        return Response(MacroRunSerializer(run).data)
