"""Bad JWTs are refused with 401 problem+json; unit tests of services.tokens and services.passwords."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid

import bcrypt
import jwt
import pytest

from services.errors import Invalid, Unauthorized
from services.passwords import BCRYPT_MAX_BYTES, check_password_policy, hash_password, verify_password
from services.tokens import ALGORITHM, decode_token, issue_token
from tests.conftest import PASSWORD, assert_problem

HMAC_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def sign_by_hand(claims: dict, secret: str, alg: str = "HS256") -> str:
    """A JWT built without PyJWT, so claims PyJWT would refuse to encode can be sent anyway."""
    signing_input = f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}"
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), HMAC_DIGESTS[alg]).digest()
    return f"{signing_input}.{b64url(signature)}"


def claims_for(user_id: int | str, version: int = 0, **overrides) -> dict:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, "ver": version}
    claims.update(overrides)
    return claims


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(client, token: str) -> dict:
    response = client.get("/api/auth/me", headers=bearer(token))
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["type"] == "/problems/unauthorized"
    return body


@pytest.fixture
def secret_key(app):
    return app.config["SECRET_KEY"]


# --- the control: a token built by hand the same way is accepted, so each refusal below is meaningful ---

def test_hand_made_token_with_every_claim_is_accepted(client, auth, secret_key):
    account = auth.register("tina")
    by_pyjwt = jwt.encode(claims_for(account.user_id), secret_key, algorithm="HS256")
    by_hand = sign_by_hand(claims_for(account.user_id), secret_key)
    for token in (by_pyjwt, by_hand):
        response = client.get("/api/auth/me", headers=bearer(token))
        assert response.status_code == 200, response.json
        assert response.json["user_id"] == account.user_id


# --- expired, tampered, wrongly signed ---

def test_expired_token_is_401(client, auth, secret_key):
    account = auth.register("ursula")
    token, claims = issue_token(account.user_id, 0, secret_key, lifetime_minutes=-1)
    assert claims["exp"] < claims["iat"]
    body = assert_refused(client, token)
    assert "expired" in body["detail"]
    by_hand = jwt.encode(claims_for(account.user_id, exp=int(time.time()) - 5), secret_key, algorithm="HS256")
    assert "expired" in assert_refused(client, by_hand)["detail"]


def test_payload_changed_to_another_user_is_401(client, auth):
    alice = auth.register("alice")
    bob = auth.register("bob")
    header, payload, signature = alice.token.split(".")
    claims = json.loads(b64url_decode(payload))
    assert claims["sub"] == str(alice.user_id)
    claims["sub"] = str(bob.user_id)
    assert_refused(client, f"{header}.{b64url_json(claims)}.{signature}")
    claims["sub"] = str(alice.user_id)
    claims["exp"] += 86_400  # a longer life is a tampered payload too
    assert_refused(client, f"{header}.{b64url_json(claims)}.{signature}")


def test_payload_with_one_character_changed_is_401(client, auth):
    account = auth.register("carl")
    header, payload, signature = account.token.split(".")
    for position in (0, len(payload) // 2):
        replacement = "A" if payload[position] != "A" else "B"
        tampered = payload[:position] + replacement + payload[position + 1:]
        assert tampered != payload
        assert_refused(client, f"{header}.{tampered}.{signature}")
    assert client.get("/api/auth/me", headers=account.headers).status_code == 200


def test_signature_with_one_character_changed_is_401(client, auth):
    account = auth.register("cleo")
    header, payload, signature = account.token.split(".")
    replacement = "A" if signature[0] != "A" else "B"
    assert_refused(client, f"{header}.{payload}.{replacement}{signature[1:]}")
    assert_refused(client, f"{header}.{payload}.")


def test_token_signed_with_another_secret_is_401(client, auth):
    account = auth.register("dora")
    token = jwt.encode(claims_for(account.user_id), secrets.token_urlsafe(48), algorithm="HS256")
    assert_refused(client, token)


def test_alg_none_is_401(client, auth):
    account = auth.register("emil")
    payload = b64url_json(claims_for(account.user_id))
    for header in ({"alg": "none", "typ": "JWT"}, {"alg": "None", "typ": "JWT"}, {"alg": "NONE"}):
        assert_refused(client, f"{b64url_json(header)}.{payload}.")
    # an HS256 header with the signature simply left off
    assert_refused(client, f"{b64url_json({'alg': 'HS256', 'typ': 'JWT'})}.{payload}.")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithms_with_the_right_secret_are_401(client, auth, secret_key, alg):
    account = auth.register("fay")
    assert_refused(client, jwt.encode(claims_for(account.user_id), secret_key, algorithm=alg))
    assert_refused(client, sign_by_hand(claims_for(account.user_id), secret_key, alg))


# --- claims ---

@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti"])
def test_token_missing_a_required_claim_is_401(client, auth, secret_key, claim):
    account = auth.register("gus")
    claims = claims_for(account.user_id)
    del claims[claim]
    assert_refused(client, sign_by_hand(claims, secret_key))


def test_token_not_valid_yet_is_401(client, auth, secret_key):
    account = auth.register("hugo")
    later = int(time.time()) + 3600
    assert_refused(client, sign_by_hand(claims_for(account.user_id, nbf=later), secret_key))
    assert_refused(client, sign_by_hand(claims_for(account.user_id, iat=later, exp=later + 600), secret_key))


NOT_NUMERIC_SUBS = {
    "letters": lambda uid: "abc",
    "empty": lambda uid: "",
    "negative": lambda uid: f"-{uid}",
    "decimal": lambda uid: f"{uid}.0",
    "leading space": lambda uid: f" {uid}",
    "trailing space": lambda uid: f"{uid} ",
    "hex": lambda uid: hex(uid),
    "exponent": lambda uid: f"{uid}e0",
    "integer": lambda uid: uid,
    "null": lambda uid: None,
    "list": lambda uid: [uid],
    "object": lambda uid: {"id": uid},
}


@pytest.mark.parametrize("kind", NOT_NUMERIC_SUBS)
def test_sub_that_is_not_a_numeric_string_is_401(client, auth, secret_key, kind):
    account = auth.register("ida")
    sub = NOT_NUMERIC_SUBS[kind](account.user_id)
    assert_refused(client, sign_by_hand(claims_for(account.user_id, sub=sub), secret_key))


def test_sub_with_a_superscript_digit_is_401(client, auth, secret_key):
    auth.register("ivy")
    assert_refused(client, sign_by_hand(claims_for("²"), secret_key))


def test_sub_with_non_ascii_digits_is_401(client, auth, secret_key):
    account = auth.register("ivan")
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in str(account.user_id))
    assert arabic_indic != str(account.user_id)
    assert int(arabic_indic) == account.user_id  # what the server does with it
    assert_refused(client, sign_by_hand(claims_for(arabic_indic), secret_key))


@pytest.mark.parametrize("user_id", [999_999, 10**20])
def test_sub_for_a_user_that_does_not_exist_is_401(client, auth, secret_key, user_id):
    auth.register("jack")
    assert_refused(client, sign_by_hand(claims_for(user_id), secret_key))


def test_token_of_a_deleted_account_is_401(client, auth):
    account = auth.register("jill")
    assert client.delete("/api/user/profile", headers=account.headers).status_code == 200
    assert_refused(client, account.token)


def test_password_change_revokes_earlier_tokens_by_version(client, auth, secret_key):
    account = auth.register("kate")
    second_session = auth.login("kate").json["token"]
    response = client.put("/api/user/profile/password", headers=account.headers,
                          json={"old_password": PASSWORD, "new_password": "another horse 2"})
    assert response.status_code == 200, response.json
    assert_refused(client, account.token)
    assert_refused(client, second_session)
    new_token = response.json["token"]
    assert jwt.decode(new_token, secret_key, algorithms=["HS256"])["ver"] == 1
    assert client.get("/api/auth/me", headers=bearer(new_token)).status_code == 200
    # a hand-made token with the old version (or a made-up future one) is refused too
    assert_refused(client, sign_by_hand(claims_for(account.user_id, version=0), secret_key))
    assert_refused(client, sign_by_hand(claims_for(account.user_id, version=2), secret_key))
    assert client.get("/api/auth/me", headers=bearer(
        sign_by_hand(claims_for(account.user_id, version=1), secret_key))).status_code == 200


@pytest.mark.parametrize("version", [1, "0", None, 0.5])
def test_ver_claim_not_matching_is_401(client, auth, secret_key, version):
    account = auth.register("liam")
    assert_refused(client, sign_by_hand(claims_for(account.user_id, version=version), secret_key))


@pytest.mark.parametrize("garbage", ["not.a.jwt", "a.b", "....", "eyJ.eyJ.eyJ", "x" * 5000])
def test_garbage_tokens_are_401(client, garbage):
    assert_refused(client, garbage)


# --- services.tokens.decode_token ---

SECRET = "s" * 64


def test_decode_token_returns_the_issued_claims():
    token, issued = issue_token(7, 3, SECRET, lifetime_minutes=5)
    claims = decode_token(token, SECRET)
    assert claims["sub"] == "7"
    assert claims["ver"] == 3
    assert claims["jti"] == issued["jti"]
    assert claims["exp"] - claims["iat"] == 300
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM == "HS256"


def test_issue_token_gives_each_token_its_own_jti():
    first = decode_token(issue_token(7, 0, SECRET, 5)[0], SECRET)
    second = decode_token(issue_token(7, 0, SECRET, 5)[0], SECRET)
    assert first["jti"] != second["jti"]


def test_decode_token_says_expired_for_an_expired_token():
    token, _ = issue_token(7, 0, SECRET, lifetime_minutes=-1)
    with pytest.raises(Unauthorized) as info:
        decode_token(token, SECRET)
    assert info.value.status == 401
    assert info.value.detail == "token expired"
    assert info.value.headers["WWW-Authenticate"].startswith("Bearer")


# Built when the test runs, not when it is collected: a slow suite would otherwise see them expire.
@pytest.mark.parametrize("make_token", [
    lambda: "",
    lambda: "not a token",
    lambda: "a.b.c",
    lambda: jwt.encode(claims_for(7), "another secret of enough length 1234567890", algorithm="HS256"),
    lambda: jwt.encode(claims_for(7), SECRET, algorithm="HS512"),
    lambda: f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims_for(7))}.",
    lambda: sign_by_hand({k: v for k, v in claims_for(7).items() if k != "jti"}, SECRET),
    lambda: sign_by_hand(claims_for(7, sub="seven"), SECRET),
    lambda: sign_by_hand(claims_for(7, sub=7), SECRET),
    lambda: sign_by_hand(claims_for(7, version="0"), SECRET),
])
def test_decode_token_refuses_bad_tokens_as_invalid(make_token):
    with pytest.raises(Unauthorized) as info:
        decode_token(make_token(), SECRET)
    assert info.value.detail == "invalid token"


def test_decode_token_checks_the_secret():
    token, _ = issue_token(7, 0, SECRET, 5)
    with pytest.raises(Unauthorized):
        decode_token(token, SECRET + "x")


# --- services.passwords ---

def test_hash_and_verify_round_trip():
    hashed = hash_password(PASSWORD, rounds=4)
    assert hashed.startswith("$2")
    assert hashed != PASSWORD
    assert verify_password(PASSWORD, hashed) is True
    assert verify_password(PASSWORD + "x", hashed) is False
    assert verify_password("", hashed) is False


def test_verify_password_refuses_more_than_72_bytes_without_raising():
    prefix = "a" * BCRYPT_MAX_BYTES
    hashed = hash_password(prefix, rounds=4)
    assert verify_password(prefix, hashed) is True
    # bcrypt would compare only the first 72 bytes; the extra byte must not be silently ignored
    assert verify_password(prefix + "a", hashed) is False
    assert verify_password("é" * 37, hashed) is False
    assert verify_password("x" * 100_000, hashed) is False
    assert verify_password("x" * 100_000, None) is False


@pytest.mark.parametrize("garbage", ["", "not-a-hash", "$2b$04$short", "$2b$99$" + "a" * 53, "héllo",
                                     "$argon2id$v=19$m=65536,t=3,p=4$abc$def", "\x00" * 60])
def test_verify_password_never_raises_on_garbage_hashes(garbage):
    assert verify_password(PASSWORD, garbage) is False


def test_verify_password_without_a_hash_is_false():
    assert verify_password(PASSWORD, None) is False


def test_verify_password_accepts_a_hash_made_by_bcrypt_directly():
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    assert verify_password(PASSWORD, hashed) is True


@pytest.mark.parametrize("password", ["\ud800", "abc\udfffdefgh"])
def test_verify_password_never_raises_on_text_that_is_not_valid_unicode(password):
    hashed = hash_password(PASSWORD, rounds=4)
    assert verify_password(password, hashed) is False


@pytest.mark.parametrize("password", ["12345678", "correct horse 1", "é" * 36, "a" * 72, "€" * 24, "🙂" * 18])
def test_password_policy_accepts(password):
    check_password_policy(password)


@pytest.mark.parametrize("password, message", [
    ("", "at least 8"), ("1234567", "at least 8"), ("é" * 7, "at least 8"),
    ("a" * 73, "at most 72 bytes"), ("é" * 37, "at most 72 bytes"), ("🙂" * 19, "at most 72 bytes"),
])
def test_password_policy_refuses(password, message):
    with pytest.raises(Invalid) as info:
        check_password_policy(password)
    assert info.value.status == 422
    assert info.value.errors == [{"field": "password", "message": info.value.errors[0]["message"]}]
    assert message in info.value.errors[0]["message"]


def test_password_policy_names_the_given_field():
    with pytest.raises(Invalid) as info:
        check_password_policy("short", field="new_password")
    assert [e["field"] for e in info.value.errors] == ["new_password"]
    assert info.value.detail.startswith("new_password:")
