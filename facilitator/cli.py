"""Commands for whoever runs the server: therapist accounts, the demo account, purging records."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from facilitator import credentials
from facilitator.extensions import db
from facilitator.store import accounts, crypto
from facilitator.store import live as store
from facilitator.store.models import Therapist
from facilitator.web import auth_sessions

DEMO_EMAIL = "demo@example.org"
DEMO_NAME = "Demo Therapist"
PASSWORD_PROBLEMS = {
    "too_short": f"The password must be at least {credentials.MIN_PASSWORD_LENGTH} characters.",
    "too_long": f"The password must be at most {credentials.MAX_PASSWORD_LENGTH} characters.",
    "easy_to_guess": "This password is too easy to guess. Try three or four unrelated words.",
}


def add_therapist(email: str, name: str, password: str, is_admin: bool = False) -> Therapist:
    therapist = accounts.add_therapist(email, name, password, is_admin=is_admin)
    db.session.commit()
    return therapist


@click.command("create-therapist")
@with_appcontext
@click.option("--email", required=True, help="The e-mail the therapist signs in with.")
@click.option("--name", required=True, help="The name families see, e.g. “Dr. Rivera”.")
@click.option(
    "--password",
    default=None,
    help="Leave it out to be asked for one; an empty answer generates one.",
)
@click.option("--admin", is_flag=True, help="May add therapists and reset their passwords.")
def create_therapist(email: str, name: str, password: str | None, admin: bool) -> None:
    """Create a therapist account."""
    email = email.strip().lower()
    name = " ".join(name.split())
    if not credentials.EMAIL_PATTERN.fullmatch(email) or len(email) > 254:
        raise click.ClickException(f"{email!r} does not look like an e-mail address.")
    if not name or len(name) > 120:
        raise click.ClickException("The name must be 1 to 120 characters.")
    if db.session.scalar(select(Therapist).where(Therapist.email == email)):
        raise click.ClickException(f"There is already a therapist with the e-mail {email}.")
    if password is None:
        password = click.prompt(
            "Password (press Enter to generate one)",
            hide_input=True,
            confirmation_prompt=True,
            default="",
            show_default=False,
        )
    generated = not password
    if generated:
        password = credentials.generate_password()
    elif problem := credentials.password_problem(password, (email, name)):
        raise click.ClickException(PASSWORD_PROBLEMS[problem])
    add_therapist(email, name, password, is_admin=admin)
    role = "administrator" if admin else "therapist"
    click.echo(f"Created the {role} {name} <{email}>.")
    if generated:
        click.echo(f"Password (shown only this once): {password}")


@click.command("ensure-demo-therapist")
@with_appcontext
def ensure_demo_therapist() -> None:
    """Create a demo account to try the app, but only when there is no therapist at all."""
    if db.session.scalar(select(func.count()).select_from(Therapist)):
        click.echo("A therapist account already exists; nothing to do.")
        return
    password = credentials.generate_password()
    # The only account of a new install administers it, so more can be added in the app.
    add_therapist(DEMO_EMAIL, DEMO_NAME, password, is_admin=True)
    click.echo(f"Created the demo therapist {DEMO_EMAIL}.")
    click.echo(f"Password (shown only this once): {password}")


@click.command("make-admin")
@with_appcontext
@click.option("--email", required=True, help="The e-mail of an existing therapist.")
@click.option("--revoke", is_flag=True, help="Take the administrator's rights away instead.")
def make_admin(email: str, revoke: bool) -> None:
    """Let a therapist add therapists and reset passwords (the clinic administrator)."""
    therapist = accounts.find_therapist(email)
    if therapist is None:
        raise click.ClickException(f"There is no therapist with the e-mail {email.strip()}.")
    therapist.is_admin = not revoke
    action = "admin_revoked" if revoke else "admin_granted"
    store.audit(None, action, None, f"therapist {therapist.id}")
    db.session.commit()
    state = "no longer an administrator" if revoke else "now an administrator"
    click.echo(f"{therapist.name} <{therapist.email}> is {state}.")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete sessions that ended longer ago than the retention limit."""
    days = current_app.config["RETENTION_DAYS"]
    count = store.purge_expired(days)
    noun = "session" if count == 1 else "sessions"
    click.echo(
        f"Deleted {count} {noun} past the retention limit "
        f"({days} days, or the therapist's own setting)."
    )
    signed_out = auth_sessions.purge_stale()
    click.echo(f"Forgot {signed_out} expired sign-in(s).")


ROTATION_PASSES = 5
ROTATION_GRACE_SECONDS = 1.0


def reencrypt_everything(ring: crypto.Keyring) -> int:
    """Bring every encrypted row under the newest key; a pass finding none left ends it.

    Another pass is needed only when a server wrote a row under the older key meanwhile.
    """
    columns = crypto.encrypted_columns(db.metadata)
    changed = 0
    with db.engine.connect() as connection:
        for _ in range(ROTATION_PASSES):
            changed += sum(crypto.reencrypt_column(connection, c, ring) for c in columns)
            if not any(crypto.count_stale(connection, c, ring) for c in columns):
                return changed
    raise click.ClickException(
        "Some rows kept changing under the older key; the older keys were kept. Run it again."
    )


@click.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Encrypt every stored answer, note and record under a new data key."""
    ring = crypto.keyring()
    if ring.from_file:
        retiring = ring.keys
        fresh = crypto.new_key()
        # Running servers read the file again when it changes: from now on they encrypt with
        # the new key and still read the old one, while the rows are re-encrypted below.
        crypto.write_key_file(ring.key_file, [fresh, *retiring])
        # A write that began just before, under the old key, has committed by then.
        time.sleep(ROTATION_GRACE_SECONDS)
        changed = reencrypt_everything(ring)
        crypto.write_key_file(ring.key_file, [fresh])
        click.echo(f"Re-encrypted {changed} rows under a new key in {ring.key_file}.")
        click.echo(f"The {len(retiring)} older key(s) were removed: no row needs them any more.")
        return
    changed = reencrypt_everything(ring)
    click.echo(f"Re-encrypted {changed} rows under the first key of {crypto.KEYS_VARIABLE}.")
    if len(ring.keys) > 1:
        click.echo(f"No row needs the other keys: remove them from {crypto.KEYS_VARIABLE}.")
    else:
        click.echo(
            f"To change the key, put a new one first in {crypto.KEYS_VARIABLE}, e.g. "
            f"{crypto.new_key()}, keep the current one after it, restart the servers, "
            "then run this again."
        )


def init_app(app: Flask) -> None:
    for command in (create_therapist, ensure_demo_therapist, make_admin, purge, rotate_key):
        app.cli.add_command(command)
