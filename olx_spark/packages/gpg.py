"""Decrypt one GPG file as a stream, with python-gnupg, on whichever process reads it.

python-gnupg runs `gpg --decrypt` as a child process; its `on_data` hook hands us gpg's output
chunk by chunk, which we pass through a small bounded queue to a file-like reader. So plaintext
never touches disk and memory stays at a few MiB whatever the file's size; a slow reader slows gpg
down instead of buffering. gpg only reports a corrupt or truncated file at the end, so the reader
raises `DecryptError` when it reaches the end of a file that did not decrypt cleanly: callers
must treat everything read from such a file as void.

The passphrase travels only as a `Secret` (its repr is masked), goes to gpg on its stdin (never a
command-line argument) and never into a message: errors say which environment variable or
secrets file was used, not what it holds.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from olx_spark.config import PackagesConfig

log = logging.getLogger(__name__)
# python-gnupg logs gpg's status lines at debug level and warnings for every failure; our errors
# say what matters, so keep its chatter out of the job's logs.
logging.getLogger("gnupg").setLevel(logging.ERROR)

CHUNK_BYTES = 256 * 1024
QUEUE_CHUNKS = 16
_EOF = b""
# gpg error codes (libgpg-error), the low 16 bits of `ERROR pkdecrypt_failed <code>`.
GPG_ERR_BAD_PASSPHRASE = 11
_PKDECRYPT = re.compile(r"^\[GNUPG:\] ERROR pkdecrypt_failed (\d+)", re.MULTILINE)


class Secret:
    """A value that must not be shown: repr/str are masked, `reveal()` gives it to gpg only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __getstate__(self) -> str:
        return self._value

    def __setstate__(self, state: str) -> None:
        self._value = state


class PassphraseError(ValueError):
    """The passphrase could not be found where config says it is (the message says where)."""


def resolve_passphrase(
    env_var: str, secrets_file: str, *, env_var_required: bool = False
) -> tuple[Secret | None, str]:
    """The GPG passphrase and a description of where it came from (safe to print).

    The environment variable wins; then the secrets file (its first line); else no passphrase
    (a key without one). `env_var_required` (the user named the variable on the command line)
    makes a missing variable an error instead of a fallback.
    """
    if env_var and os.environ.get(env_var):
        return Secret(os.environ[env_var]), f"environment variable {env_var}"
    if env_var and env_var_required:
        raise PassphraseError(
            f"the environment variable {env_var} (named by --passphrase-env) is not set"
        )
    if secrets_file:
        path = Path(secrets_file).expanduser()
        if not path.is_file():
            raise PassphraseError(f"the secrets file {path} (packages.secrets_file) does not exist")
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or not lines[0]:
            raise PassphraseError(f"the secrets file {path} (packages.secrets_file) is empty")
        return Secret(lines[0]), f"secrets file {path}"
    where = f"the environment variable {env_var}" if env_var else "an environment variable"
    return None, f"no passphrase was given (set {where} or packages.secrets_file)"


class KeyringError(ValueError):
    """The keyring folder named by --gnupg-home or config does not exist."""


def gpg_settings(
    packages: PackagesConfig, *, gnupg_home: str | None = None, passphrase_env: str | None = None
) -> GpgSettings:
    """The keyring and passphrase for a job: `--gnupg-home` / `--passphrase-env` when given, else
    the `packages` config (the same partner key encrypts packages and tracking logs). Raises
    `PassphraseError` if the passphrase is not where config says, `KeyringError` if the keyring
    folder does not exist."""
    env_var = passphrase_env or packages.passphrase_env
    passphrase, where = resolve_passphrase(
        env_var, packages.secrets_file, env_var_required=passphrase_env is not None
    )
    home = gnupg_home or packages.gnupg_home or os.environ.get("GNUPGHOME") or ""
    if home:
        path = Path(home).expanduser().resolve()
        if not path.is_dir():
            raise KeyringError(f"the GnuPG home {path} (the keyring folder) does not exist")
        home = str(path)
    return GpgSettings(home or None, passphrase, where, packages.gpg_binary)


@dataclass(frozen=True)
class GpgSettings:
    """Everything needed to decrypt on an executor (picklable; the passphrase stays masked)."""

    gnupg_home: str | None
    passphrase: Secret | None
    passphrase_source: str  # e.g. "environment variable OLX_SPARK_GPG_PASSPHRASE"
    gpg_binary: str = "gpg"


class DecryptError(Exception):
    """A file that did not decrypt. `retryable` is true when the file may be fine and the keyring
    or passphrase is not (so a later run, with the right key, should try again)."""

    def __init__(self, kind: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable


def classify_failure(
    status: str, stderr: str, key_id: str | None, settings: GpgSettings
) -> DecryptError:
    """Turn gpg's outcome into a reason a person can act on (no secret in it)."""
    codes = [int(c) & 0xFFFF for c in _PKDECRYPT.findall(stderr or "")]
    key = f" (key id {key_id})" if key_id else ""
    if GPG_ERR_BAD_PASSPHRASE in codes:
        return DecryptError(
            "bad_passphrase",
            f"the private key{key} did not accept the passphrase from "
            f"{settings.passphrase_source}; set the right one and run again",
            retryable=True,
        )
    if codes:
        if settings.passphrase is None:
            return DecryptError(
                "no_passphrase",
                f"the private key{key} needs a passphrase, and {settings.passphrase_source}",
                retryable=True,
            )
        return DecryptError(
            "key_unusable",
            f"the private key{key} could not be used (gpg error {codes[0]})",
            retryable=True,
        )
    if status == "no secret key":
        return DecryptError(
            "no_secret_key",
            f"the file is encrypted to a key{key} whose private key is not in the keyring "
            f"{settings.gnupg_home or '(default GNUPGHOME)'}; import it and run again",
            retryable=True,
        )
    if status == "no data was provided":
        return DecryptError(
            "not_encrypted", "the file is not OpenPGP-encrypted data", retryable=False
        )
    return DecryptError(
        "decrypt_failed",
        f"gpg could not decrypt the file ({status or 'no status'}): it is corrupt or truncated",
        retryable=False,
    )


class DecryptingReader(io.RawIOBase):
    """Plaintext of an encrypted stream, produced by gpg in a background thread.

    Read it to the end: the end is where gpg's verdict arrives (`DecryptError` if the file did
    not decrypt cleanly). `close()` before the end stops the plaintext flowing (gpg then runs to
    completion on its own, discarding output) and waits for gpg.
    """

    def __init__(self, source: BinaryIO, settings: GpgSettings) -> None:
        super().__init__()
        import gnupg

        self._settings = settings
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._abandoned = threading.Event()
        self._pending = memoryview(b"")
        self._finished = False
        self._result: Any = None
        self._error: BaseException | None = None
        home = settings.gnupg_home or None
        self._gpg = gnupg.GPG(gpgbinary=settings.gpg_binary, gnupghome=home)
        self._gpg.buffer_size = CHUNK_BYTES
        self._gpg.on_data = self._on_data
        self._thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self._thread.start()

    def _on_data(self, chunk: bytes) -> bool:
        while not self._abandoned.is_set():
            try:
                self._queue.put(chunk, timeout=0.2)
                break
            except queue.Full:
                continue
        return False  # never buffer in python-gnupg's result

    def _run(self, source: BinaryIO) -> None:
        passphrase = self._settings.passphrase.reveal() if self._settings.passphrase else None
        try:
            self._result = self._gpg.decrypt_file(source, passphrase=passphrase)
        except BaseException as exc:  # reported to the reader, never lost in the thread
            self._error = exc
            self._on_data(_EOF)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self._finished:
                return 0
            chunk = self._queue.get()
            if not chunk:
                self._finished = True
                self._thread.join()
                self._verdict()
                return 0
            self._pending = memoryview(chunk)
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _verdict(self) -> None:
        if self._error is not None:
            if isinstance(self._error, ValueError) and "passphrase" in str(self._error):
                raise DecryptError(
                    "bad_passphrase",
                    f"the passphrase from {self._settings.passphrase_source} is not usable "
                    "(it contains a line break)",
                    retryable=True,
                )
            raise DecryptError(
                "unreadable",
                f"reading the encrypted file failed ({type(self._error).__name__}: {self._error})",
                retryable=True,
            )
        result = self._result
        if result is None or not result.ok:
            raise classify_failure(
                getattr(result, "status", ""),
                getattr(result, "stderr", ""),
                getattr(result, "key_id", None),
                self._settings,
            )

    def close(self) -> None:
        if not self.closed:
            self._abandoned.set()
            while True:  # unblock a producer waiting on a full queue
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._thread.join()
        super().close()


def open_decrypted(source: BinaryIO, settings: GpgSettings) -> io.BufferedReader:
    """A buffered plaintext stream of `source` (see `DecryptingReader`)."""
    return io.BufferedReader(DecryptingReader(source, settings), buffer_size=CHUNK_BYTES)
