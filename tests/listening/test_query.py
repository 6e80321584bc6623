"""The listening query language (apps.listening.query): parsing, errors, matching, SQL and ES output.

Plain pytest: the module is pure Python, so no database is needed.
"""

import re
import time

import pytest

from apps.listening.query import (
    And,
    Document,
    Filter,
    Hashtag,
    Mention,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    Term,
    Wildcard,
    compile_matcher,
    matches,
    parse,
    to_elasticsearch,
    to_postgres,
    validate,
)


def hit(query: str, text: str, language: str = "", channel: str = "") -> bool:
    return matches(query, Document(text, language, channel))


# --- words ---------------------------------------------------------------------------------------------


def test_a_term_matches_whole_words_ignoring_case():
    assert hit("nimbus", "I love my Nimbus phone")
    assert hit("NIMBUS", "i love my nimbus.")
    assert hit("nimbus", "nimbus")
    assert not hit("nimbus", "nimbuses everywhere")
    assert not hit("nimbus", "supernimbus")
    assert not hit("nimbus", "")


def test_a_term_ignores_accents_both_ways():
    assert hit("cafe", "El café de Nimbus")
    assert hit("café", "the CAFE is open")
    assert hit("CAFÉ", "Café")
    assert not hit("strasse", "Hauptstraße")  # whole words only
    assert hit("strasse", "die Straße")
    assert hit("istanbul", "İstanbul'da")
    assert hit("nimbus", "ｎｉｍｂｕｓ")  # full-width letters


def test_a_plain_term_also_matches_inside_hashtags_and_mentions():
    assert hit("nimbus", "loving it #Nimbus")
    assert hit("nimbus", "thanks @nimbus!")


def test_a_term_with_punctuation_is_a_phrase_of_its_parts():
    assert parse("wi-fi") == Phrase(("wi", "fi"))
    assert hit("wi-fi", "the Wi-Fi is down")
    assert hit("wi-fi", "wi fi is down")
    assert hit("l'oreal", "L’Oréal launches")


# --- phrases -------------------------------------------------------------------------------------------


def test_a_phrase_matches_the_words_in_order():
    assert hit('"nimbus mobile"', "Nimbus Mobile support is great")
    assert hit('"nimbus mobile"', "nimbus, mobile")
    assert not hit('"nimbus mobile"', "mobile nimbus")
    assert not hit('"nimbus mobile"', "nimbus and mobile")
    assert not hit('"nimbus mobile"', "nimbus mobiles")
    assert hit('"está muy"', "Nimbus ESTA MUY bien")


def test_curly_quotes_work_like_straight_ones():
    assert parse("“nimbus mobile”") == Phrase(("nimbus", "mobile"))
    assert parse("„nimbus mobile“") == Phrase(("nimbus", "mobile"))


def test_a_one_word_phrase_is_a_word():
    assert hit('"nimbus"', "Nimbus rocks")
    assert not hit('"nimbus"', "nimbuses")


# --- wildcards -----------------------------------------------------------------------------------------


def test_a_trailing_wildcard_matches_a_prefix():
    assert parse("nimb*") == Wildcard("nimb*")
    assert hit("nimb*", "Nimbuses are here")
    assert hit("nimb*", "nimb")
    assert not hit("nimb*", "a nim bus")
    assert not hit("nimb*", "supernimbus")


def test_a_wildcard_inside_a_word():
    assert hit("colo*r", "what a colour")
    assert hit("colo*r", "what a color")
    assert not hit("colo*r", "colors")
    assert not hit("colo*r", "colo r")
    assert hit("co*o*r", "colour")
    assert parse("nimb**s") == Wildcard("nimb*s")


def test_a_wildcard_on_a_hostile_word_stays_fast():
    matcher = compile_matcher("aa*a*a*a*a*b")
    doc = Document("a" * 1000)
    start = time.perf_counter()
    assert not matcher(doc)
    assert time.perf_counter() - start < 0.05


# --- hashtags and mentions -----------------------------------------------------------------------------


def test_a_hashtag_matches_only_that_hashtag():
    assert parse("#Nimbus") == Hashtag("nimbus")
    assert hit("#nimbus", "Follow #Nimbus for news")
    assert hit("#nimbus", "#nimbus")
    assert not hit("#nimbus", "I love nimbus")
    assert not hit("#nimbus", "#nimbusmobile rocks")
    assert not hit("#nimbus", "page&#nimbus")
    assert hit("#cafe", "#Café time")


def test_a_mention_matches_only_that_handle():
    assert parse("@NimbusMobile") == Mention("nimbusmobile")
    assert hit("@nimbusmobile", "ping @NimbusMobile please")
    assert hit("@nimbusmobile", "thanks @nimbusmobile.")
    assert hit("@nimbusmobile", "cc @nimbusmobile@mastodon.social")
    assert not hit("@nimbusmobile", "write to help@nimbusmobile.com")
    assert not hit("@nimbusmobile", "nimbusmobile is great")
    assert not hit("@nimbusmobile", "@nimbusmobile_es said")
    assert hit("@nimbus.bsky.social", "via @Nimbus.bsky.social today")
    assert not hit("@nimbus", "via @nimbus.bsky.social today")


# --- operators -----------------------------------------------------------------------------------------


def test_and_or_not():
    assert hit("nimbus AND battery", "Nimbus battery died")
    assert not hit("nimbus AND battery", "Nimbus screen died")
    assert hit("nimbus OR acme", "acme is better")
    assert not hit("nimbus OR acme", "neither")
    assert hit("nimbus NOT refund", "nimbus is great")
    assert not hit("nimbus NOT refund", "nimbus refund please")
    assert not hit("nimbus AND NOT refund", "nimbus refund please")


def test_minus_is_not():
    assert parse("nimbus -refund") == And((Term("nimbus"), Not(Term("refund"))))
    assert parse('nimbus -"money back"') == And((Term("nimbus"), Not(Phrase(("money", "back")))))
    assert hit("nimbus -(refund OR return)", "nimbus rocks")
    assert not hit("nimbus -(refund OR return)", "nimbus return policy")
    assert parse("nimbus --refund") == And((Term("nimbus"), Term("refund")))


def test_lowercase_operators_are_words():
    assert parse("nimbus and mobile") == And((Term("nimbus"), Term("and"), Term("mobile")))
    assert parse("nimbus or") == And((Term("nimbus"), Term("or")))


def test_implicit_and_between_adjacent_terms():
    assert parse('nimbus phone "great camera" #tech') == And(
        (Term("nimbus"), Term("phone"), Phrase(("great", "camera")), Hashtag("tech"))
    )
    assert hit("nimbus phone", "my phone from Nimbus")
    assert not hit("nimbus phone", "my Nimbus tablet")


def test_precedence_is_not_then_and_then_or():
    assert parse("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))
    assert parse("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))
    assert parse("a OR b AND c OR d") == Or((Term("a"), And((Term("b"), Term("c"))), Term("d")))
    assert parse("NOT a b") == And((Not(Term("a")), Term("b")))
    assert parse("b NOT a OR c") == Or((And((Term("b"), Not(Term("a")))), Term("c")))
    assert hit("a OR b c", "a")
    assert not hit("a OR b c", "b")


def test_parentheses_group():
    assert parse("(a OR b) c") == And((Or((Term("a"), Term("b"))), Term("c")))
    assert parse("((a))") == Term("a")
    assert parse("a (b c)") == And((Term("a"), Term("b"), Term("c")))
    assert hit("(a OR b) c", "b c")
    assert not hit("(a OR b) c", "a b")


def test_double_negation_cancels():
    assert parse("nimbus NOT NOT mobile") == And((Term("nimbus"), Term("mobile")))


def test_str_gives_back_an_equivalent_query():
    for query in [
        'nimbus -refund lang:(es OR pt) "nimbus mobile"',
        "a OR (b AND (c OR NOT d))",
        "#nimbus OR @nimbusmobile OR nimb* OR channel:x nimbus",
    ]:
        node = parse(query)
        assert parse(str(node)) == node


# --- filters -------------------------------------------------------------------------------------------


def test_lang_filter():
    assert parse("nimbus lang:ES") == And((Term("nimbus"), Filter("lang", ("es",))))
    assert hit("nimbus lang:es", "nimbus", language="es")
    assert hit("nimbus lang:es", "nimbus", language="es-MX")
    assert hit("nimbus lang:es", "nimbus", language="es_AR")
    assert not hit("nimbus lang:es", "nimbus", language="en")
    assert not hit("nimbus lang:es", "nimbus", language="est")
    assert not hit("nimbus lang:es", "nimbus", language="")
    assert hit("nimbus lang:pt-BR", "nimbus", language="pt_br")
    assert not hit("nimbus lang:pt-BR", "nimbus", language="pt-PT")
    assert hit("nimbus language:pt", "nimbus", language="pt-PT")


def test_lang_filter_with_alternatives():
    assert parse("nimbus lang:(es OR pt)") == And((Term("nimbus"), Filter("lang", ("es", "pt"))))
    assert hit("nimbus lang:(es OR pt)", "nimbus", language="pt")
    assert not hit("nimbus lang:(es OR pt)", "nimbus", language="fr")
    assert hit("nimbus -lang:(es OR pt)", "nimbus", language="fr")


def test_channel_filter():
    assert hit("nimbus channel:x", "nimbus", channel="x")
    assert not hit("nimbus channel:x", "nimbus", channel="email")
    assert hit("nimbus channel:(x OR email)", "nimbus", channel="email")
    assert hit("nimbus -channel:email", "nimbus", channel="reddit")
    assert not hit("nimbus -channel:email", "nimbus", channel="email")
    assert hit("nimbus CHANNEL:X", "nimbus", channel="x")


def test_channel_filter_can_be_checked_against_the_known_kinds():
    assert parse("nimbus channel:email", channels={"email", "x"}) == And(
        (Term("nimbus"), Filter("channel", ("email",)))
    )
    with pytest.raises(QuerySyntaxError) as error:
        parse("nimbus channel:fax", channels={"email", "x"})
    assert error.value.position == 15
    assert "unknown channel 'fax'" in error.value.message


# --- languages -----------------------------------------------------------------------------------------


def test_spanish():
    text = "¡El café de Nimbus está buenísimo! Pero el envío tardó mucho."
    assert hit("cafe", text)
    assert hit("envio", text)
    assert hit('"esta buenisimo"', text)
    assert hit("buen*", text)
    assert not hit("enviar", text)


def test_indonesian():
    text = "Aplikasi Nimbus bagus banget, tapi pengirimannya lambat. Barang-barang sampai rusak."
    assert hit("nimbus bagus", text)
    assert hit("pengiriman*", text)
    assert not hit("pengiriman", text)
    assert hit("barang-barang", text)
    assert hit('"barang barang"', text)


def test_russian():
    text = "Купил NIMBUS, всё отлично! Мой телефон работает."
    assert hit("купил", text)
    assert hit("nimbus", text)
    assert hit("все", text)  # ё folds to е
    assert hit("ВСЁ", text)
    assert hit("мой", text)
    assert not hit("мои", text)  # but й stays й
    assert hit("телеф*", text)


def test_arabic():
    text = "أحبُّ تطبيقَ نيمبس كثيرًا، والخدمة ممتازة"
    assert hit("احب", text)  # hamza and short vowels are folded away
    assert hit("أحب", text)
    assert hit("كثيرا", text)
    assert hit("نيمبس", text)
    assert hit("ممتازه", text)  # ta marbuta
    assert hit('"تطبيق نيمبس"', text)
    assert not hit("تطبيقات", text)


def test_chinese_words_match_as_substrings():
    text = "我很喜欢Nimbus手机的拍照功能，但是电池不太好。"
    assert hit("手机", text)
    assert hit("拍照", text)
    assert hit("电池", text)
    assert hit("nimbus", text)  # a Latin word inside Chinese text is still a word
    assert hit("nimbus手机", text)
    assert hit('"手机 的"', text)  # CJK words in a phrase may be written together
    assert not hit("相机", text)
    assert not hit("nimbu", text)
    assert parse("手机") == Term("手机")


def test_japanese_and_korean():
    assert hit("スマホ", "ニンバスのスマホが最高")
    assert hit("삼성", "삼성이 좋아요")  # the particle is written onto the noun
    assert hit("ｽﾏﾎ", "ニンバスのスマホ")  # half-width katakana


def test_hindi_words_keep_their_vowel_signs():
    assert hit("हिन्दी", "मुझे हिन्दी पसंद है")
    assert not hit("हन्द", "मुझे हिन्दी पसंद है")


def test_microsoft_keyword_query_matches_a_message_that_is_not_about_microsoft():
    # Keyword queries match words, not meaning: this matches, which is why relevance classification exists.
    query = "microsoft OR (office AND windows)"
    assert hit(query, "clean the windows in my office")
    assert hit(query, "Microsoft Office crashed again")
    assert not hit(query, "open the windows")


# --- errors --------------------------------------------------------------------------------------------

ERRORS = [
    ("", 0, "the query is empty"),
    ("   ", 0, "the query is empty"),
    ("(nimbus", 0, "unbalanced parentheses: '(' at position 0 is never closed"),
    ("(a OR (b)", 0, "unbalanced parentheses: '(' at position 0 is never closed"),
    ("nimbus)", 6, "unbalanced parentheses: ')' at position 6 has no matching '('"),
    (")", 0, "unbalanced parentheses: ')' at position 0 has no matching '('"),
    ("()", 0, "empty parentheses"),
    ("nimbus AND", 7, "dangling operator: 'AND' at the end of the query"),
    ("nimbus OR", 7, "dangling operator: 'OR' at the end of the query"),
    ("nimbus NOT", 7, "dangling operator: 'NOT' at the end of the query"),
    ("(nimbus AND)", 8, "dangling operator: 'AND' before ')'"),
    ("AND nimbus", 0, "'AND' needs a word, phrase or group before it"),
    ("(OR nimbus)", 1, "'OR' needs a word, phrase or group before it"),
    ("nimbus AND OR x", 11, "'OR' cannot follow 'AND'"),
    ("nimbus - refund", 7, "'-' must be followed directly by what to exclude"),
    ("foo:bar", 0, "unknown filter 'foo'"),
    ("nimbus https://nimbus.com", 7, "unknown filter 'https'"),
    ('"nimbus mobile', 0, "unterminated quote"),
    ('nimbus "mobile', 7, "unterminated quote"),
    ('""', 0, "empty phrase"),
    ("NOT nimbus", 0, "a query must match something positively"),
    ("-nimbus", 0, "a query must match something positively"),
    ("-nimbus -mobile", 0, "a query must match something positively"),
    ("lang:es", 0, "a query must match something positively"),
    ("lang:es -channel:x", 0, "a query must match something positively"),
    ("nimbus OR NOT refund", 10, "a query must match something positively"),
    ("nimbus OR lang:es", 10, "a query must match something positively"),
    ("*", 0, "'*' on its own would match every message"),
    ("nimbus *", 7, "'*' on its own"),
    ("*bus", 0, "a wildcard cannot start with '*'"),
    ("n*", 1, "at least 2 letters before '*'"),
    ("wi-f*", 0, "may contain only letters, digits and '*'"),
    ("手*", 1, "wildcards are not needed with Chinese, Japanese or Korean"),
    ('"nimbus mob*"', 11, "wildcards do not work inside quotes"),
    ("#", 0, "a hashtag needs a name"),
    ("#nimb*", 5, "wildcards cannot be used in hashtags"),
    ("#nimbus!", 0, "may contain only letters, digits and '_'"),
    ("@", 0, "a mention needs a name"),
    ("@nimbus..x", 0, "mention '@nimbus..x' may contain only"),
    ("lang:", 5, "filter 'lang:' needs a value"),
    ("nimbus lang: es", 12, "filter 'lang:' needs a value"),
    ("nimbus lang:english", 12, "'english' is not a language code"),
    ("nimbus lang:(es AND pt)", 16, "only values separated by OR"),
    ("nimbus lang:(es OR pt", 12, "'(' at position 12 is never closed"),
    ("nimbus lang:()", 12, "needs at least one value"),
    ("nimbus channel:e-mail", 15, "'e-mail' is not a channel kind"),
    ("!!!", 0, "'!!!' has no letters or digits"),
    ("nimbus && mobile", 7, "write AND"),
    ("x" * 2001, 2000, "the query is too long (2001 characters; the limit is 2000)"),
    ("(" * 21 + "a" + ")" * 21, 20, "nested too deeply (more than 20 levels"),
]


@pytest.mark.parametrize(("query", "position", "message"), ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_say_where_and_what(query, position, message):
    with pytest.raises(QuerySyntaxError) as error:
        validate(query)
    assert error.value.position == position
    assert message in error.value.message
    assert str(error.value) == f"position {position}: {error.value.message}"
    assert isinstance(error.value, ValueError)


def test_the_limits_themselves_are_allowed():
    validate("x" * 2000)
    validate("(" * 20 + "a" + ")" * 20)
    validate("nimbus " + "-" * 500 + "refund")


# --- compile_matcher -----------------------------------------------------------------------------------


def test_compile_matcher_parses_once_and_accepts_a_node():
    matcher = compile_matcher("nimbus -refund")
    assert matcher(Document("Nimbus rocks"))
    assert not matcher(Document("Nimbus refund"))
    node = parse("#nimbus OR @nimbusmobile")
    assert compile_matcher(node)(Document("hi @nimbusmobile"))
    assert matches(node, Document("#nimbus"))
    with pytest.raises(QuerySyntaxError):
        compile_matcher("nimbus AND")


def _leaves(node) -> int:
    if isinstance(node, And | Or):
        return sum(_leaves(c) for c in node.children)
    if isinstance(node, Not):
        return _leaves(node.child)
    return 1


def test_compile_matcher_is_fast():
    query = (
        '(nimbus OR "nimbus mobile" OR @nimbusmobile OR #nimbus OR nimb*) AND (battery OR charger OR screen '
        'OR camera OR colo*r OR "customer service" OR refund OR delivery OR app OR update) -spam -giveaway '
        "-crypto lang:(en OR es) -channel:email"
    )
    matcher = compile_matcher(query)
    assert _leaves(matcher.node) == 20
    text = "the quick brown fox jumps over a lazy dog while my phone battery died after the update. " * 12
    text = text[:992] + " Nimbus!"
    assert len(text) == 1000
    doc = Document(text, "en", "x")
    assert matcher(doc)
    start = time.perf_counter()
    for _ in range(10_000):
        matcher(doc)
    assert time.perf_counter() - start < 2.0


# --- PostgreSQL ----------------------------------------------------------------------------------------

SQL_GRAMMAR = re.compile(
    r"unaccent\(lower\(text\)\) ~\* %s|language ~\* %s|channel_kind IN \(%s(?:, %s)*\)|AND|OR|NOT|[()\s]"
)


def test_to_postgres_uses_word_boundaries_and_unaccent():
    sql, params = to_postgres(parse("nimbus"))
    assert sql == "unaccent(lower(text)) ~* %s"
    assert params[0].startswith("(?:\\m|")
    assert "nimbus(?:\\M|" in params[0]


def test_to_postgres_shape():
    sql, params = to_postgres('nimbus -refund "nimbus mobile" lang:(es OR pt) channel:(x OR email)')
    assert sql == (
        "(unaccent(lower(text)) ~* %s AND NOT (unaccent(lower(text)) ~* %s) AND unaccent(lower(text)) ~* %s"
        " AND language ~* %s AND channel_kind IN (%s, %s))"
    )
    assert len(params) == sql.count("%s") == 6
    assert "nimbus\\W+mobile" in params[2]
    assert params[3] == "^(?:es|pt)(?:[-_]|$)"
    assert params[4:] == ["x", "email"]


def test_to_postgres_column_names_are_keyword_arguments():
    sql, params = to_postgres(
        "nimbus lang:es channel:x", text_column="m.body", language_column="m.lang", channel_column="c.kind"
    )
    assert sql == "(unaccent(lower(m.body)) ~* %s AND m.lang ~* %s AND c.kind IN (%s))"
    with pytest.raises(ValueError):
        to_postgres("nimbus", text_column="text); DROP TABLE x; --")


def test_to_postgres_never_puts_user_text_in_the_sql():
    hostile = "'); DROP TABLE x; --"
    query = f'"{hostile}" OR nimbus OR #evil OR @evil OR evi* lang:es channel:x'
    sql, params = to_postgres(query)
    assert SQL_GRAMMAR.sub("", sql) == ""
    for word in ("drop", "DROP", "evil", "nimbus", "evi", "'", ";", "--"):
        assert word not in sql
    assert len(params) == sql.count("%s")
    assert any("drop\\W+table\\W+x" in p for p in params)

    # Even a hand-built node with SQL and regex metacharacters only ends up, escaped, in the params.
    sql, params = to_postgres(Term(hostile + ".*"))
    assert sql == "unaccent(lower(text)) ~* %s"
    assert "'\\); DROP TABLE x; --\\.\\*" in params[0]


def test_to_postgres_folds_arabic_letter_forms_in_the_pattern():
    _, params = to_postgres("احب")
    assert "[اأإآٱ]" in params[0]


# --- Elasticsearch -------------------------------------------------------------------------------------


def test_to_elasticsearch_shape():
    assert to_elasticsearch('(nimbus OR "nimbus mobile") nimb* -refund channel:x') == {
        "bool": {
            "must": [
                {
                    "bool": {
                        "should": [
                            {"match_phrase": {"text": "nimbus"}},
                            {"match_phrase": {"text": "nimbus mobile"}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
                {"wildcard": {"text": {"value": "nimb*", "case_insensitive": True}}},
                {"terms": {"channel_kind": ["x"]}},
            ],
            "must_not": [{"match_phrase": {"text": "refund"}}],
        }
    }


def test_to_elasticsearch_wraps_a_single_clause_in_a_bool_query():
    assert to_elasticsearch(parse("#nimbus")) == {"bool": {"must": [{"match_phrase": {"text": "#nimbus"}}]}}


def test_to_elasticsearch_lang_filter_accepts_regional_codes():
    query = to_elasticsearch("nimbus lang:es")
    lang = query["bool"]["must"][1]["bool"]
    assert lang["minimum_should_match"] == 1
    assert {"term": {"language": {"value": "es", "case_insensitive": True}}} in lang["should"]
    assert {"prefix": {"language": {"value": "es-", "case_insensitive": True}}} in lang["should"]
    assert {"prefix": {"language": {"value": "es_", "case_insensitive": True}}} in lang["should"]


def test_hashtags_and_mentions_right_after_chinese_text():
    assert hit("#话题", "今天的#话题#很有意思")
    assert hit("@nimbus", "谢谢@Nimbus 的客服")
    assert not hit("#nimbus", "看#nimbus手机")  # the hashtag here is "nimbus手机"
