"""RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 1.0 feeds of blogs, news sites, forums and review sites.

`client` fetches one feed URL (conditional GET, redirects, size and time limits), `parsers` turns a feed
document into one small JSON document per entry and that document into an InboundMessage, and
`connector` ties them together for the three channel kinds that read feeds (feed, forum, reviews).
"""
