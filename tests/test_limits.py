"""Every request has a size limit, and ids no row can have are simply not found, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import pytest

from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Family
from tests.conftest import make_therapist, sign_in
from tests.planted import planting_exercise
from tests.test_encryption import app_on
from tests.test_scaling import postgres_url  # noqa: F401  (a fixture)

TEN_MB = 10 * 1024 * 1024


def test_a_ten_megabyte_form_is_refused_with_a_calm_page_not_read(therapist_client):
    response = therapist_client.post("/families/new", data={"name": "x" * TEN_MB})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Too much at once" in page
    assert len(page) < 10_000, "nothing of what was sent is echoed back"
    assert db.session.query(Family).count() == 0


def test_a_phone_sending_ten_megabytes_to_join_is_refused(app, therapist):
    live = store.open_session(therapist, planting_exercise())
    response = app.test_client().post(f"/join/{live.join_code}", data={"name": "x" * TEN_MB})
    assert response.status_code == 413
    assert store.load_state(store.get_session(live.id)).participants == {}


def test_the_exercise_editor_allows_more_but_not_ten_megabytes(therapist_client):
    response = therapist_client.post("/exercises/new", data={"title_en": "x" * TEN_MB})
    assert response.status_code == 413


def test_the_limit_is_one_megabyte_and_the_import_fits_within_it(app):
    from facilitator.web.exercises import MAX_EDITOR_REQUEST_BYTES, MAX_IMPORT_REQUEST_BYTES

    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] >= MAX_IMPORT_REQUEST_BYTES
    assert MAX_EDITOR_REQUEST_BYTES < TEN_MB


def test_a_form_under_the_limit_is_read(therapist_client):
    response = therapist_client.post("/families/new", data={"name": "García", "pad": "x" * 500_000})
    assert response.status_code == 302


HUGE_IDS = ["99999999999999999999", "9223372036854775808", "2147483648"]


def huge_id_pages(huge: str) -> list[str]:
    return [
        f"/families/{huge}",
        f"/families/{huge}/sessions/new",
        f"/exercises/{huge}",
        f"/exercises/{huge}/edit",
    ]


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_too_large_for_the_database_are_not_found_on_sqlite(therapist_client, huge):
    for page in huge_id_pages(huge):
        assert therapist_client.get(page).status_code == 404, page
    posted = therapist_client.post(f"/families/{huge}/delete", data={"confirm": "y"})
    assert posted.status_code == 404


def test_ids_too_large_for_the_database_are_not_found_on_postgresql(postgres_url, tmp_path):  # noqa: F811
    app = app_on(postgres_url, tmp_path, TESTING=False)
    with app.app_context():
        db.create_all()
        make_therapist("rivera@clinic.test")
        client = app.test_client()
        sign_in(client, "rivera@clinic.test")
        for huge in HUGE_IDS:
            for page in huge_id_pages(huge):
                assert client.get(page).status_code == 404, page
        assert client.get("/families/2147483647").status_code == 404, "the largest id is fine"
        db.session.remove()
        db.engine.dispose()
