"""`/healthz` and `/metrics`: what a web server and an `unroot worker` both answer about themselves."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from bot.observability import CONTENT_TYPE
from bot.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
WEB = web.AppKey("web", bool)  # set on the web app: it takes webhooks (the worker's status app does not)


async def healthz(request: web.Request) -> web.Response:
    """Readiness: the HTTP session is up and the queue (Redis, when configured) answers."""
    state = request.app[RUNTIME]
    ready = state.session is not None and not state.session.closed
    web_role = request.app.get(WEB, False)
    body: dict[str, object] = {"role": "web" if web_role else "worker"}
    if web_role:
        body["insecure"] = not state.settings.webhook_secret
    try:
        stats = await state.queue.stats()
        body.update(queue=stats.backend, queue_depth=stats.depth, running=stats.running)
        if stats.backend == "redis":
            body["redis"] = "ok"
    except (RedisError, OSError) as error:
        ready = False
        body.update(queue="redis", redis=f"unreachable: {error}")
    worker_up = state.queue.worker_up
    if worker_up is not None:
        # Read without Redis: during an outage too, say whether this process's worker loop is down.
        body["worker"] = "up" if worker_up else "restarting"
        ready = ready and worker_up
    body["status"] = "ok" if ready else ("starting" if state.session is None else "unavailable")
    return web.json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition (queue depth read from the queue, Redis included, on each scrape)."""
    state = request.app[RUNTIME]
    try:
        stats = await state.queue.stats()
        state.metrics.queue_depth.set(stats.depth)
        state.metrics.running.set(stats.running)
        state.metrics.queue_up.set(1)
    except (RedisError, OSError):
        state.metrics.queue_up.set(0)
    if state.queue.worker_up is not None:
        state.metrics.observe_worker(state.queue.worker_up, state.queue.worker_restarts)
    return web.Response(body=state.metrics.render(), headers={"Content-Type": CONTENT_TYPE})


def make_status_app(runtime: Runtime) -> web.Application:
    """`/healthz` and `/metrics` alone, for an `unroot worker` given a port (it takes no webhooks)."""
    app = web.Application()
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
