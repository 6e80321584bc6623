"""Email: receive by IMAP polling or IMAP IDLE push, reply by SMTP.

`imap` fetches what is new in one mailbox (UIDVALIDITY + last UID in the channel's cursor), `parsing` turns
one raw RFC 822 message into an InboundMessage (every charset, HTML-only mails, broken MIME, threading,
attachments, auto-replies), `idle` lets the server push new mail into the same fetch (IMAP IDLE, run by
`manage.py email_idle`), `quoting` strips quoted replies and signatures, `html_text` renders HTML as text,
`smtp` composes and sends a threaded reply, `config` reads and checks the channel's settings, and
`connector` ties them together for ChannelKind.EMAIL.
"""
