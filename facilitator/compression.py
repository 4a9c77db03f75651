"""Compressed downloads for what every phone fetches and holds nobody's secret: the page
scripts, the style sheets and the feelings-and-needs vocabulary (Flask-Compress: brotli, zstd,
gzip or deflate, whichever the browser takes).

Pages are sent as they are. They carry join and form tokens next to text someone typed, and a
page compressed with both lets whoever can watch the sizes of the traffic guess the token a
character at a time (the BREACH attack)."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

# Endpoints whose responses are the same for everyone who asks.
PUBLIC_ENDPOINTS = frozenset({"static", "vocabulary.catalogue"})

compress = Compress()


def compress_public(response: Response) -> Response:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return compress.after_request(response)
    return response


def init_app(app: Flask) -> None:
    # Not for every response, as Flask-Compress would do by default: only the public ones.
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    app.after_request(compress_public)
