"""The S3 backend of the object store: pyarrow's S3 client with bounded timeouts and retries, and presigned GETs."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pyarrow.fs as pafs

from services.runtime.objectstore import ObjectStore, PresignUnavailable, check_key
from services.runtime.presign import Credentials, presign_get

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3 service: endpoint (None = AWS), region, static credentials, timeouts and retries."""

    endpoint_url: str | None = None
    region: str = "us-east-1"
    credentials: Credentials | None = None
    presign_seconds: int = 300
    connect_timeout: float = 2.0
    request_timeout: float = 5.0  # curl's low-speed limit: a stalled call, not a long transfer
    max_attempts: int = 3

    @classmethod
    def from_config(cls, config) -> S3Options:
        """The options from config.py's S3_* and AWS_* settings."""
        credentials = None
        if config.AWS_ACCESS_KEY_ID and config.AWS_SECRET_ACCESS_KEY:
            credentials = Credentials(config.AWS_ACCESS_KEY_ID, config.AWS_SECRET_ACCESS_KEY, config.AWS_SESSION_TOKEN)
        return cls(endpoint_url=config.S3_ENDPOINT_URL, region=config.S3_REGION, credentials=credentials,
                   presign_seconds=config.S3_PRESIGN_SECONDS)

    def filesystem(self, max_attempts: int | None = None, request_timeout: float | None = None) -> pafs.S3FileSystem:
        """A pyarrow S3 client; without static credentials pyarrow finds them (AWS_* variables, profiles, roles)."""
        keys = {}
        if self.credentials:
            keys = {"access_key": self.credentials.access_key, "secret_key": self.credentials.secret_key,
                    "session_token": self.credentials.session_token}
        endpoint = urlsplit(self.endpoint_url) if self.endpoint_url else None
        return pafs.S3FileSystem(
            **keys, region=self.region, scheme=endpoint.scheme if endpoint else "https",
            endpoint_override=endpoint.netloc if endpoint else None,
            connect_timeout=self.connect_timeout, request_timeout=request_timeout or self.request_timeout,
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=max_attempts or self.max_attempts),
            # background writes report a dead server only at close(), many seconds later; these fail at write()
            background_writes=False, allow_delayed_open=True)


class S3Store(ObjectStore):
    """Objects under `bucket/prefix` of an S3-compatible service (AWS, MinIO, Ceph, SeaweedFS)."""

    backend = "s3"

    def __init__(self, bucket: str, prefix: str, options: S3Options) -> None:
        root = f"{bucket}/{prefix}" if prefix else bucket
        endpoint = options.endpoint_url or f"https://s3.{options.region}.amazonaws.com"
        super().__init__(options.filesystem(), root, f"s3://{root} at {endpoint}")
        self.bucket, self.prefix, self.options, self.endpoint = bucket, prefix, options, endpoint
        # one quick attempt, so a dead service shows as unreachable in about a second, not after retries
        self._probe = options.filesystem(max_attempts=1, request_timeout=1.0)

    def health(self) -> dict:
        """Reachable when the bucket answers a HEAD; S3 has no free-space figure."""
        try:
            kind = self._probe.get_file_info(self.bucket).type
        except OSError as exc:
            return self._health(False, f"not reachable: {exc}")
        if kind != pafs.FileType.Directory:
            return self._health(False, f"bucket {self.bucket} does not exist")
        return self._health(True)

    def presign_get(self, key: str, download_name: str, expires_seconds: int | None = None) -> str:
        """A presigned path-style GET that names the download; needs static credentials."""
        if self.options.credentials is None:
            raise PresignUnavailable("download URLs need AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        object_key = f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)
        return presign_get(self.endpoint, self.options.region, self.bucket, object_key, self.options.credentials,
                           expires_seconds or self.options.presign_seconds,
                           query={"response-content-disposition": attachment(download_name)})


def attachment(download_name: str) -> str:
    """A Content-Disposition for a download: an ASCII fallback name and the exact one in RFC 5987 form."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in download_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(download_name, safe='')}"
