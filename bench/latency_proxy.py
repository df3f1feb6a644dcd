#!/usr/bin/env python3
"""A TCP proxy on loopback that adds a fixed delay to every reply, as a remote store's round
trip would: each chunk the server sends reaches the client DELAY ms later (order kept). With a
local S3 server (s3rver) behind it, a request costs about one DELAY more, as it does against
S3 in another data centre.

    bench/latency_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS

Prints "ready" once it listens; runs until killed.
"""
import asyncio
import sys


async def pump(reader, writer, delay):
    """Forwards what `reader` yields to `writer`, each chunk `delay` s after it arrived: a fixed
    latency, not a bandwidth limit (chunks in flight overlap)."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def receive():
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((loop.time() + delay, data))
                if not data:
                    return
        except ConnectionError:
            await queue.put((loop.time(), b""))

    receiver = asyncio.ensure_future(receive())
    try:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        receiver.cancel()
        try:
            writer.close()
        except Exception:
            pass


async def serve(upstream_port, delay, client_reader, client_writer):
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, up_writer, 0), pump(up_reader, client_writer, delay))


async def main():
    listen_port, upstream_port, delay_ms = (int(a) for a in sys.argv[1:4])
    server = await asyncio.start_server(
        lambda r, w: serve(upstream_port, delay_ms / 1000.0, r, w), "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
