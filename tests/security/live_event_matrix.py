"""Who hears which live event: the table that tests/security/test_live_event_matrix.py checks, event by
event, through the real pipeline. Organisation A has two brands, `brand` and `other_brand`; the limited
agent works only on `brand`; organisation B has `foreign_brand`.

INBOX_SOCKET: the brands whose inbox events (every type in INBOX_EVENTS) reach each role's /ws/inbox/
socket, or REFUSED when the socket is not opened at all.
CONVERSATION_SOCKET: whether each role may open /ws/conversation/<id>/ of an `other_brand` conversation
(and so hear its notes and typing).
NOTIFICATIONS: notifications reach their recipient's sockets alone (see the test's assignments).
"""

REFUSED = "refused"
ROLES = ["admin", "agent", "limited_agent", "marketer", "other_admin", "anonymous"]
INBOX_EVENTS = ["message.created", "message.classified", "message.delivery", "conversation.updated"]

INBOX_SOCKET = {
    "admin": {"brand", "other_brand"},
    "agent": {"brand", "other_brand"},
    "limited_agent": {"brand"},
    "marketer": REFUSED,
    "other_admin": {"foreign_brand"},
    "anonymous": REFUSED,
}

CONVERSATION_SOCKET = {
    "admin": True,
    "agent": True,
    "limited_agent": False,
    "marketer": False,
    "other_admin": False,
    "anonymous": False,
}
