"""The signature scheme receivers verify (apps/webhooks/signing.py)."""

import time

from apps.webhooks.signing import signature_header, verify_signature

SECRET = "whsec_test"
BODY = b'{"event":"ping"}'


def test_a_signature_verifies_with_the_secret_and_the_raw_body():
    header = signature_header(SECRET, BODY)

    assert header.startswith("t=") and ",v1=" in header
    assert verify_signature(SECRET, header, BODY)


def test_another_secret_a_changed_body_or_a_forged_signature_fail():
    header = signature_header(SECRET, BODY)
    timestamp = header.split(",")[0]

    assert not verify_signature("whsec_other", header, BODY)
    assert not verify_signature(SECRET, header, BODY + b" ")
    assert not verify_signature(SECRET, f"{timestamp},v1={'0' * 64}", BODY)
    assert not verify_signature(SECRET, "v1=abc", BODY)
    assert not verify_signature(SECRET, "", BODY)


def test_an_old_or_future_timestamp_fails_even_when_correctly_signed():
    now = time.time()
    old = signature_header(SECRET, BODY, timestamp=int(now) - 301)
    future = signature_header(SECRET, BODY, timestamp=int(now) + 301)

    assert not verify_signature(SECRET, old, BODY, tolerance=300, now=now)
    assert not verify_signature(SECRET, future, BODY, tolerance=300, now=now)
    assert verify_signature(SECRET, old, BODY, tolerance=600, now=now)


def test_a_replayed_timestamp_cannot_be_moved_forward():
    # Changing t= to look fresh breaks the signature: the timestamp is part of what is signed.
    now = int(time.time())
    header = signature_header(SECRET, BODY, timestamp=now - 3600)
    forged = header.replace(f"t={now - 3600}", f"t={now}")

    assert not verify_signature(SECRET, forged, BODY)


def test_any_of_several_v1_signatures_may_match_during_a_secret_rotation():
    header = signature_header(SECRET, BODY)
    timestamp, signature = header.split(",")

    assert verify_signature(SECRET, f"{timestamp},v1={'f' * 64},{signature}", BODY)
