"""The words the domain is described in, which the apps above it (classification, listening, the inbox's
filters) share: sentiment and listening-level labels, language codes, the waiting bonus of a priority.

They live here, in the lowest layer that needs them (the inbox's querystring and the conversations' columns),
so that conversations never import the apps that write these labels.
"""

from django.db import models


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class Level(models.TextChoices):
    """A brand's listening maturity, level by level: what is said to it, about it, its rivals, its market."""

    TO_BRAND = "to_brand", "To the brand"
    ABOUT_BRAND = "about_brand", "About the brand"
    COMPETITOR = "competitor", "About a competitor"
    CATEGORY = "category", "About the category"


# The language of a text no language is clearly ahead for (apps/classification/language.py).
UNDETERMINED = "und"

#: Candidate languages by default: the languages the classifiers were measured on, plus the other
#: widely used ones customers write in (ISO 639-1).
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "ar", "de", "en", "es", "fr", "hi", "id", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr",
    "uk", "vi", "zh", "sv", "da", "nb", "fi", "el", "he", "cs", "ro", "hu", "fa", "ur", "bn",
)  # fmt: skip

# An open conversation's priority rises by this much per hour it waits for the brand, up to WAITING_MAX
# (apps/classification/priority.py scores the messages; conversations_reprioritise adds the wait).
WAITING_PER_HOUR, WAITING_MAX = 2.0, 20.0
