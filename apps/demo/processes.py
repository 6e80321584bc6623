"""What the processes that classify the demo run (generate.demo_classify). Nothing of Django is imported at
the top: a spawned process unpickles these functions before its initializer has set Django up."""


def start(database_name: str) -> None:
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name  # the test database, in tests


def classify(message_ids: list[int]) -> int:
    from apps.classification.services import messages_classify

    return messages_classify(message_ids=message_ids)
