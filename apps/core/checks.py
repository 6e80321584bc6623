"""System checks that `migrate` runs first: a database that lacks an extension or a privilege stops it
with one paragraph naming the fix (apps/core/prerequisites.py), not a traceback from the migration."""

from django.core import checks
from django.db import DatabaseError, connections

from .prerequisites import database_problems


@checks.register(checks.Tags.database)
def check_database_prerequisites(app_configs, databases=None, **kwargs):
    errors = []
    for alias in databases or ():
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                problems = database_problems(cursor)
        except DatabaseError as error:
            settings = connection.settings_dict
            where = f"{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            problems = [f"Cannot use the database {where} (DATABASE_URL): {first_line}"]
        errors += [checks.Error(problem, id="core.E001") for problem in problems]
    return errors
