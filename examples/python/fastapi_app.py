"""FastAPI (uvicorn): POST http://127.0.0.1:8000/callback, with an async decider."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import Response

from common import HOST, PORT, decide, decide_add, handler, on_other
from friendgate.starlette import METHODS, endpoint


async def decide_async(event, item):
    await asyncio.sleep(0)  # e.g. a database or cache lookup
    return decide(event, item)


async def on_other_async(request, body):
    return Response(on_other(request, body), media_type="application/json")


app = FastAPI()
app.add_route(
    "/callback", endpoint(handler, decide_async, decide_add=decide_add, on_other=on_other_async), methods=METHODS
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=HOST, port=PORT, log_level="warning")
