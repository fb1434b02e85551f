"""AWS Signature V4 query presigning of a path-style S3 GET (what boto3's generate_presigned_url makes)."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES_SECONDS = 7 * 24 * 3600  # SigV4's own limit


@dataclass(frozen=True)
class Credentials:
    """Static S3 credentials: an access key pair and, for temporary ones, a session token."""

    access_key: str
    secret_key: str
    session_token: str | None = None


def _uri_encode(value: str, safe: str = "") -> str:
    # SigV4 encodes everything except unreserved characters (RFC 3986), spaces as %20.
    return quote(value, safe="-_.~" + safe)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def presign_get(endpoint: str, region: str, bucket: str, key: str, credentials: Credentials, expires_seconds: int,
                query: dict[str, str] | None = None, now: datetime | None = None) -> str:
    """A URL that GETs bucket/key without other credentials until `expires_seconds` from now.

    `query` adds response overrides such as response-content-disposition, which the signature covers.
    Only the host header is signed and the payload is UNSIGNED-PAYLOAD, so any HTTP client can use the URL.
    """
    if not 1 <= expires_seconds <= MAX_EXPIRES_SECONDS:
        raise ValueError(f"expires_seconds must be 1..{MAX_EXPIRES_SECONDS}")
    parts = urlsplit(endpoint)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    params = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": f"{credentials.access_key}/{scope}",
        "X-Amz-Date": stamp,
        "X-Amz-Expires": str(int(expires_seconds)),
        "X-Amz-SignedHeaders": "host",
        **({"X-Amz-Security-Token": credentials.session_token} if credentials.session_token else {}),
        **(query or {}),
    }
    canonical_query = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(params.items()))
    path = f"{parts.path.rstrip('/')}/{_uri_encode(bucket)}/{_uri_encode(key, safe='/')}"
    canonical_request = "\n".join(["GET", path, canonical_query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"])
    string_to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    signing_key = f"AWS4{credentials.secret_key}".encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        signing_key = _hmac(signing_key, part)
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{parts.scheme}://{parts.netloc}{path}?{canonical_query}&X-Amz-Signature={signature}"
