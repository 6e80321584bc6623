"""Feeds as sites really publish them: legacy charsets with no declaration, broken XML, enclosure-only items.

Each feed is served over HTTP by the fake site and polled by the real service; the page shows what broke.
"""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import Channel
from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.ingestion.services import payload_process

pytestmark = pytest.mark.django_db

JAPANESE = "新しい製品についてのお知らせです。ニンバスモバイルの料金プランが変わりました。ご確認ください。"
TEXTS = {
    "euc_jp": JAPANESE,
    "shift_jis": JAPANESE,
    "euc_kr": "새로운 제품에 대한 안내입니다. 님버스 모바일의 요금제가 변경되었습니다. 확인해 주세요.",
    "gb2312": "关于新产品的通知。宁巴斯移动的资费计划已经改变。请确认。我们的客户服务很好。",
    "koi8_r": "Новости о новом продукте. Тарифы Нимбус Мобайл изменились. Пожалуйста, проверьте.",
    "tis_620": "ข่าวเกี่ยวกับผลิตภัณฑ์ใหม่ แผนราคาของนิมบัสโมบายเปลี่ยนไปแล้ว กรุณาตรวจสอบ",
    "cp1255": "חדשות על המוצר החדש. התעריפים של נימבוס מובייל השתנו. אנא בדקו.",
}


def _process(channel) -> None:
    for pk in RawPayload.objects.filter(channel=channel, status="received").values_list("pk", flat=True):
        payload_process(payload_id=pk)


def _rss(items: str, title: str = "News") -> str:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>http://127.0.0.1/</link>{items}</channel></rss>'


@pytest.mark.parametrize("charset", sorted(TEXTS))
def test_a_feed_in_a_legacy_charset_without_a_declaration_is_read_in_that_charset(
    site, feed_channel, charset
):
    text = TEXTS[charset]
    item = f"<item><title>{text[:12]}</title><description>{text}</description><link>http://127.0.0.1/{charset}</link><guid>{charset}-1</guid></item>"
    # No encoding in the XML declaration, none in Content-Type: only the bytes tell.
    site.publish("/legacy.xml", _rss(item).encode(charset), content_type="application/rss+xml")
    channel = feed_channel("/legacy.xml")
    assert channel_poll(channel_id=channel.pk) == 1
    _process(channel)
    message = Message.objects.get(channel=channel)
    assert message.text == text and message.conversation.subject == text[:12]


def test_broken_xml_with_no_entry_is_reported_on_the_channel_page(
    site, feed_channel, org_a, make_membership, login
):
    site.publish(
        "/broken.xml", '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</ti'
    )
    site.publish("/good.xml", _rss("<item><title>Fine</title><link>http://127.0.0.1/fine</link></item>"))
    channel = feed_channel("/broken.xml", "/good.xml")
    assert channel_poll(channel_id=channel.pk) == 1  # the good feed still works
    channel = Channel.objects.get(pk=channel.pk)
    state = channel.cursor["feeds"][site.url("/broken.xml")]
    assert "broken feed with no readable entry" in state["error"]
    page = login(make_membership(org_a, Role.ADMIN)).get(reverse("connectors:detail", args=[channel.pk]))
    assert "broken feed with no readable entry" in page.content.decode()


def test_an_item_with_only_an_enclosure_is_stored_with_its_media(site, feed_channel):
    podcast = (
        '<item><enclosure url="http://127.0.0.1/media/episode-12.mp3" length="24986239" type="audio/mpeg"/>'
        "<guid>ep-12</guid><pubDate>Tue, 17 Nov 2026 10:00:00 GMT</pubDate></item>"
    )
    site.publish("/podcast.xml", _rss(podcast, title="Nimbus podcast"))
    channel = feed_channel("/podcast.xml")
    assert channel_poll(channel_id=channel.pk) == 1
    _process(channel)
    message = Message.objects.get(channel=channel)
    assert message.text == "[audio: episode-12.mp3]"
    assert message.metadata["media"] == [
        {"url": "http://127.0.0.1/media/episode-12.mp3", "type": "audio/mpeg", "length": "24986239"}
    ]
