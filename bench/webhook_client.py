"""A webhook sender for the benchmark, in its own process: `webhook_client.py URL SECRET FILE [CONNECTIONS]`.

Posts each line of FILE (one JSON body a line) to URL, signed as any sender of the signed-webhook API
channel would sign it, over CONNECTIONS keep-alive HTTP/1.1 connections at once (default 4), and fails
unless every answer is 200 in the end. A 503 (the intake sheds load when it cannot reach PostgreSQL within its
timeout) is sent again after its Retry-After (capped at a second), as the platforms' senders do, and the
retries are counted and printed. It uses nothing of CXM's code.

The requests are signed and written out before the clock starts, and the client speaks HTTP/1.1 itself on
asyncio streams: a load generator shares the benchmark's two cores with the server, and a general HTTP
client (httpx spends about a millisecond of CPU a request) would take CPU from the server it measures. It
prints the CPU seconds it used, so that the benchmark can say what the load itself cost.
"""

import asyncio
import hashlib
import hmac
import sys
import time
from urllib.parse import urlsplit


def signed_requests(url: str, secret: str, path: str) -> list[bytes]:
    target = urlsplit(url)
    requests = []
    with open(path, "rb") as lines:
        for line in lines:
            body = line.rstrip(b"\n")
            timestamp = str(int(time.time()))
            digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            head = (
                f"POST {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\nContent-Type: application/json\r\n"
                f"X-CXM-Timestamp: {timestamp}\r\nX-CXM-Signature: sha256={digest}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            requests.append(head.encode() + body)
    return requests


RETRIES = 20  # a sender gives up on a request after so many 503s; the benchmark then fails


async def send_all(url: str, requests: list[bytes], connections: int) -> int:
    target = urlsplit(url)
    queue = iter(requests)
    retried = 0

    async def connection() -> None:
        nonlocal retried
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        try:
            for request in queue:  # a shared iterator: each connection takes the next request
                for attempt in range(RETRIES + 1):
                    writer.write(request)
                    status_line = await reader.readline()
                    length, retry_after = 0, 1.0
                    while (header := await reader.readline()) not in (b"\r\n", b""):
                        name, _, value = header.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                        elif name.strip().lower() == b"retry-after":
                            retry_after = min(float(value), 1.0)
                    body = await reader.readexactly(length)
                    status = status_line.split()[1:2]
                    if status == [b"503"] and attempt < RETRIES:
                        retried += 1
                        await asyncio.sleep(retry_after)
                        continue
                    if status != [b"200"]:
                        raise RuntimeError(f"{status_line!r}: {body[:200]!r}")
                    break
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return retried


def main(url: str, secret: str, path: str, connections: str = "4") -> None:
    requests = signed_requests(url, secret, path)
    started = time.process_time()
    retried = asyncio.run(send_all(url, requests, int(connections)))
    print(
        f"client CPU {time.process_time() - started:.3f} s for {len(requests)} requests "
        f"({retried} sent again after a 503)",
        flush=True,
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
