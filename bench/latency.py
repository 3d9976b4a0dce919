"""A TCP proxy on loopback that delivers every byte the upstream sends ``delay`` seconds late.

It stands in for the distance to a real Auth0 region (50-150 ms away): each answer, and
each step of a TLS handshake, arrives one ``delay`` after the server sent it, while the
client's bytes go through at once. Bytes are forwarded in order and pipelined (a second
answer on the same connection is not held behind the first one's delay), so the proxy
adds latency, not a bandwidth limit. Any client can go through it (reconciler, the
auth0-python SDK, auth0-deploy-cli): it speaks TCP, not HTTP.

    with LatencyProxy("127.0.0.1", upstream_port, delay=0.08) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

_CHUNK = 64 * 1024


class LatencyProxy:
    def __init__(self, host: str, port: int, *, delay: float) -> None:
        self.upstream = (host, port)
        self.delay = delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result()
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._relay, "127.0.0.1", 0, backlog=512)

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.close()
        relays = asyncio.all_tasks(self._loop) - {asyncio.current_task()}
        await asyncio.gather(*relays, return_exceptions=True)

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_in, upstream_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.close()
            return
        self._open |= {client_out, upstream_out}
        await asyncio.gather(
            self._pump(client_in, upstream_out, delay=0.0),
            self._pump(upstream_in, client_out, delay=self.delay),
            return_exceptions=True,
        )
        self._open -= {client_out, upstream_out}

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, delay: float
    ) -> None:
        pending: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = asyncio.ensure_future(self._deliver(pending, sink))
        loop = asyncio.get_running_loop()
        try:
            while chunk := await source.read(_CHUNK):
                pending.put_nowait((loop.time() + delay, chunk))
        except (ConnectionError, asyncio.CancelledError):
            pass
        pending.put_nowait((loop.time() + delay, b""))
        await asyncio.gather(deliver, return_exceptions=True)

    @staticmethod
    async def _deliver(
        pending: asyncio.Queue[tuple[float, bytes]], sink: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                due, chunk = await pending.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    break
                sink.write(chunk)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()
