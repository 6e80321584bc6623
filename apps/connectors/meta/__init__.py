"""Meta's messaging platforms: Facebook Messenger (+ Page comments), Instagram (DMs + comments), WhatsApp.

One Meta app signs every webhook the same way and answers to the same Graph API, so the three
connectors share this package:

- `webhooks.py`: the GET verification handshake, X-Hub-Signature-256, the `{object, entry}` envelope;
- `graph.py`: Graph API calls and the mapping of Graph errors to ours;
- `messaging.py`: Messenger / Instagram messaging events (`entry[].messaging[]`);
- `comments.py`: Page feed comments and Instagram comments (`entry[].changes[]`);
- `whatsapp.py`: WhatsApp Cloud API notifications (messages and delivery statuses);
- `connector.py`: the three connectors (one per channel kind) and how each one sends.

Channel credentials: `app_secret` (signs webhooks), `verify_token` (the subscription handshake),
`access_token` (a Page token for Messenger / Instagram, a system-user token for WhatsApp),
`phone_number_id` (WhatsApp: the business number messages are sent from), `app_id` (optional, Messenger:
tells CXM's own echoes from messages the Page sent with other tools).
Channel settings: `graph_base` (default https://graph.facebook.com) and `graph_version` (default v21.0).
"""
