"""A webhook sender for the benchmark, in its own process: `webhook_client.py URL SECRET FILE`.

Posts each line of FILE (one JSON body a line) to URL, signed as any sender of the signed-webhook API
channel would sign it, one after the other. It uses nothing of CXM's code.
"""

import hashlib
import hmac
import sys
import time

import httpx


def main(url: str, secret: str, path: str) -> None:
    with open(path, "rb") as lines, httpx.Client(timeout=30) as client:
        for line in lines:
            body = line.rstrip(b"\n")
            timestamp = str(int(time.time()))
            digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-CXM-Timestamp": timestamp,
                "X-CXM-Signature": f"sha256={digest}",
            }
            client.post(url, content=body, headers=headers).raise_for_status()


if __name__ == "__main__":
    main(*sys.argv[1:4])
