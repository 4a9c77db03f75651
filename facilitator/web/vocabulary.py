"""The feelings-and-needs catalogue for the phones' chip picker, one JSON file per language."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from werkzeug.wrappers import Response

from facilitator.domain.common import LANGUAGES
from facilitator.domain.vocabulary import default_vocabulary

bp = Blueprint("vocabulary", __name__)

# The vocabulary changes only with a new release, and holds nobody's answers.
CACHE_SECONDS = 3600


@bp.route("/vocabulary/<language>.json")
def catalogue(language: str) -> Response:
    if language not in LANGUAGES:
        abort(404)
    response = jsonify(default_vocabulary().catalogue(language))
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
