"""Streaming decryption with python-gnupg and the real gpg, against temporary keyrings."""

from __future__ import annotations

import io
import pickle

import pytest

from olx_spark.packages.gpg import (
    DecryptError,
    PassphraseError,
    Secret,
    open_decrypted,
    resolve_passphrase,
)
from tests.packages_fixtures import PASSPHRASE


def _decrypt(data: bytes, settings) -> bytes:
    with open_decrypted(io.BytesIO(data), settings) as stream:
        return stream.read()


def test_decrypts_a_large_file_as_a_stream(gpg_keys):
    plain = b"".join(b"%d\tline number %d\n" % (i, i) for i in range(200_000))  # ~4.5 MB
    encrypted = gpg_keys.encrypt(plain)
    out = io.BytesIO()
    with open_decrypted(io.BytesIO(encrypted), gpg_keys.settings()) as stream:
        while chunk := stream.read(100_000):
            out.write(chunk)
    assert out.getvalue() == plain


def test_wrong_key_is_a_clear_retryable_rejection(gpg_keys):
    encrypted = gpg_keys.encrypt(b"secret rows\n", to_other=True)
    with pytest.raises(DecryptError) as caught:
        _decrypt(encrypted, gpg_keys.settings())
    error = caught.value
    assert (error.kind, error.retryable) == ("no_secret_key", True)
    assert "not in the keyring" in error.message and gpg_keys.home in error.message


def test_wrong_passphrase_is_a_clear_rejection_that_never_shows_it(gpg_keys):
    encrypted = gpg_keys.encrypt(b"secret rows\n")
    with pytest.raises(DecryptError) as caught:
        _decrypt(encrypted, gpg_keys.settings("not the passphrase"))
    error = caught.value
    assert (error.kind, error.retryable) == ("bad_passphrase", True)
    assert "TEST_PASSPHRASE" in error.message
    assert "not the passphrase" not in error.message and PASSPHRASE not in error.message


def test_missing_passphrase_says_where_to_put_it(gpg_keys):
    encrypted = gpg_keys.encrypt(b"secret rows\n")
    with pytest.raises(DecryptError) as caught:
        _decrypt(encrypted, gpg_keys.settings(None))
    assert caught.value.kind in ("no_passphrase", "key_unusable")
    assert caught.value.retryable


def test_not_encrypted_and_truncated_files_are_rejected_for_good(gpg_keys):
    with pytest.raises(DecryptError) as caught:
        _decrypt(b"id\tname\n1\tplain text\n", gpg_keys.settings())
    assert (caught.value.kind, caught.value.retryable) == ("not_encrypted", False)

    encrypted = gpg_keys.encrypt(b"x" * 10_000 + b"\n")
    with pytest.raises(DecryptError) as caught:
        _decrypt(encrypted[:-20], gpg_keys.settings())
    assert (caught.value.kind, caught.value.retryable) == ("decrypt_failed", False)


def test_closing_early_does_not_hang(gpg_keys):
    encrypted = gpg_keys.encrypt(b"0123456789\n" * 500_000)
    with open_decrypted(io.BytesIO(encrypted), gpg_keys.settings()) as stream:
        assert stream.read(11) == b"0123456789\n"


def test_secret_is_masked_but_survives_pickling():
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)
    assert "hunter2" not in repr({"passphrase": secret})
    assert pickle.loads(pickle.dumps(secret)).reveal() == "hunter2"


def test_passphrase_from_environment_then_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "passphrase.txt"
    secrets.write_text("from-file\nignored\n")
    monkeypatch.setenv("PKG_PASS", "from-env")
    secret, where = resolve_passphrase("PKG_PASS", str(secrets))
    assert secret is not None and secret.reveal() == "from-env"
    assert where == "environment variable PKG_PASS" and "from-env" not in where

    monkeypatch.delenv("PKG_PASS")
    secret, where = resolve_passphrase("PKG_PASS", str(secrets))
    assert secret is not None and secret.reveal() == "from-file"
    assert "from-file" not in where

    secret, where = resolve_passphrase("PKG_PASS", "")
    assert secret is None and "PKG_PASS" in where
    with pytest.raises(PassphraseError, match="PKG_PASS"):
        resolve_passphrase("PKG_PASS", str(secrets), env_var_required=True)
    with pytest.raises(PassphraseError, match="does not exist"):
        resolve_passphrase("PKG_PASS", str(tmp_path / "missing"))


def test_job_settings_come_from_arguments_then_config(tmp_path, monkeypatch):
    from olx_spark.config import PackagesConfig
    from olx_spark.packages.gpg import KeyringError, PassphraseError, gpg_settings

    keyring = tmp_path / "keyring"
    keyring.mkdir()
    monkeypatch.setenv("MY_PASS", "s3cret")
    monkeypatch.delenv("GNUPGHOME", raising=False)
    config = PackagesConfig(gnupg_home=str(keyring), passphrase_env="CONFIG_PASS")
    settings = gpg_settings(config, passphrase_env="MY_PASS")
    assert settings.gnupg_home == str(keyring.resolve())
    assert "MY_PASS" in settings.passphrase_source and "s3cret" not in repr(settings)
    with pytest.raises(KeyringError, match="does not exist"):
        gpg_settings(config, gnupg_home=str(tmp_path / "nope"), passphrase_env="MY_PASS")
    with pytest.raises(PassphraseError, match="UNSET_PASS"):
        gpg_settings(config, passphrase_env="UNSET_PASS")
