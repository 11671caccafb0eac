"""The OpenAPI document of the JSON API (``/api/openapi.json``), for an MES or a spreadsheet that pulls.

>>> document()["paths"]["/api/failures"]["get"]["parameters"][0]["name"]
'window'
"""

from __future__ import annotations

from typing import Any

from station import __version__

_WINDOW = [
    {
        "name": "window",
        "in": "query",
        "schema": {"type": "string", "enum": ["shift", "day", "week"]},
        "description": "shift: last 8 hours, day: last 24 hours, week: last 7 days",
    },
    {
        "name": "from",
        "in": "query",
        "schema": {"type": "string", "format": "date-time"},
        "description": "start of a custom window (with `to`, at most 31 days)",
    },
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}},
]
_STATION = {"name": "station", "in": "query", "schema": {"type": "string"}}
_PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}
_TABLE = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "object"}},
        "note": {"type": "string"},
    },
}
ENDPOINTS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "/api/line": (
        "Each station's state, last record, units per hour, first-pass yield, open failures",
        _WINDOW[:1],
    ),
    "/api/failures": ("Pareto of FAIL/ERROR records by step and failure code", [*_WINDOW, _STATION]),
    "/api/failures/records": (
        "The records of one Pareto bar (paginated, 100 a page)",
        [
            *_WINDOW[1:],
            {"name": "step", "in": "query", "schema": {"type": "string"}},
            {"name": "code", "in": "query", "schema": {"type": "string"}},
            _STATION,
            _PAGE,
        ],
    ),
    "/api/unit": (
        "A unit's whole history, each record verified",
        [
            {
                "name": "q",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "maxLength": 200},
                "description": "devid, genuine id, record id or reader DeviceId",
            }
        ],
    ),
    "/api/record/{record_id}": (
        "One record, verified",
        [{"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    ),
    "/api/profiles": ("Units made and first-pass yield per profile and day", _WINDOW),
    "/api/report": (
        "The shift report: yield, counts by outcome and reason, stations and record id ranges",
        _WINDOW,
    ),
}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, (summary, parameters) in ENDPOINTS.items():
        paths[path] = {
            "get": {
                "summary": summary,
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": "figures and tables",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "title": {"type": "string"},
                                        "tables": {"type": "object", "additionalProperties": _TABLE},
                                    },
                                }
                            }
                        },
                    },
                    "400": {"description": "a parameter the API refuses (the message says which)"},
                    "503": {"description": "the database does not answer"},
                },
            }
        }
    paths["/csv/{page}/{table}.csv"] = {
        "get": {
            "summary": "Any table of a page as CSV (same query parameters as the page)",
            "parameters": [
                {"name": "page", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "table", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PPA line dashboard",
            "version": __version__,
            "description": "Read-only figures of the line database (docs/dashboard.md)",
        },
        "paths": paths,
    }
