"""Data packages for the tests: real GPG keys in temporary keyrings, hand-written files of every
kind, and zips of them, named like the ones edX delivers.

`make_keyrings` generates two ed25519/cv25519 key pairs with the real `gpg` (fast, so once per
test session): "ours", protected by a passphrase, in the keyring the job is given, and "other",
in a keyring of its own, to make files the job has no key for. Our keyring's agent caches no
passphrase, so a wrong passphrase is always noticed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import gnupg

from olx_spark.packages.gpg import GpgSettings, Secret

PASSPHRASE = "correct horse battery staple"  # test-only key protection


@dataclass(frozen=True)
class Keyrings:
    home: str  # the job's keyring: our private key, protected by PASSPHRASE
    fingerprint: str
    other_home: str  # a keyring the job does not have
    other_fingerprint: str

    def settings(self, passphrase: str | None = PASSPHRASE) -> GpgSettings:
        return GpgSettings(
            gnupg_home=self.home,
            passphrase=Secret(passphrase) if passphrase is not None else None,
            passphrase_source="environment variable TEST_PASSPHRASE",
        )

    def encrypt(self, data: bytes | str, *, to_other: bool = False) -> bytes:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        home, fingerprint = (
            (self.other_home, self.other_fingerprint) if to_other else (self.home, self.fingerprint)
        )
        gpg = gnupg.GPG(gnupghome=home)
        result = gpg.encrypt(raw, fingerprint, armor=False, always_trust=True)
        assert result.ok, result.status
        return bytes(result.data)


def _keyring(home: Path, passphrase: str | None) -> str:
    """A fresh keyring with one key pair; its agent caches no passphrase once the key exists.

    The cache is switched off only after the key is made: gpg hands the new key's passphrase to
    the agent and asks for it back to sign the key, and with a zero cache time a busy machine lets
    it expire in between, so the agent starts a pinentry and key generation fails
    ("Inappropriate ioctl for device").
    """
    home.mkdir(mode=0o700, parents=True)
    gpg = gnupg.GPG(gnupghome=str(home))
    spec = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        name_email=f"{home.name}@example.org",
        passphrase=passphrase,
        no_protection=passphrase is None,
    )
    key = gpg.gen_key(spec)
    assert key.fingerprint, key.stderr
    (home / "gpg-agent.conf").write_text("default-cache-ttl 0\nmax-cache-ttl 0\n")
    _kill_agent(str(home))  # the next gpg call starts an agent that reads the new conf
    return str(key.fingerprint)


def make_keyrings(root: Path) -> Keyrings:
    ours = root / "ours"
    other = root / "other"
    return Keyrings(
        home=str(ours),
        fingerprint=_keyring(ours, PASSPHRASE),
        other_home=str(other),
        other_fingerprint=_keyring(other, None),
    )


def _kill_agent(home: str) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
        check=False,
        capture_output=True,
        env={**os.environ, "GNUPGHOME": home},
    )


def stop_agents(keys: Keyrings) -> None:
    for home in (keys.home, keys.other_home):
        _kill_agent(home)


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def write_package(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(members))
    return path


# ---------------------------------------------------------------------------------------------
# Hand-written file contents
# ---------------------------------------------------------------------------------------------

COURSE = "MITx-6.00x-2024_T1"
COURSE_ID = "course-v1:MITx+6.00x+2024_T1"

AUTH_USER = (
    "id\tusername\temail\tis_staff\tlast_login\n"
    "1\talice\talice@example.org\t0\t2024-01-02 03:04:05\n"
    "2\tbob\tNULL\t1\tNULL\n"
)

# `state` is JSON whose backslashes were doubled by the dump; the second row's `state` has an
# escaped quote and an escaped `\n` inside a JSON string; the grade field has a real (escaped)
# tab and newline, an empty value and a literal backslash.
STUDENTMODULE = (
    "id\tmodule_type\tmodule_id\tstudent_id\tstate\tgrade\tcourse_id\n"
    "10\tproblem\tblock-v1:MITx+6.00x+2024_T1+type@problem+block@p1\t1\t"
    '{"answer": "a\\\\tb", "path": "C:\\\\\\\\temp"}\t0.5\t' + COURSE_ID + "\n"
    "11\tproblem\tblock-v1:MITx+6.00x+2024_T1+type@problem+block@p2\t2\t"
    '{"say": "\\\\"hi\\\\"", "lines": "one\\\\ntwo"}\ttab\\there\\nnew\\\\line\t' + COURSE_ID + "\n"
    "12\tproblem\tbad\tline\n"
    "13\tvideo\tblock-v1:MITx+6.00x+2024_T1+type@video+block@v1\t1\tNULL\t\t" + COURSE_ID + "\n"
)

ASSESSMENT = "id\tsubmission_uuid\tscored_at\n7\tabc-123\t2024-01-03 00:00:00\n"

COURSE_STRUCTURE = json.dumps(
    {
        "block-v1:MITx+6.00x+2024_T1+type@course+block@course": {
            "category": "course",
            "children": [
                "block-v1:MITx+6.00x+2024_T1+type@chapter+block@ch1",
                "block-v1:MITx+6.00x+2024_T1+type@chapter+block@ch2",
            ],
            "metadata": {"display_name": "Intro to CS", "start": "2024-01-01T00:00:00Z"},
        },
        "block-v1:MITx+6.00x+2024_T1+type@chapter+block@ch1": {
            "category": "chapter",
            "children": [],
            "metadata": {"display_name": "Week 1"},
        },
        "block-v1:MITx+6.00x+2024_T1+type@chapter+block@ch2": {
            "category": "chapter",
            "children": [],
            "metadata": {"display_name": "Week 2", "graded": True},
        },
    }
)

FORUM = (
    '{"_id": {"$oid": "65a000000000000000000001"}, "_type": "CommentThread", '
    '"course_id": "' + COURSE_ID + '", "author_id": "1", "author_username": "alice", '
    '"title": "Hello", "body": "First post", "thread_type": "discussion", '
    '"commentable_id": "c1", "created_at": {"$date": 1704067200000}, '
    '"updated_at": {"$date": "2024-01-01T00:00:01.500Z"}, "votes": {"up_count": {"$numberLong": "3"}}}\n'
    '{"_id": {"$oid": "65a000000000000000000002"}, "_type": "Comment", '
    '"course_id": "' + COURSE_ID + '", "author_id": "2", "author_username": "bob", '
    '"body": "A reply", "comment_thread_id": {"$oid": "65a000000000000000000001"}, '
    '"created_at": {"$date": {"$numberLong": "1704153600000"}}, '
    '"updated_at": {"$date": 1704153600000}}\n'
    "this is not json\n"
)

EMAIL_OPT_IN = (
    "user_id,username,email,full_name,course_id,is_opted_in_for_email,preference_set_datetime\n"
    '1,alice,alice@example.org,"Alice, A.",' + COURSE_ID + ",True,2024-01-01 00:00:00\n"
    '2,bob,bob@example.org,"Bob ""B"" Jones",' + COURSE_ID + ",False,\n"
)


def member(table: str, site: str = "prod", course: str = COURSE, ora: bool = False) -> str:
    return f"{'ora/' if ora else ''}{course}-{table}-{site}-analytics.sql.gpg"
