"""Every response given while a write is unfinished says so (graph.unfinished), whatever it
answers: a ``Laborgraph-Unfinished-Write`` header naming the write, so that no API client
takes an answer that may hold part of a revision for one of a finished graph. The HTML pages
also show it on the page; ``GET /health`` gives it as ``unfinished_write``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from laborgraph.app.holder import StoreHolder
from laborgraph.graph.errors import GraphError

UNFINISHED_HEADER = "Laborgraph-Unfinished-Write"


class UnfinishedWriteHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        holder: StoreHolder | None = (
            getattr(scope["app"].state, "holder", None) if scope["type"] == "http" else None
        )
        if holder is None:
            await self.app(scope, receive, send)
            return

        async def send_noting_an_unfinished_write(message: Message) -> None:
            if message["type"] == "http.response.start":  # once the answer is made: a write may have begun
                notice = await run_in_threadpool(_unfinished, holder)
                if notice is not None:
                    MutableHeaders(scope=message)[UNFINISHED_HEADER] = notice
            await send(message)

        await self.app(scope, receive, send_noting_an_unfinished_write)


def _unfinished(holder: StoreHolder) -> str | None:
    try:
        mark = holder.get().unfinished_write()
    except GraphError:  # an unreachable store: the response says so itself
        return None
    if mark is None:
        return None
    return " ".join(mark.describe().split()).encode("ascii", "replace").decode("ascii")
