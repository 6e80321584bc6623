"""Text in images: OCR reads generated images (Latin, accented Latin, Chinese by RapidOCR; Cyrillic and
Arabic by tesseract), and inbound messages with image attachments served by a fake platform on 127.0.0.1
go through a real worker that fetches the images, reads them, tags the brand named only in the image,
classifies the message again and makes it searchable by a word in the image, in the three scripts; the
conversation page shows the image and its text."""

import io
import time
import unicodedata
from pathlib import Path

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.models import Message
from apps.listening.models import Mention
from apps.listening.services import listening_queries_create_defaults
from apps.ocr import engine, health
from apps.ocr.health import check_ocr
from tests.factories import membership_create
from tests.fakes.http import FakeHTTPServer, Response
from tests.ingestion.conftest import message

PIL = pytest.importorskip("PIL")
pytest.importorskip("rapidocr_onnxruntime")

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

# DejaVu Sans also has the Cyrillic and Arabic letters (Pillow shapes Arabic with libraqm, in its wheel).
LATIN_FONT = CYRILLIC_FONT = ARABIC_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DEVANAGARI_FONT = Path("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf")


def _needs_tesseract(language: str) -> None:
    status = health.tesseract_status()
    if language not in status.get("languages", []):
        pytest.skip(f"tesseract with its {language} pack is not installed here (dev.py installs it as root)")


def _png(lines: list[str], font_path: Path, size: int = 40) -> bytes:
    if not font_path.exists():
        pytest.skip(f"{font_path} missing (dev.py installs the fonts the OCR tests draw with)")
    font = ImageFont.truetype(str(font_path), size)
    image = Image.new("RGB", (900, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((40, 40 + 70 * n), line, font=font, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _squeezed(text: str) -> str:
    """Without spaces, case or accents."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not c.isspace() and not unicodedata.combining(c)).lower()


@pytest.mark.parametrize(
    "lines, font",
    [
        (["Nimbus battery died again", "Order 4521 never arrived"], LATIN_FONT),  # Latin
        # Accented Latin: the recogniser knows few accented letters (é, ü...), so accents are compared folded.
        (["Crème brûlée à Genève", "Pedí un reembolso"], LATIN_FONT),
        (["我的手机电池坏了", "请退款"], CJK_FONT),  # Chinese (Han)
        # The scripts RapidOCR reads as look-alike Latin letters, read by tesseract; the brand in Latin too.
        (["Экран Nimbus треснул", "Верните деньги за заказ"], CYRILLIC_FONT),
        (["الشاشة مكسورة", "أريد استرداد أموالي"], ARABIC_FONT),
        (["मेरा फ़ोन टूट गया", "Nimbus बहुत खराब"], DEVANAGARI_FONT),
    ],
    ids=["latin", "accented-latin", "chinese", "cyrillic", "arabic", "devanagari"],
)
def test_ocr_reads_the_text_of_generated_images_line_by_line(lines, font, request):
    language = {"cyrillic": "rus", "arabic": "ara", "devanagari": "hin"}.get(request.node.callspec.id)
    if language:
        _needs_tesseract(language)
    text = engine.read(_png(lines, font))
    if language:  # tesseract's scripts: exactly (folding would drop the vowel signs of Devanagari)
        assert unicodedata.normalize("NFC", text) == unicodedata.normalize("NFC", "\n".join(lines))
    read_lines = text.split("\n")
    assert len(read_lines) == len(lines), text
    for expected, got in zip(lines, read_lines, strict=True):
        assert _squeezed(got) == _squeezed(expected), text


def test_bytes_that_are_not_an_image_are_refused_with_a_reason():
    with pytest.raises(engine.ImageUnreadable, match="not an image"):
        engine.read(b"<html>not found</html>")


def test_health_says_whether_ocr_is_on_and_which_readers(monkeypatch):
    _needs_tesseract("rus")
    report = check_ocr()
    assert report["enabled"] and report["rapidocr"] == {"enabled": True}
    assert report["tesseract"]["enabled"] and {"eng", "rus"} <= set(report["tesseract"]["languages"])
    assert engine.available()

    # Without tesseract, its part is off and /health/ says why; RapidOCR still reads alone.
    monkeypatch.setattr(health, "TESSERACT_COMMAND", "tesseract-not-installed-here")
    report = check_ocr()
    assert report["enabled"] and report["rapidocr"] == {"enabled": True}
    assert report["tesseract"] == {
        "enabled": False,
        "reason": "tesseract is not installed: Cyrillic, Arabic and Devanagari text in images is not read "
        "(apt-get install tesseract-ocr tesseract-ocr-rus tesseract-ocr-ara tesseract-ocr-hin)",
    }
    assert engine.available()
    # ...a Cyrillic image then reads as RapidOCR's look-alike Latin letters, which is not the text.
    read = engine.read(_png(["Экран Nimbus треснул"], CYRILLIC_FONT))
    assert "Nimbus" in read and "треснул" not in read

    # Neither reader: OCR is off.
    monkeypatch.setattr(health, "OCR_PACKAGE", "rapidocr_not_installed_here")
    assert check_ocr() == {
        "enabled": False,
        "rapidocr": {"enabled": False, "reason": "rapidocr_not_installed_here is not installed"},
        "tesseract": report["tesseract"],
        "reason": "neither RapidOCR nor tesseract can run: images are not read",
    }
    assert not engine.available()
    # Installed, but OpenCV's system libraries missing (a slim image without libgl1): off, and why.
    monkeypatch.setattr(health, "OCR_PACKAGE", "rapidocr_onnxruntime")
    monkeypatch.setattr(health, "OCR_SYSTEM_LIBRARIES", ("libGL.so.1", "libnot-installed-here.so.0"))
    assert check_ocr()["rapidocr"] == {
        "enabled": False,
        "reason": "libnot-installed-here.so.0 is missing (install libgl1 and libglib2.0-0)",
    }

    # tesseract alone (no RapidOCR): OCR is on, and it reads Latin and Cyrillic images by itself.
    monkeypatch.setattr(health, "TESSERACT_COMMAND", "tesseract")
    report = check_ocr()
    assert report["enabled"] and not report["rapidocr"]["enabled"] and report["tesseract"]["enabled"]
    assert engine.read(_png(["Nimbus battery died", "Экран треснул"], LATIN_FONT)) == (
        "Nimbus battery died\nЭкран треснул"
    )


def _wait_for(predicate, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return value


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_brand_named_only_in_an_image_is_found_classified_searchable_and_shown(
    webhook_channel, post_signed, celery_worker, brand_a, org_a, login
):
    brand_a.keywords = ["Nimbus"]
    brand_a.save()
    listening_queries_create_defaults(brand=brand_a)
    image = _png(["Nimbus phone screen cracked", "terrible awful quality"], LATIN_FONT)
    with FakeHTTPServer() as cdn:
        cdn.route(
            "GET", "/media/photo.png", lambda request: Response(200, image, {"Content-Type": "image/png"})
        )
        cdn.route("GET", "/media/gone.png", lambda request: Response(404, "gone"))
        attachments = [
            {"type": "image", "url": f"{cdn.url}/media/photo.png"},
            {"type": "image", "url": f"{cdn.url}/media/gone.png"},
            {"type": "file", "url": f"{cdn.url}/media/manual.pdf"},  # not an image: not fetched
        ]
        body = {"messages": [message(1, text="[image]", metadata={"attachments": attachments})]}
        assert post_signed(webhook_channel, body).status_code == 200
        stored = _wait_for(
            lambda: Message.objects.filter(image_text__contains="Nimbus").first(), "image not read"
        )
    assert {r.path for r in cdn.requests} == {"/media/photo.png", "/media/gone.png"}
    assert _squeezed(stored.image_text) == _squeezed("Nimbus phone screen cracked\nterrible awful quality")
    images = {i["url"].rsplit("/", 1)[1]: i for i in stored.metadata["images"]}
    assert images["photo.png"]["thumbnail"].startswith("data:image/jpeg;base64,")
    assert images["gone.png"] == {
        "url": attachments[1]["url"],
        "error": "the image's server answered HTTP 404",
    }

    # Listening found the brand in the image; the classifier ran again with the image's text.
    _wait_for(lambda: Mention.objects.filter(message=stored, brand=brand_a).exists(), "brand not found")
    classified = _wait_for(
        lambda: Message.objects.filter(
            pk=stored.pk, classified_at__isnull=False, sentiment="negative"
        ).first(),
        "not classified again with the image's text",
    )
    assert any(b["brand"] == brand_a.name for b in classified.classification.get("brands", []))

    agent = login(membership_create(org_a, role=Role.COMMUNITY_MANAGER, brands=[brand_a]))
    page = agent.get(reverse("search:index"), {"q": "cracked"}).content.decode()
    assert 'data-total="1"' in page and f"#message-{stored.pk}" in page
    page = agent.get(reverse("inbox:conversation", args=[stored.conversation_id])).content.decode()
    assert 'src="data:image/jpeg;base64,' in page and "Text in the image:" in page
    assert "cracked" in page and "Image not read: the image&#x27;s server answered HTTP 404" in page


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_brand_named_in_images_in_three_scripts_is_found_and_searchable(
    webhook_channel, post_signed, celery_worker, brand_a, org_a, login
):
    """Latin and Chinese read by RapidOCR, Cyrillic by tesseract, each in its own message's image."""
    _needs_tesseract("rus")
    brand_a.keywords = ["Nimbus"]
    brand_a.save()
    listening_queries_create_defaults(brand=brand_a)
    images = {
        "latin": _png(["Nimbus speaker hiss", "since the firmware"], LATIN_FONT),
        "chinese": _png(["Nimbus 手机屏幕碎了"], CJK_FONT),
        "cyrillic": _png(["Экран Nimbus треснул", "верните деньги"], CYRILLIC_FONT),
    }
    with FakeHTTPServer() as cdn:
        for name, image in images.items():
            cdn.route(
                "GET",
                f"/media/{name}.png",
                lambda request, image=image: Response(200, image, {"Content-Type": "image/png"}),
            )
        body = {
            "messages": [
                message(
                    n,
                    text="[image]",
                    metadata={"attachments": [{"type": "image", "url": f"{cdn.url}/media/{name}.png"}]},
                )
                for n, name in enumerate(images, start=1)
            ]
        }
        assert post_signed(webhook_channel, body).status_code == 200
        read = _wait_for(
            lambda: (
                list(Message.objects.exclude(image_text="").order_by("external_id"))
                if Message.objects.exclude(image_text="").count() == 3
                else None
            ),
            "images not read",
        )
    by_script = dict(zip(images, read, strict=True))
    assert _squeezed(by_script["latin"].image_text) == _squeezed("Nimbus speaker hiss\nsince the firmware")
    assert _squeezed(by_script["chinese"].image_text) == _squeezed("Nimbus 手机屏幕碎了")
    assert by_script["cyrillic"].image_text == "Экран Nimbus треснул\nверните деньги"

    # Listening found the brand in each image, and each is found by a word of its own script.
    _wait_for(
        lambda: (
            Mention.objects.filter(message__in=read, brand=brand_a).values("message").distinct().count() == 3
        ),
        "brand not found in every image",
    )
    agent = login(membership_create(org_a, role=Role.COMMUNITY_MANAGER, brands=[brand_a]))
    for name, word in (("latin", "firmware"), ("chinese", "屏幕"), ("cyrillic", "треснул")):
        page = agent.get(reverse("search:index"), {"q": word}).content.decode()
        assert 'data-total="1"' in page and f"#message-{by_script[name].pk}" in page, word


@pytest.mark.django_db
def test_the_elasticsearch_document_holds_the_text_in_images(brand_a):
    from apps.search.backends.elasticsearch import message_document
    from tests.factories import ChannelFactory, ConversationFactory, MessageFactory

    conversation = ConversationFactory(channel=ChannelFactory(brand=brand_a))
    stored = MessageFactory(
        conversation=conversation, text="[image]", image_text="Nimbus #fail", language="en"
    )
    document = message_document(stored)
    assert document["text"] == "[image]\nNimbus #fail" == stored.searchable_text
    assert document["text_en"] == document["text"] and document["hashtags"] == ["fail"]
