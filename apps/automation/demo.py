"""The demo's automation (apps/demo seed_demo): rules of every kind of trigger, acknowledgements in the
customers' languages, a satisfaction survey per brand and the answers of the demo's resolved conversations
over its 90 days, so that the rules page, the previews and the satisfaction dashboard have something to
show from the first start."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from apps.conversations.models import Conversation

from .models import AutoReply, Rule, Survey, SurveySettings, Trigger
from .services import rule_save

ACKNOWLEDGEMENTS = {
    AutoReply.Kind.OUT_OF_HOURS: {
        "en": "Thanks for writing! We're closed right now; we'll answer as soon as we open.",
        "es": "¡Gracias por escribirnos! Ahora estamos cerrados; te responderemos en cuanto abramos.",
        "pt": "Obrigado pela mensagem! Estamos fechados agora; responderemos assim que abrirmos.",
        "fr": "Merci pour votre message ! Nous sommes fermés ; nous répondrons dès l'ouverture.",
        "de": "Danke für Ihre Nachricht! Wir haben gerade geschlossen und antworten, sobald wir öffnen.",
    },
    AutoReply.Kind.FIRST_CONTACT: {
        "en": "Thanks, we got your message: someone from the team will answer shortly.",
        "es": "Gracias, recibimos tu mensaje: alguien del equipo te responderá en breve.",
        "pt": "Obrigado, recebemos sua mensagem: alguém da equipe responderá em breve.",
        "fr": "Merci, nous avons reçu votre message : quelqu'un de l'équipe vous répondra bientôt.",
        "de": "Danke, wir haben Ihre Nachricht erhalten: jemand aus dem Team antwortet in Kürze.",
    },
}
QUESTIONS = {
    "en": "How did we do? Rate us from 1 to 5.",
    "es": "¿Qué tal lo hicimos? Puntúanos del 1 al 5.",
    "pt": "Como nos saímos? Avalie de 1 a 5.",
    "fr": "Comment avons-nous fait ? Notez-nous de 1 à 5.",
    "de": "Wie waren wir? Bewerten Sie uns von 1 bis 5.",
}
THANKS = {"en": "Thank you for your answer!", "es": "¡Gracias por tu respuesta!"}
COMMENTS = ["Quick and friendly", "Solved at once", "Took too long", "Still waiting for the refund", ""]
# The chance that a customer answers the survey, and the ratings they give (weights of 1 to 5).
ANSWER_RATE = 0.45
RATING_WEIGHTS = (6, 8, 14, 32, 40)


def _rules(organization) -> list[Rule]:
    return [
        Rule(
            organization=organization,
            name="Angry complaints to the top",
            trigger=Trigger.MESSAGE_CLASSIFIED,
            position=10,
            conditions=[
                {"field": "sentiment", "op": "in", "value": "negative"},
                {"field": "intent", "op": "in", "value": "complaint"},
            ],
            actions=[{"type": "set_priority", "value": "80"}, {"type": "tag", "value": "angry"}],
        ),
        Rule(
            organization=organization,
            name="Spam giveaways",
            trigger=Trigger.MESSAGE_RECEIVED,
            position=5,
            stop_processing=True,
            conditions=[{"field": "text", "op": "contains", "value": "crypto giveaway"}],
            actions=[{"type": "mark_spam", "value": ""}],
        ),
        Rule(
            organization=organization,
            name="Influencers get a note",
            trigger=Trigger.MESSAGE_RECEIVED,
            position=20,
            conditions=[{"field": "followers", "op": "gte", "value": "10000"}],
            actions=[
                {"type": "tag", "value": "influencer"},
                {"type": "add_note", "value": "Over 10,000 followers: answer with care, publicly seen."},
            ],
        ),
        Rule(
            organization=organization,
            name="Waiting four hours",
            trigger=Trigger.NO_REPLY,
            position=30,
            wait_minutes=240,
            actions=[{"type": "set_priority", "value": "70"}, {"type": "auto_assign", "value": ""}],
        ),
        Rule(
            organization=organization,
            name="SLA breached: urgent",
            trigger=Trigger.SLA_BREACHED,
            position=40,
            actions=[{"type": "set_priority", "value": "90"}, {"type": "notify", "value": "assignee"}],
        ),
        Rule(
            organization=organization,
            name="Outside hours: tag",
            trigger=Trigger.CONVERSATION_CREATED,
            position=50,
            conditions=[{"field": "business_hours", "op": "is", "value": "outside"}],
            actions=[{"type": "tag", "value": "after-hours"}],
        ),
    ]


def automation_demo_create(*, organization, brands, now, seed: int = 7) -> None:
    rng = random.Random(seed)
    for rule in _rules(organization):
        rule_save(rule=rule, actor=None)
    for brand in brands:
        for kind, texts in ACKNOWLEDGEMENTS.items():
            AutoReply.objects.create(organization=organization, brand=brand, kind=kind, texts=texts)
        SurveySettings.objects.create(
            organization=organization, brand=brand, questions=QUESTIONS, thanks=THANKS
        )
    surveys = []
    resolved = list(
        Conversation.objects.filter(
            organization=organization, status=Conversation.Status.CLOSED, resolved_at__isnull=False
        )
        .order_by("pk")
        .values_list(
            "pk", "brand_id", "customer_id", "channel_id", "assignee_id", "team_id", "language", "resolved_at"
        )
    )
    for pk, brand_id, customer_id, channel_id, assignee_id, team_id, language, resolved_at in resolved:
        answered = rng.random() < ANSWER_RATE
        rating = rng.choices(range(1, 6), weights=RATING_WEIGHTS)[0] if answered else None
        surveys.append(
            Survey(
                organization=organization,
                brand_id=brand_id,
                conversation_id=pk,
                customer_id=customer_id,
                channel_id=channel_id,
                agent_id=assignee_id,
                team_id=team_id,
                token=secrets.token_urlsafe(12),
                language=language,
                rating=rating,
                comment=rng.choice(COMMENTS) if answered else "",
                via=rng.choice([Survey.Via.CHANNEL, Survey.Via.LINK]) if answered else "",
                answered_at=resolved_at + timedelta(minutes=rng.randint(2, 600)) if answered else None,
            )
        )
    created = Survey.objects.bulk_create(surveys, batch_size=1000)
    # `sent_at` is set on insert: the survey went out when each conversation was resolved.
    for survey, row in zip(created, resolved, strict=True):
        survey.sent_at = row[7]
    Survey.objects.bulk_update(created, ["sent_at"], batch_size=1000)
