"""The embedded single-machine stack: PostgreSQL and Redis from wheels, plus the app's own processes.

Used by `python3 dev.py run|test|bench`. When DATABASE_URL / REDIS_URL are set, the matching embedded
server is not started and the given one is used instead.
"""
