"""Health data encrypted at rest: the data keys, and column types that encrypt what they store."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from facilitator import fastjson

KEYS_VARIABLE = "DATA_ENCRYPTION_KEYS"
KEY_FILE_NAME = "data_keys"
# A Fernet token is URL-safe base64 of a version byte 0x80 followed by the timestamp: it always
# starts like this, and no JSON text (what was stored before encryption) ever does.
TOKEN_PREFIX = "gAAAAA"
ROTATION_BATCH = 200


class UnreadableDataError(RuntimeError):
    """Stored data this server cannot decrypt: its key is missing, or the bytes were altered."""

    def __init__(self) -> None:
        super().__init__(
            "Encrypted data in the database cannot be read with this server's data keys: the "
            f"key that encrypted it is not among {KEYS_VARIABLE} (or instance/{KEY_FILE_NAME}), "
            "or the stored bytes were altered. Restore the missing key; nothing was changed."
        )


class KeyConfigError(RuntimeError):
    """The configured data keys are not valid Fernet keys."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(text: str) -> list[str]:
    """Keys separated by commas or lines, newest (the one that encrypts) first."""
    keys = [part.strip() for part in text.replace("\n", ",").split(",")]
    keys = [key for key in keys if key and not key.startswith("#")]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise KeyConfigError(
                f"A data key in {KEYS_VARIABLE} or instance/{KEY_FILE_NAME} is not a valid key "
                "(32 bytes in URL-safe base64, as `flask rotate-key` makes them)."
            ) from None
    return keys


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file in one step, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(keys) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


class Keyring:
    """The data keys: the first encrypts, every one decrypts.

    Keys from the environment are fixed for the life of the process. Keys from the key file are
    read again whenever the file changes, so a running server picks up the new key while
    `flask rotate-key` re-encrypts the rows (see the README's steps for rotating a key).
    """

    def __init__(self, keys: list[str] | None = None, key_file: Path | None = None):
        self.key_file = key_file
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: list[str] = []
        self._cipher: MultiFernet | None = None
        if keys:
            self._use(keys)
        elif key_file is None:
            raise KeyConfigError("A keyring needs keys or a key file.")
        else:
            self._ensure_key_file()
            self._reload_if_changed()

    @classmethod
    def from_config(cls, environment_keys: str, instance_path: Path) -> Keyring:
        if environment_keys.strip():
            return cls(keys=parse_keys(environment_keys))
        return cls(key_file=instance_path / KEY_FILE_NAME)

    @property
    def from_file(self) -> bool:
        return self.key_file is not None

    @property
    def keys(self) -> list[str]:
        self._reload_if_changed()
        return list(self._keys)

    def _use(self, keys: list[str]) -> None:
        self._keys = keys
        self._cipher = MultiFernet([Fernet(key) for key in keys])

    def _ensure_key_file(self) -> None:
        """The first run makes the key; two processes starting at once agree on one."""
        assert self.key_file is not None
        if self.key_file.exists():
            return
        draft = self.key_file.with_name(f"{self.key_file.name}.{os.getpid()}")
        write_key_file(draft, [new_key()])
        try:
            os.link(draft, self.key_file)  # fails if another process made it first
        except FileExistsError:
            pass
        finally:
            draft.unlink()

    def _reload_if_changed(self) -> None:
        if self.key_file is None:
            return
        try:
            status = self.key_file.stat()
        except FileNotFoundError:
            if self._cipher is None:
                raise
            # Removed under a running server: the keys it holds still read and write.
            return
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            keys = parse_keys(self.key_file.read_text())
            if not keys:
                raise KeyConfigError(f"instance/{KEY_FILE_NAME} holds no key.")
            self._use(keys)
            self._stamp = stamp

    def _current(self) -> MultiFernet:
        self._reload_if_changed()
        assert self._cipher is not None
        return self._cipher

    def encrypt(self, plaintext: str) -> str:
        # Surrogates pass through escaped, so text that is not valid Unicode is kept, not lost.
        data = plaintext.encode("utf-8", "surrogatepass")
        return self._current().encrypt(data).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            data = self._current().decrypt(token.encode("ascii"))
        except InvalidToken:
            raise UnreadableDataError() from None
        return data.decode("utf-8", "surrogatepass")

    def rotate(self, stored: str) -> str:
        """A stored value encrypted under the newest key; plaintext from before is encrypted."""
        if not is_token(stored):
            return self.encrypt(stored)
        try:
            return self._current().rotate(stored.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise UnreadableDataError() from None

    def is_current(self, stored: str) -> bool:
        """Whether a stored value is already encrypted under the newest key."""
        if not is_token(stored):
            return False
        try:
            Fernet(self._current_key()).decrypt(stored.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def _current_key(self) -> str:
        self._reload_if_changed()
        return self._keys[0]


def is_token(stored: str) -> bool:
    return stored.startswith(TOKEN_PREFIX)


def keyring() -> Keyring:
    return current_app.extensions["data_keyring"]


def init_app(app: Any) -> None:
    app.extensions["data_keyring"] = Keyring.from_config(
        app.config.get(KEYS_VARIABLE) or "", Path(app.instance_path)
    )


class EncryptedText(TypeDecorator):
    """Text encrypted with the data keys. Plain text stored before encryption is still read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None or not is_token(value):
            return value
        return keyring().decrypt(value)


class EncryptedJSON(TypeDecorator):
    """JSON encrypted with the data keys. Plain JSON stored before encryption is still read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(fastjson.dumps(value))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            # A PostgreSQL JSON column not yet migrated hands back parsed data.
            return value
        return json.loads(keyring().decrypt(value) if is_token(value) else value)


# --- re-encrypting what is stored ---------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    table: Any
    column: str

    @property
    def key(self) -> Any:
        (primary,) = self.table.primary_key.columns
        return primary


def encrypted_columns(metadata: Any) -> list[EncryptedColumn]:
    """Every column of the schema stored encrypted, read off the models' column types."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                found.append(EncryptedColumn(table, column.name))
    return found


def _stale_rows(
    connection: Connection, target: EncryptedColumn, ring: Keyring
) -> Iterator[list[tuple[Any, str]]]:
    """Rows not yet under the newest key, in batches, read as stored (no decryption)."""
    raw = target.table.c[target.column].cast(Text)
    last = None
    while True:
        query = select(target.key, raw).where(raw.is_not(None)).order_by(target.key)
        if last is not None:
            query = query.where(target.key > last)
        rows = connection.execute(query.limit(ROTATION_BATCH)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [(key, value) for key, value in rows if not ring.is_current(value)]


def reencrypt_column(
    connection: Connection, target: EncryptedColumn, ring: Keyring, commit: bool = True
) -> int:
    """Re-encrypt one column's rows under the newest key, a short transaction per batch.

    Plaintext stored before encryption is encrypted. Each update applies only if the row still
    holds what was read, so a server writing the same row meanwhile (under the newest key
    already) is never overwritten with older content.
    """
    column = target.table.c[target.column]
    statement = (
        update(target.table)
        .where(target.key == bindparam("row_key"), column.cast(Text) == bindparam("old"))
        # Typed as plain text: the value is already encrypted, the column type must not again.
        .values({target.column: bindparam("new", type_=Text())})
    )
    changed = 0
    for batch in _stale_rows(connection, target, ring):
        if batch:
            values = [{"row_key": k, "old": v, "new": ring.rotate(v)} for k, v in batch]
            connection.execute(statement, values)
            changed += len(values)
        if commit:
            connection.commit()
    return changed


def count_stale(connection: Connection, target: EncryptedColumn, ring: Keyring) -> int:
    return sum(len(batch) for batch in _stale_rows(connection, target, ring))
