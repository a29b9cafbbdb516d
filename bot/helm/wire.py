"""The JSON lines the parent and its Helm child exchange: one request per render, one reply each."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from rules.helm.render import Rendered, RenderFailure, RenderRequest

READY = "ready"
NEED_FILES = "need-files"  # the child does not hold the chart (new child, or evicted): send it again


def encode_files(files: Mapping[str, bytes]) -> dict[str, str]:
    """Chart files as JSON strings: bytes travel as base64."""
    return {path: base64.b64encode(content).decode("ascii") for path, content in files.items()}


def decode_files(files: Mapping[str, str]) -> dict[str, bytes]:
    """The inverse of encode_files."""
    return {path: base64.b64decode(content) for path, content in files.items()}


def request_line(chart_id: str, files: Mapping[str, bytes] | None, request: RenderRequest) -> bytes:
    """One render request; `files` only when the child may not hold the chart yet."""
    message = {
        "chart": chart_id,
        "files": None if files is None else encode_files(files),
        "values_files": list(request.values_files),
        "values": dict(request.values),
        "replace": encode_files(request.replace),
        "release": request.release,
        "namespace": request.namespace,
    }
    return json.dumps(message).encode() + b"\n"


def parse_request(message: Mapping[str, Any]) -> RenderRequest:
    """The RenderRequest a request line carries."""
    return RenderRequest(
        values_files=tuple(message["values_files"]),
        values=message["values"],
        replace=decode_files(message["replace"]),
        release=message["release"],
        namespace=message["namespace"],
    )


def reply_line(rendered: Rendered) -> bytes:
    """One render's result."""
    message = {
        "status": "rendered",
        "manifests": [list(pair) for pair in rendered.manifests],
        "failure": None if rendered.failure is None else rendered.failure.value,
        "message": rendered.message,
    }
    return json.dumps(message).encode() + b"\n"


def status_line(status: str) -> bytes:
    """A reply that is not a render: READY or NEED_FILES."""
    return json.dumps({"status": status}).encode() + b"\n"


def parse_reply(message: Mapping[str, Any]) -> Rendered:
    """The Rendered a "rendered" reply carries."""
    failure = message["failure"]
    return Rendered(
        manifests=tuple((str(path), str(text)) for path, text in message["manifests"]),
        failure=None if failure is None else RenderFailure(failure),
        message=str(message["message"]),
    )
