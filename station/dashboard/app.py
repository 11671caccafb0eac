"""The web application (Starlette): pages, their JSON API and CSV, live events, login; read-only throughout.

>>> from starlette.testclient import TestClient
>>> import tempfile; from station.dashboard.source import scratch_source
>>> with tempfile.TemporaryDirectory() as folder:
...     client = TestClient(build_app(scratch_source(folder)))
...     client.get("/api/line").json()["stations"], client.get("/csv/line/stations.csv").text.split(",")[0]
(0, 'station')
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from station.core.errors import RecordError
from station.dashboard import live
from station.dashboard.auth import COOKIE, SESSION_SECONDS, Accounts, allowed
from station.dashboard.failures import failure_records, failures_page
from station.dashboard.lineview import line_page
from station.dashboard.openapi import document
from station.dashboard.profiles import profiles_page
from station.dashboard.report import report_page
from station.dashboard.source import Session, Source
from station.dashboard.tables import Link, Mark, Page, to_csv
from station.dashboard.units import record_page, unit_page
from station.dashboard.windows import BadWindow
from station.records.model import rfc3339, utc_now

log = logging.getLogger(__name__)
HEADERS = [  # no script or style from anywhere but the application; no framing; no caching of figures
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
NAV = (
    ("line", "/", "Line"),
    ("failures", "/failures", "Failures"),
    ("unit", "/unit", "Unit"),
    ("profiles", "/profiles", "Lots / profiles"),
    ("report", "/report", "Shift report"),
)


def _text(request: Request, name: str, limit: int = 200) -> str | None:
    value = request.query_params.get(name)
    return value[:limit] if value else None


def _window(request: Request, default: str) -> dict[str, Any]:
    return {
        "name": _text(request, "window", 20) or default,
        "start": _text(request, "from", 40),
        "end": _text(request, "to", 40),
    }


def _page_number(request: Request) -> int:
    try:
        return min(max(int(request.query_params.get("page", "1")), 1), 10_000)
    except ValueError:
        raise BadWindow("page must be a number") from None


def _or_none(value: str | None) -> str | None:
    return value if value else None


Builder = Callable[[Session, Request, str], Page | None]
PAGES: dict[str, Builder] = {
    "line": lambda s, r, now: line_page(s, now=now, name=_text(r, "window", 20) or "shift"),
    "failures": lambda s, r, now: failures_page(
        s, now=now, station=_text(r, "station", 80), **_window(r, "shift")
    ),
    "failures/records": lambda s, r, now: failure_records(
        s,
        start=_text(r, "from", 40) or "",
        end=_text(r, "to", 40) or "",
        step=_or_none(r.query_params.get("step")),
        code=_or_none(r.query_params.get("code")),
        station=_text(r, "station", 80),
        page=_page_number(r),
    ),
    "unit": lambda s, r, now: (
        unit_page(s, r.query_params.get("q", "")) if r.query_params.get("q") else Page("Unit")
    ),
    "profiles": lambda s, r, now: profiles_page(s, now=now, **_window(r, "week")),
    "report": lambda s, r, now: report_page(s, now=now, **_window(r, "shift")),
}


class Dashboard:
    """The pages over one ``Source``; ``clock`` gives now as RFC 3339 text (tests and the bench set it)."""

    def __init__(
        self,
        source: Source,
        *,
        accounts: Accounts | None = None,
        clock: Callable[[], str] | None = None,
        poll: float = live.POLL,
        tick: float = live.TICK,
    ) -> None:
        self.source, self.accounts = source, accounts
        self.clock = clock or (lambda: rfc3339(utc_now()))
        self.poll, self.tick = poll, tick
        self.streams = live.Streams()
        folder = resources.files("station.dashboard")
        loader = jinja2.FileSystemLoader(str(folder.joinpath("templates")))
        self.templates = Jinja2Templates(env=jinja2.Environment(loader=loader, autoescape=True))
        self.templates.env.globals.update(
            nav=NAV, is_link=lambda c: isinstance(c, Link), is_mark=lambda c: isinstance(c, Mark)
        )
        self.static = str(folder.joinpath("static"))

    def build(self, name: str, request: Request) -> Page | None:
        with self.source.session() as session:
            return PAGES[name](session, request, self.clock())

    def render(
        self, request: Request, name: str, page: Page | None, *, status: int = 200, **extra: Any
    ) -> Response:
        context = {
            "page": page,
            "name": name,
            "query": request.url.query,
            "login": _login(request),
            "source": self.source.name,
            **extra,
        }
        return self.templates.TemplateResponse(
            request, extra.pop("template", "page.html"), context, status_code=status
        )

    def handler(self, name: str) -> Callable[[Request], Any]:
        async def page(request: Request) -> Response:
            return await self._answer(request, name, lambda page: self.render(request, name, page))

        return page

    async def fragment(self, request: Request) -> Response:
        name = request.path_params["page"]
        if name not in PAGES:
            return PlainTextResponse("no such page", status_code=404)
        return await self._answer(
            request, name, lambda page: self.render(request, name, page, template="content.html")
        )

    async def api(self, request: Request) -> Response:
        name = request.path_params["page"]
        if name not in PAGES:
            return JSONResponse({"error": "no such page"}, status_code=404)
        return await self._answer(
            request, name, lambda page: JSONResponse(page.to_json() if page else {}), json=True
        )

    async def csv(self, request: Request) -> Response:
        name, table_name = request.path_params["page"], request.path_params["table"]
        if name not in PAGES:
            return PlainTextResponse("no such page", status_code=404)

        def answer(page: Page | None) -> Response:
            table = None if page is None else page.table(table_name)
            if table is None:
                return PlainTextResponse("no such table", status_code=404)
            filename = f"{name.replace('/', '-')}-{table.name}.csv"
            return Response(
                to_csv(table),
                media_type="text/csv; charset=utf-8",
                headers={"content-disposition": f'attachment; filename="{filename}"'},
            )

        return await self._answer(request, name, answer)

    async def record(self, request: Request) -> Response:
        def build() -> Page | None:
            with self.source.session() as session:
                return record_page(session, request.path_params["record_id"])

        json = request.url.path.startswith("/api/")
        try:
            page = await _thread(build)
        except RecordError as exc:
            return self._trouble(request, exc, json=json)
        if page is None:
            message = "no record with this id"
            return (
                JSONResponse({"error": message}, 404)
                if json
                else self.render(request, "unit", None, status=404, error=message)
            )
        return JSONResponse(page.to_json()) if json else self.render(request, "unit", page, no_csv=True)

    async def _answer(
        self, request: Request, name: str, respond: Callable[[Page | None], Response], *, json: bool = False
    ) -> Response:
        try:
            page = await _thread(lambda: self.build(name, request))
        except BadWindow as exc:
            if json:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return self.render(request, name, None, status=400, error=str(exc))
        except RecordError as exc:
            return self._trouble(request, exc, json=json)
        return respond(page)

    def _trouble(self, request: Request, exc: RecordError, *, json: bool) -> Response:
        log.warning("dashboard: %s", exc)  # the message names the database without its password
        message = "the database does not answer; the page will be back when it does"
        if json:
            return JSONResponse({"error": message}, status_code=503)
        return self.render(request, "line", None, status=503, error=message)

    async def events(self, request: Request) -> Response:
        if not self.streams.take():
            return PlainTextResponse("too many open pages", status_code=503)
        stream = live.events(self.source, self.streams, poll=self.poll, tick=self.tick)
        return StreamingResponse(stream, media_type="text/event-stream", headers={"x-accel-buffering": "no"})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(document())

    async def login_form(self, request: Request) -> Response:
        return self.render(request, "login", None, template="login.html")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        badge, pin = str(form.get("badge", ""))[:64], str(form.get("pin", ""))[:64]
        token = None if self.accounts is None else await _thread(lambda: self.accounts.login(badge, pin))  # type: ignore[union-attr]
        if token is None:
            return self.render(
                request, "login", None, template="login.html", status=401, error="login refused"
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE, token, max_age=SESSION_SECONDS, httponly=True, secure=True, samesite="strict"
        )
        return response

    async def logout(self, request: Request) -> Response:
        if self.accounts is not None:
            self.accounts.logout(request.cookies.get(COOKIE))
        response = RedirectResponse("/login" if self.accounts else "/", status_code=303)
        response.delete_cookie(COOKIE)
        return response


async def _thread(work: Callable[[], Any]) -> Any:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(work)


def _login(request: Request) -> Any:
    return request.scope.get("login")


class Guard:
    """Security headers on every answer; with accounts, a login (and a role) before any page."""

    def __init__(self, app: ASGIApp, accounts: Accounts | None) -> None:
        self.app, self.accounts = app, accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *HEADERS]
            await send(message)

        path = scope["path"]
        if self.accounts is not None and not path.startswith(("/login", "/static/")):
            login = self.accounts.session(Request(scope).cookies.get(COOKIE))
            if login is None:
                response: Response = RedirectResponse("/login", status_code=303)
                if path.startswith(("/api/", "/csv/", "/events")):
                    response = JSONResponse({"error": "log in first"}, status_code=401)
                await response(scope, receive, with_headers)
                return
            if not allowed(login.role, path):
                await PlainTextResponse("your role may not see this page", status_code=403)(
                    scope, receive, with_headers
                )
                return
            scope["login"] = login
        await self.app(scope, receive, with_headers)


def build_app(source: Source, *, accounts: Accounts | None = None, **options: Any) -> ASGIApp:
    """The application; without ``accounts`` every page is open (it listens on localhost only)."""
    board = Dashboard(source, accounts=accounts, **options)
    routes = [
        Route("/", board.handler("line")),
        Route("/failures", board.handler("failures")),
        Route("/failures/records", board.handler("failures/records")),
        Route("/unit", board.handler("unit")),
        Route("/record/{record_id}", board.record),
        Route("/profiles", board.handler("profiles")),
        Route("/report", board.handler("report")),
        Route("/api/openapi.json", board.openapi),
        Route("/api/record/{record_id}", board.record),
        Route("/api/{page:path}", board.api),
        Route("/csv/{page:path}/{table}.csv", board.csv),
        Route("/fragment/{page:path}", board.fragment),
        Route("/events", board.events),
        Route("/login", board.login_form, methods=["GET"]),
        Route("/login", board.login, methods=["POST"]),
        Route("/logout", board.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=board.static), name="static"),
    ]
    return Guard(Starlette(routes=routes), accounts)
