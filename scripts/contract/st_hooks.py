"""Schemathesis hooks for the API contract check (scripts/test loads them with
SCHEMATHESIS_HOOKS=st_hooks).

`GET /api/stream` follows new events forever unless `follow=false`. Every case schemathesis sends
to it gets `follow=false`, so a 200 is bounded (the missed events, then the end) and its frames are
checked against the 200's `itemSchema`. The exception: cases whose *query* is deliberately invalid
go as generated. The server must refuse those with a 400 before streaming; one it wrongly accepted
would stream until --request-timeout and fail negative_data_rejection. Adding a valid `follow` to
such a query would hide that (schemathesis 4.32.5 then counts the case as possibly valid).
"""
import schemathesis
from schemathesis.core.parameters import ParameterLocation

STREAM_PATH = "/api/stream"


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != STREAM_PATH or case.method.upper() != "GET":
        return
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.QUERY):
        return
    query = case.query if isinstance(case.query, dict) else {}
    query["follow"] = "false"  # a string: Python's False would be sent as "False"
    case.query = query
