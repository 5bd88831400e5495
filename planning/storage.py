"""One small storage interface with two backends: a local folder (default) and S3.

Everything buyplan reads or writes goes through :class:`Storage`, addressed by *keys*: relative POSIX
paths such as ``inputs/items.csv``. Keys never start with ``/`` and never contain ``.`` or ``..``
parts, so a key cannot escape the storage root on disk and means the same thing on both backends.

Design:

* **Atomic writes.** A reader never sees a half-written object. ``LocalStorage`` writes to a
  temporary file in the target's own directory, fsyncs it, then ``os.replace``-s it over the target
  (a rename within one filesystem is atomic on POSIX and Windows). A crash leaves at most a stray
  ``*.buyplan-tmp`` file, which :meth:`Storage.list_keys` ignores. An S3 ``PutObject`` is atomic by
  itself: the new object becomes visible whole or not at all.
* **Conditional create** (``write_bytes(..., if_absent=True)``) is how a publisher claims a name that
  nobody else may have written, e.g. a run folder or a success marker. Locally the fully written
  temporary file is hard-linked to the target; ``link`` refuses to replace an existing file, so the
  check and the create are one atomic step. On S3 the PUT carries ``If-None-Match: *`` and S3 answers
  412 ``PreconditionFailed`` (or 409 ``ConditionalRequestConflict`` when two such PUTs race) if the key
  exists. Both raise :class:`ConditionalWriteFailedError`. Caveat: if a conditional PUT lands but its
  response is lost, botocore's retry sees 412 and we report a conflict that our own first attempt
  caused; callers that must tell these apart compare the stored bytes.
* **Credentials come only from the standard AWS chain** (environment variables, ``AWS_PROFILE`` /
  shared config, container or instance role), resolved by boto3 when the client is created, never at
  import time. Nothing here accepts keys as arguments or reads them from buyplan config, and no
  message or log line includes them: S3 errors carry the object URI and the AWS error code only.
  ``endpoint_url`` and ``region`` are plain configuration, so the same code runs against AWS S3,
  MinIO and moto; when they are ``None`` boto3 falls back to ``AWS_ENDPOINT_URL_S3`` /
  ``AWS_ENDPOINT_URL`` / ``AWS_REGION`` and the shared config as usual.
* **Tables** are stored as Parquet (native types) or CSV (read as strings so the validation layer,
  not the parser, decides what an unparseable value means). :func:`read_table` refuses to guess when
  both formats of one table exist.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import boto3
import pandas as pd

# pyarrow ships no type information and pyproject's ignore_missing_imports list does not cover it.
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from planning.errors import StorageError

__all__ = [
    "ConditionalWriteFailedError",
    "LoadedTable",
    "LocalStorage",
    "ObjectNotFoundError",
    "S3Storage",
    "Storage",
    "TableFormat",
    "open_storage",
    "read_table",
    "write_table",
]

logger = logging.getLogger(__name__)

TableFormat: TypeAlias = Literal["csv", "parquet"]

# The venv ships boto3-stubs without the mypy-boto3-s3 service package, so the precise S3Client type
# is not importable; Any keeps mypy honest about everything else without a hard dependency on it.
S3Client: TypeAlias = Any

# Suffix of in-progress local writes. Keys may not end with it, so a real object is never hidden.
_TMP_SUFFIX = ".buyplan-tmp"

# botocore's "standard" mode retries throttling, transient 5xx and connection errors with jittered
# backoff, enough to ride out a short S3 or network hiccup without hanging a weekly job for minutes.
# Note botocore's "max_attempts" counts retries: 5 means up to 6 HTTP attempts per call.
_S3_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})

_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

_KEY_RULES = (
    "keys are relative POSIX paths like 'inputs/items.csv': no leading '/', no '.' or '..' parts, "
    "no empty parts, no backslashes"
)


# The names read as outcomes at the call site (`except ObjectNotFoundError`), hence no "Error" suffix.
class ObjectNotFoundError(StorageError):
    """The requested key does not exist in the storage."""


class ConditionalWriteFailedError(StorageError):
    """A conditional create (``if_absent=True``) found the key already present."""


@runtime_checkable
class Storage(Protocol):
    """Read inputs and write outputs by key, the same way on every backend."""

    @property
    def uri(self) -> str:
        """Root URI of this storage, e.g. ``s3://bucket/prefix`` or an absolute local path."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """Return the object's bytes; raise :class:`ObjectNotFoundError` if it does not exist."""
        ...

    def write_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Write the object atomically.

        With ``if_absent`` it is a conditional create that raises :class:`ConditionalWriteFailedError`
        if the key exists.
        """
        ...

    def exists(self, key: str) -> bool:
        """Return whether an object exists at ``key``."""
        ...

    def list_keys(self, prefix: str = "") -> list[str]:
        """Return all keys starting with ``prefix`` (recursive, sorted, relative to the root)."""
        ...

    def delete(self, key: str) -> None:
        """Delete the object; a missing key is not an error."""
        ...

    def uri_for(self, key: str) -> str:
        """Return the full URI of ``key``, for messages, manifests and logs."""
        ...


def _check_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid storage key.

    Raises:
        StorageError: The key is absolute, contains ``.``/``..``/empty parts or backslashes.
    """
    parts = key.split("/")
    bad = (
        not key or key.startswith("/") or "\\" in key or "\x00" in key or any(part in ("", ".", "..") for part in parts)
    )
    if bad:
        raise StorageError(f"Invalid storage key {key!r}: {_KEY_RULES}.")
    if parts[-1].endswith(_TMP_SUFFIX):
        raise StorageError(
            f"Invalid storage key {key!r}: the suffix {_TMP_SUFFIX!r} is reserved for in-progress writes."
        )
    return key


def _check_prefix(prefix: str) -> str:
    """Return ``prefix`` unchanged if it is a valid listing prefix (a key, a folder ``a/`` or ``""``).

    Raises:
        StorageError: The prefix is absolute or contains ``.``/``..`` parts or backslashes.
    """
    if not prefix:
        return prefix
    # A trailing "/" (folder prefix) leaves one empty last part, which is fine here.
    parts = prefix.split("/")[:-1] if prefix.endswith("/") else prefix.split("/")
    if prefix.startswith("/") or "\\" in prefix or "\x00" in prefix or any(part in ("", ".", "..") for part in parts):
        raise StorageError(f"Invalid storage prefix {prefix!r}: {_KEY_RULES}.")
    return prefix


# --------------------------------------------------------------------------------------------------
# Local folder
# --------------------------------------------------------------------------------------------------


class LocalStorage(Storage):
    """Storage in a local folder; keys map to files below ``root``.

    Args:
        root: Folder holding the objects. Created on the first write, not here, so that merely
            opening a storage (e.g. to read inputs) has no side effects.
    """

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self._root)!r})"

    @property
    def root(self) -> Path:
        """Absolute path of the storage folder."""
        return self._root

    @property
    def uri(self) -> str:
        """Absolute path of the storage folder, as a string."""
        return str(self._root)

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*_check_key(key).split("/"))

    def uri_for(self, key: str) -> str:
        """Return the absolute local path of ``key``."""
        return str(self._path(key))

    def read_bytes(self, key: str) -> bytes:
        """Return the file's bytes.

        Raises:
            ObjectNotFoundError: No file at ``key`` (a folder does not count as an object).
            StorageError: The file exists but cannot be read.
        """
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFoundError(f"No object at {path} (storage {self.uri}).") from exc
        except OSError as exc:
            raise StorageError(f"Could not read {path}: {exc.strerror or exc}.") from exc

    def write_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Write ``data`` to ``key`` atomically (temp file in the same folder, then rename or link).

        Raises:
            ConditionalWriteFailedError: ``if_absent`` is set and the file already exists.
            StorageError: The file could not be written.
        """
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._write_temp(path, data)
        except OSError as exc:
            raise StorageError(f"Could not write {path}: {exc.strerror or exc}.") from exc
        try:
            if if_absent:
                # link() fails if the target exists and never overwrites, unlike replace(); the
                # temp file is complete by now, so readers see the whole object or nothing.
                os.link(tmp, path)
            else:
                tmp.replace(path)
            _fsync_dir(path.parent)
        except FileExistsError as exc:
            raise ConditionalWriteFailedError(
                f"{path} already exists; a conditional create (if_absent=True) never overwrites."
            ) from exc
        except OSError as exc:
            hint = " (conditional create needs a filesystem with hard links)" if if_absent else ""
            raise StorageError(f"Could not write {path}{hint}: {exc.strerror or exc}.") from exc
        finally:
            # After a successful replace the temp name is gone already; otherwise clean it up.
            tmp.unlink(missing_ok=True)
        logger.debug("wrote %d bytes to %s", len(data), path)

    @staticmethod
    def _write_temp(path: Path, data: bytes) -> Path:
        """Write ``data`` to a fresh hidden temp file next to ``path`` and fsync it."""
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{_TMP_SUFFIX}")
        # os.open with mode 0o666 lets the umask decide permissions, as a plain open() would
        # (mkstemp would force 0o600 onto every published file).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                # Without fsync a crash right after the rename can leave an empty file behind the
                # new name on some filesystems (ext4 delayed allocation).
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def exists(self, key: str) -> bool:
        """Return whether a file exists at ``key``."""
        return self._path(key).is_file()

    def list_keys(self, prefix: str = "") -> list[str]:
        """Return the sorted keys of all files whose key starts with ``prefix``."""
        _check_prefix(prefix)
        # Walk only the deepest folder the prefix pins down; string-match the rest like S3 does.
        folder = prefix.rpartition("/")[0]
        start = self._root.joinpath(*folder.split("/")) if folder else self._root
        keys: list[str] = []
        for dirpath, _dirnames, filenames in os.walk(start):
            rel_dir = Path(dirpath).relative_to(self._root).as_posix()
            for name in filenames:
                if name.endswith(_TMP_SUFFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        """Delete the file at ``key`` if it exists.

        Empty parent folders are left in place: removing them could race with a concurrent writer
        that has just created the folder for its temp file.
        """
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"Could not delete {path}: {exc.strerror or exc}.") from exc


def _fsync_dir(folder: Path) -> None:
    """Persist a rename by fsyncing its folder; best effort, as not every platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------------

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_CONDITIONAL_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)


def _s3_hint(code: str) -> str:
    """Say what to do about the S3 error ``code``."""
    if code in ("AccessDenied", "403", "Forbidden"):
        return (
            "the credentials from the AWS chain lack permission for this object (without "
            "s3:ListBucket, S3 also answers 403 for a missing key); check the IAM policy"
        )
    if code == "NoSuchBucket":
        return "the bucket does not exist; check the storage URI, endpoint_url and region"
    if code in _CREDENTIAL_CODES:
        return (
            "the credentials from the standard AWS chain were rejected; refresh them "
            "(environment variables, AWS_PROFILE, or the instance/container role)"
        )
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
        return "the bucket lives in another region; set the storage region to the bucket's region"
    return "see the AWS error code"


def _error_code(exc: ClientError) -> tuple[str, int | None]:
    error: Any = exc.response.get("Error", {})
    meta: Any = exc.response.get("ResponseMetadata", {})
    return str(error.get("Code", "Unknown")), meta.get("HTTPStatusCode")


class S3Storage(Storage):
    """Storage in an S3 bucket (AWS S3, MinIO, moto), below an optional key prefix.

    Args:
        bucket: Bucket name.
        prefix: Key prefix acting as the root folder; leading/trailing slashes are ignored.
        endpoint_url: S3 endpoint for MinIO/moto; ``None`` lets boto3 use ``AWS_ENDPOINT_URL_S3``,
            ``AWS_ENDPOINT_URL`` or the AWS default.
        region: AWS region; ``None`` lets boto3 use ``AWS_REGION``/``AWS_DEFAULT_REGION``/profile.
        client: A ready boto3 S3 client (tests, custom sessions). Credentials always come from the
            standard AWS chain of whatever session created the client.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: S3Client | None = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise StorageError(f"Invalid S3 bucket name {bucket!r}; use open_storage('s3://bucket/prefix').")
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        if self._prefix:
            _check_prefix(self._prefix)
        if client is None:
            # A private Session, not boto3's module-level default: creating clients from the shared
            # default session is not thread-safe. Credentials resolve here, from the standard chain.
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=_S3_CONFIG
            )
        self._client: S3Client = client

    def __repr__(self) -> str:
        return f"S3Storage({self.uri!r})"

    @property
    def bucket(self) -> str:
        """Bucket name."""
        return self._bucket

    @property
    def prefix(self) -> str:
        """Key prefix without leading or trailing slashes (``""`` for the bucket root)."""
        return self._prefix

    @property
    def uri(self) -> str:
        """``s3://bucket`` or ``s3://bucket/prefix``."""
        return f"s3://{self._bucket}/{self._prefix}" if self._prefix else f"s3://{self._bucket}"

    def _s3_key(self, key: str) -> str:
        _check_key(key)
        return f"{self._prefix}/{key}" if self._prefix else key

    def uri_for(self, key: str) -> str:
        """Return ``s3://bucket/prefix/key``."""
        return f"s3://{self._bucket}/{self._s3_key(key)}"

    def _fail(self, action: str, uri: str, exc: ClientError | BotoCoreError) -> StorageError:
        """Build the StorageError for a failed call: URI, AWS code and a hint, never credentials."""
        if isinstance(exc, ClientError):
            code, status = _error_code(exc)
            return StorageError(f"S3 {action} of {uri} failed with {code} (HTTP {status}): {_s3_hint(code)}.")
        # BotoCoreError messages (no credentials found, cannot connect, ...) contain no secrets.
        return StorageError(f"S3 {action} of {uri} failed: {type(exc).__name__}: {exc}")

    def read_bytes(self, key: str) -> bytes:
        """Return the object's bytes.

        Raises:
            ObjectNotFoundError: No object at ``key``.
            StorageError: Any other S3 or network failure.
        """
        s3_key, uri = self._s3_key(key), self.uri_for(key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=s3_key)
            body: bytes = response["Body"].read()
        except ClientError as exc:
            if _error_code(exc)[0] in _NOT_FOUND_CODES:
                raise ObjectNotFoundError(f"No object at {uri}.") from exc
            raise self._fail("read", uri, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read", uri, exc) from exc
        return body

    def write_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Upload ``data`` in one PUT (atomic on S3); ``if_absent`` adds ``If-None-Match: *``.

        Raises:
            ConditionalWriteFailedError: ``if_absent`` is set and the key exists, or another conditional
                create of the same key won the race.
            StorageError: Any other S3 or network failure.
        """
        s3_key, uri = self._s3_key(key), self.uri_for(key)
        extra: dict[str, str] = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self._client.put_object(Bucket=self._bucket, Key=s3_key, Body=data, **extra)
        except ClientError as exc:
            code, _status = _error_code(exc)
            if if_absent and code in _CONDITIONAL_CODES:
                raise ConditionalWriteFailedError(
                    f"{uri} already exists (or another writer is creating it; S3 said {code}); "
                    "a conditional create (if_absent=True) never overwrites."
                ) from exc
            raise self._fail("write", uri, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("write", uri, exc) from exc
        logger.debug("wrote %d bytes to %s", len(data), uri)

    def exists(self, key: str) -> bool:
        """Return whether an object exists at ``key`` (one HEAD request)."""
        s3_key, uri = self._s3_key(key), self.uri_for(key)
        try:
            self._client.head_object(Bucket=self._bucket, Key=s3_key)
        except ClientError as exc:
            if _error_code(exc)[0] in _NOT_FOUND_CODES:
                return False
            raise self._fail("existence check", uri, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("existence check", uri, exc) from exc
        return True

    def list_keys(self, prefix: str = "") -> list[str]:
        """Return the sorted keys below the storage prefix that start with ``prefix``."""
        _check_prefix(prefix)
        # The trailing "/" keeps root "runs" from also listing "runs2/...".
        root = f"{self._prefix}/" if self._prefix else ""
        keys: list[str] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Prefix=root + prefix):
                # Keys ending in "/" are the empty "folder" markers the S3 console creates; they are
                # not objects in our model (and not valid keys), so listing them would break callers.
                keys.extend(obj["Key"][len(root) :] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("listing", f"s3://{self._bucket}/{root}{prefix}", exc) from exc
        return sorted(keys)

    def delete(self, key: str) -> None:
        """Delete the object (on a versioned bucket: add a delete marker); missing keys are fine."""
        s3_key, uri = self._s3_key(key), self.uri_for(key)
        try:
            self._client.delete_object(Bucket=self._bucket, Key=s3_key)
        except ClientError as exc:
            if _error_code(exc)[0] in _NOT_FOUND_CODES:
                return
            raise self._fail("delete", uri, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("delete", uri, exc) from exc


# --------------------------------------------------------------------------------------------------
# Opening a storage from a URI
# --------------------------------------------------------------------------------------------------


def open_storage(uri: str, *, endpoint_url: str | None = None, region: str | None = None) -> Storage:
    """Open the storage a URI names.

    Args:
        uri: ``s3://bucket[/prefix]`` for S3; a plain path or ``file://`` URI for a local folder.
        endpoint_url: S3 endpoint (MinIO, moto); ignored for local folders.
        region: AWS region; ignored for local folders.

    Returns:
        An :class:`S3Storage` or :class:`LocalStorage`.

    Raises:
        StorageError: The URI has no bucket, or a scheme other than ``s3://`` and ``file://``.
    """
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if not bucket:
            raise StorageError(f"Storage URI {uri!r} names no bucket; write it as s3://bucket/prefix.")
        return S3Storage(bucket, prefix, endpoint_url=endpoint_url, region=region)
    if uri.startswith("file://"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise StorageError(
                f"Storage URI {uri!r} names host {parsed.netloc!r}; file URIs need an absolute path "
                "(file:///path/to/folder) or use a plain path."
            )
        return LocalStorage(Path(url2pathname(unquote(parsed.path))))
    if _URI_SCHEME.match(uri):
        raise StorageError(f"Unsupported storage URI {uri!r}: use s3://bucket/prefix, file:///path or a plain path.")
    return LocalStorage(Path(uri))


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------


# eq=False: a generated __eq__/__hash__ would compare or hash the DataFrame, which pandas refuses.
@dataclass(frozen=True, slots=True, eq=False)
class LoadedTable:
    """A table read from storage, with where it came from.

    Attributes:
        name: Table name as requested, e.g. ``inputs/items``.
        frame: The data. CSV cells are strings (empty cells are NA); Parquet keeps its types.
        key: Storage key actually read, e.g. ``inputs/items.csv``.
        checksum: SHA-256 hex digest of the stored bytes, for manifests and reproducibility.
        fmt: ``"csv"`` or ``"parquet"``.
    """

    name: str
    frame: pd.DataFrame
    key: str
    checksum: str
    fmt: TableFormat


def read_table(storage: Storage, name: str) -> LoadedTable | None:
    """Read ``<name>.parquet`` or ``<name>.csv``, whichever exists.

    Args:
        storage: Where to read from.
        name: Table key without extension, e.g. ``inputs/items``.

    Returns:
        The table, or ``None`` if neither file exists.

    Raises:
        StorageError: Both files exist, or the file cannot be parsed.
    """
    parquet_key, csv_key = _check_key(f"{name}.parquet"), _check_key(f"{name}.csv")
    has_parquet, has_csv = storage.exists(parquet_key), storage.exists(csv_key)
    if has_parquet and has_csv:
        raise StorageError(
            f"Table {name!r} exists twice: {storage.uri_for(parquet_key)} and {storage.uri_for(csv_key)}. "
            "Keep one of them (delete or rename the other) so it is clear which one is the input."
        )
    if not (has_parquet or has_csv):
        return None
    fmt: TableFormat = "parquet" if has_parquet else "csv"
    key = parquet_key if has_parquet else csv_key
    data = storage.read_bytes(key)
    try:
        frame = _parse_parquet(data) if fmt == "parquet" else _parse_csv(data)
    except (pa.ArrowException, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StorageError(
            f"Could not parse {storage.uri_for(key)} as {fmt}: {exc}. "
            f"Re-export it as {'Parquet' if fmt == 'parquet' else 'UTF-8 CSV with a header row'}."
        ) from exc
    return LoadedTable(name=name, frame=frame, key=key, checksum=hashlib.sha256(data).hexdigest(), fmt=fmt)


def _parse_parquet(data: bytes) -> pd.DataFrame:
    return pq.read_table(pa.BufferReader(data)).to_pandas()


def _parse_csv(data: bytes) -> pd.DataFrame:
    # All cells as strings so validation, not the parser, reports "12,5" or "n/a"; only truly
    # empty cells become NA. utf-8-sig strips the byte-order mark Excel puts before the header.
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")


def write_table(
    storage: Storage,
    key: str,
    frame: pd.DataFrame,
    *,
    fmt: TableFormat = "parquet",
    if_absent: bool = False,
) -> str:
    """Serialize ``frame`` (without its index) and write it atomically through ``storage``.

    Args:
        storage: Where to write.
        key: Full key including the extension matching ``fmt``, e.g. ``outputs/purchases.parquet``.
        frame: The table.
        fmt: ``"parquet"`` (typed, default) or ``"csv"``.
        if_absent: Conditional create; see :meth:`Storage.write_bytes`.

    Returns:
        SHA-256 hex digest of the bytes written, for the run manifest.

    Raises:
        StorageError: ``fmt`` is unknown or does not match the key's extension.
        ConditionalWriteFailedError: ``if_absent`` is set and the key exists.
    """
    if fmt not in ("parquet", "csv"):
        raise StorageError(f"Unknown table format {fmt!r}; use 'parquet' or 'csv'.")
    if not _check_key(key).endswith(f".{fmt}"):
        # read_table picks the parser from the extension, so a mismatch would be unreadable later.
        raise StorageError(f"Table key {key!r} must end with '.{fmt}' to be written as {fmt}.")
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        data = buffer.getvalue()
    else:
        # "\n" on every OS so the same table gives the same bytes and checksum everywhere.
        data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    storage.write_bytes(key, data, if_absent=if_absent)
    return hashlib.sha256(data).hexdigest()
