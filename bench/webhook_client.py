"""A webhook sender for the benchmark, in its own process: `webhook_client.py URL SECRET FILE [CONNECTIONS]`.

Posts each line of FILE (one JSON body a line) to URL, signed as any sender of the signed-webhook API
channel would sign it, over CONNECTIONS keep-alive HTTP/1.1 connections at once (default 4), and fails
unless every answer is 200. It uses nothing of CXM's code.

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


async def send_all(url: str, requests: list[bytes], connections: int) -> None:
    target = urlsplit(url)
    queue = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        try:
            for request in queue:  # a shared iterator: each connection takes the next request
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                if status_line.split()[1:2] != [b"200"]:
                    raise RuntimeError(f"{status_line!r}: {body[:200]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))


def main(url: str, secret: str, path: str, connections: str = "4") -> None:
    requests = signed_requests(url, secret, path)
    started = time.process_time()
    asyncio.run(send_all(url, requests, int(connections)))
    print(f"client CPU {time.process_time() - started:.3f} s for {len(requests)} requests", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
