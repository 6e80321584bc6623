from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pgvector (embeddings for suggested replies), pg_trgm (fuzzy and CJK search), unaccent (search)."""

    initial = True
    dependencies = []
    operations = [
        CreateExtension("vector"),
        CreateExtension("pg_trgm"),
        CreateExtension("unaccent"),
    ]
