#!/usr/bin/env python3
"""A TCP relay that adds latency, to measure clients as if the API server were far away.

usage: delay_proxy.py --upstream HOST:PORT [--listen HOST:PORT] [--rtt-ms MS] [--port-file F]

Every byte is delivered rtt/2 after it arrived, in each direction, so a request/response
round trip takes `rtt` longer than on loopback. Bytes are relayed untouched (TLS passes
through: the client still verifies the server's certificate), in order, and without a
bandwidth limit: reading never waits for the delay, only delivery does. A new connection
also pays one extra round trip before its first byte reaches the server, as the TCP
handshake would over a real link. The bound port is printed on stdout (and written to
--port-file) once the proxy accepts connections. Stop it with SIGTERM or SIGINT.
"""

import argparse
import asyncio
import collections
import signal
import sys


class DelayedPipe:
    """Copies reader to writer, delivering each chunk `delay` seconds after it was read."""

    def __init__(self, reader, writer, delay, start_at):
        self.reader = reader
        self.writer = writer
        self.delay = delay
        self.start_at = start_at  # nothing is delivered before this loop time
        self.queue = collections.deque()
        self.ready = asyncio.Event()

    async def pump_in(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await self.reader.read(65536)
                due = max(loop.time() + self.delay, self.start_at)
                self.queue.append((due, data))  # b"" marks end of stream
                self.ready.set()
                if not data:
                    return
        except (ConnectionError, OSError):
            self.queue.append((loop.time(), b""))
            self.ready.set()

    async def pump_out(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                while not self.queue:
                    self.ready.clear()
                    await self.ready.wait()
                due, data = self.queue.popleft()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                    return
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass


async def relay(client_reader, client_writer, upstream, delay):
    loop = asyncio.get_running_loop()
    accepted = loop.time()
    host, port = upstream
    try:
        server_reader, server_writer = await asyncio.open_connection(host, port)
    except OSError as e:
        print(f"delay_proxy: cannot reach {host}:{port}: {e}", file=sys.stderr)
        client_writer.close()
        return
    # The handshake round trip: the client's first bytes reach the server one RTT later
    # than a loopback connect would let them.
    up = DelayedPipe(client_reader, server_writer, delay, accepted + 2 * delay)
    down = DelayedPipe(server_reader, client_writer, delay, 0.0)
    try:
        await asyncio.gather(up.pump_in(), up.pump_out(), down.pump_in(), down.pump_out())
    finally:
        for w in (client_writer, server_writer):
            w.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True, help="HOST:PORT to relay to")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")
    p.add_argument("--rtt-ms", type=float, default=25.0, help="added round-trip time")
    p.add_argument("--port-file", help="write the bound port here when ready")
    a = p.parse_args()
    up_host, up_port = a.upstream.rsplit(":", 1)
    listen_host, listen_port = a.listen.rsplit(":", 1)
    delay = a.rtt_ms / 2000.0

    server = await asyncio.start_server(
        lambda r, w: relay(r, w, (up_host, int(up_port)), delay), listen_host, int(listen_port)
    )
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write(f"{port}\n")
    print(port, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
