"""Behaviour of planning.storage, run identically against a local folder and S3 over HTTP (moto)."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from planning.errors import StorageError
from planning.storage import (
    ConditionalWriteFailedError,
    LoadedTable,
    LocalStorage,
    ObjectNotFoundError,
    S3Storage,
    Storage,
    open_storage,
    read_table,
    write_table,
)

S3_PREFIX = "team/buyplan"


@pytest.fixture(params=[pytest.param("local", id="local"), pytest.param("s3", id="s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The same storage contract on both backends; S3 sits below a prefix to exercise key mapping."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "store")
        return
    # Looked up lazily so that `-m "not s3"` runs never start the moto server.
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    yield S3Storage(bucket, S3_PREFIX, endpoint_url=endpoint, region="us-east-1")


# --------------------------------------------------------------------------------------------------
# Bytes
# --------------------------------------------------------------------------------------------------


def test_bytes_round_trip(storage: Storage) -> None:
    payload = bytes(range(256)) * 3
    storage.write_bytes("blob.bin", payload)
    storage.write_bytes("empty.bin", b"")

    assert storage.read_bytes("blob.bin") == payload
    assert storage.read_bytes("empty.bin") == b""


def test_nested_keys(storage: Storage) -> None:
    key = "runs/2026-W48/outputs/purchases.csv"
    storage.write_bytes(key, b"sku,qty\nA,1\n")

    assert storage.read_bytes(key) == b"sku,qty\nA,1\n"
    assert storage.list_keys() == [key]
    assert storage.uri_for(key) == f"{storage.uri}/{key}"


def test_uri_formats(storage: Storage) -> None:
    if isinstance(storage, S3Storage):
        assert storage.uri == f"s3://{storage.bucket}/{S3_PREFIX}"
        assert storage.uri_for("inputs/items.csv") == f"s3://{storage.bucket}/{S3_PREFIX}/inputs/items.csv"
    else:
        assert isinstance(storage, LocalStorage)
        assert Path(storage.uri).is_absolute()
        assert storage.uri_for("inputs/items.csv") == str(storage.root / "inputs" / "items.csv")


def test_list_keys_is_sorted_recursive_and_filters_by_prefix(storage: Storage) -> None:
    keys = ["outputs/plan.parquet", "inputs/sales.csv", "inputs/items.csv", "inputs_old/items.csv", "README"]
    for key in keys:
        storage.write_bytes(key, key.encode())

    assert storage.list_keys() == sorted(keys)
    assert storage.list_keys("inputs/") == ["inputs/items.csv", "inputs/sales.csv"]
    # Prefixes are string prefixes, as on S3: "inputs" also matches "inputs_old/".
    assert storage.list_keys("inputs") == ["inputs/items.csv", "inputs/sales.csv", "inputs_old/items.csv"]
    assert storage.list_keys("inputs/s") == ["inputs/sales.csv"]
    assert storage.list_keys("missing/") == []


@pytest.mark.parametrize("prefix", ["../", "/abs", "a/../b", "a\\b"])
def test_list_keys_rejects_bad_prefix(storage: Storage, prefix: str) -> None:
    with pytest.raises(StorageError, match="Invalid storage prefix"):
        storage.list_keys(prefix)


def test_exists_and_delete(storage: Storage) -> None:
    key = "inputs/items.csv"
    assert not storage.exists(key)

    storage.write_bytes(key, b"x")
    assert storage.exists(key)
    assert not storage.exists("inputs")  # a "folder" is not an object

    storage.delete(key)
    assert not storage.exists(key)
    assert storage.list_keys() == []
    storage.delete(key)  # deleting again is fine
    storage.delete("never/written.csv")


def test_read_missing_key_raises_object_not_found_naming_the_uri(storage: Storage) -> None:
    key = "inputs/nope.csv"
    with pytest.raises(ObjectNotFoundError) as info:
        storage.read_bytes(key)

    assert isinstance(info.value, StorageError)
    assert storage.uri_for(key) in str(info.value)


def test_conditional_create_succeeds_once(storage: Storage) -> None:
    key = "runs/r1/_CLAIM"
    storage.write_bytes(key, b"first", if_absent=True)

    with pytest.raises(ConditionalWriteFailedError, match="already exists") as info:
        storage.write_bytes(key, b"second", if_absent=True)

    assert storage.uri_for(key) in str(info.value)
    assert isinstance(info.value, StorageError)
    assert storage.read_bytes(key) == b"first"
    assert storage.list_keys() == [key]  # the failed attempt left nothing behind
    # After a delete (on versioned S3: a delete marker) the key counts as absent again.
    storage.delete(key)
    storage.write_bytes(key, b"third", if_absent=True)
    assert storage.read_bytes(key) == b"third"


def test_local_conditional_create_race_has_exactly_one_winner(tmp_path: Path) -> None:
    # Local only: on S3 the atomicity is the server's job and moto's If-None-Match check is a plain
    # check-then-put without a lock, so racing it would test moto's thread timing, not our code.
    storage = LocalStorage(tmp_path)
    key = "runs/r1/_CLAIM"
    writers = 8
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(i: int) -> None:
        barrier.wait()
        try:
            storage.write_bytes(key, f"writer-{i}".encode(), if_absent=True)
            result = f"won:{i}"
        except ConditionalWriteFailedError:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(outcomes) == writers
    assert len(winners) == 1, outcomes
    assert storage.read_bytes(key) == f"writer-{winners[0].removeprefix('won:')}".encode()


def test_overwrite_is_atomic_for_concurrent_readers(storage: Storage) -> None:
    key = "outputs/plan.bin"
    # Different sizes and fillers: a torn read would be a mix or a truncation of the two.
    versions = (b"A" * 1_500_000, b"B" * 700_000)
    storage.write_bytes(key, versions[0])
    stop = threading.Event()
    torn: list[int] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            data = storage.read_bytes(key)
            reads += 1
            if data not in versions:
                torn.append(len(data))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(12):
            storage.write_bytes(key, versions[i % 2])
    finally:
        stop.set()
        thread.join()

    assert torn == []
    assert reads > 0
    assert storage.read_bytes(key) == versions[1]  # the last write, i = 11
    assert storage.list_keys() == [key]


BAD_KEYS = ["../x", "/abs", "a/../b", "./a", "a//b", "a/", "", "a\\b", "x.buyplan-tmp"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_rejected_everywhere(storage: Storage, key: str) -> None:
    operations: list[Callable[[], object]] = [
        lambda: storage.read_bytes(key),
        lambda: storage.write_bytes(key, b"x"),
        lambda: storage.write_bytes(key, b"x", if_absent=True),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.uri_for(key),
    ]
    for operation in operations:
        with pytest.raises(StorageError, match="Invalid storage key") as info:
            operation()
        assert type(info.value) is StorageError  # not ObjectNotFoundError: the key itself is wrong
    assert storage.list_keys() == []


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------


def test_csv_table_round_trip_reads_every_cell_as_string(storage: Storage) -> None:
    frame = pd.DataFrame({"sku": ["A-1", "B-2", "C-3"], "qty": [10, 0, 7], "note": ["x", None, "z"]})
    checksum = write_table(storage, "inputs/items.csv", frame, fmt="csv")

    loaded = read_table(storage, "inputs/items")

    assert loaded is not None
    assert (loaded.name, loaded.key, loaded.fmt) == ("inputs/items", "inputs/items.csv", "csv")
    assert loaded.checksum == checksum == hashlib.sha256(storage.read_bytes("inputs/items.csv")).hexdigest()
    expected = pd.DataFrame({"sku": ["A-1", "B-2", "C-3"], "qty": ["10", "0", "7"], "note": ["x", None, "z"]})
    pd.testing.assert_frame_equal(loaded.frame, expected.astype(str).where(expected.notna()), check_dtype=False)
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in loaded.frame.dtypes)
    assert loaded.frame["note"].isna().tolist() == [False, True, False]


def test_csv_keeps_unparseable_values_for_validation(storage: Storage) -> None:
    # Excel's UTF-8 export starts with a byte-order mark; it must not end up in the first column name.
    raw = '\ufeffsku,qty,price\n007,n/a,"12,5"\nB,,NULL\n'.encode()
    storage.write_bytes("inputs/items.csv", raw)

    loaded = read_table(storage, "inputs/items")

    assert loaded is not None
    assert list(loaded.frame.columns) == ["sku", "qty", "price"]
    assert loaded.frame["sku"].tolist() == ["007", "B"]  # leading zeros survive
    assert loaded.frame["qty"].iloc[0] == "n/a"  # not silently NA: validation reports it
    assert pd.isna(loaded.frame["qty"].iloc[1])  # only empty cells are NA
    assert loaded.frame["price"].tolist() == ["12,5", "NULL"]


def test_parquet_table_round_trip_keeps_native_types(storage: Storage) -> None:
    frame = pd.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "qty": pd.Series([1, 2, 3], dtype="int64"),
            "price": [1.5, 2.25, float("nan")],
            "active": [True, False, True],
            "week": pd.to_datetime(["2026-11-23", "2026-11-30", "2026-12-07"]),
        },
        index=[10, 20, 30],  # the index is not data and must not be written
    )
    checksum = write_table(storage, "outputs/plan.parquet", frame)

    loaded = read_table(storage, "outputs/plan")

    assert loaded is not None
    assert (loaded.key, loaded.fmt) == ("outputs/plan.parquet", "parquet")
    assert loaded.checksum == checksum
    pd.testing.assert_frame_equal(loaded.frame, frame.reset_index(drop=True))


def test_read_table_refuses_when_both_formats_exist(storage: Storage) -> None:
    frame = pd.DataFrame({"sku": ["A"]})
    write_table(storage, "inputs/items.csv", frame, fmt="csv")
    write_table(storage, "inputs/items.parquet", frame, fmt="parquet")

    with pytest.raises(StorageError, match="Keep one") as info:
        read_table(storage, "inputs/items")

    assert storage.uri_for("inputs/items.csv") in str(info.value)
    assert storage.uri_for("inputs/items.parquet") in str(info.value)


def test_read_table_missing_returns_none(storage: Storage) -> None:
    storage.write_bytes("inputs/other.csv", b"a\n1\n")
    assert read_table(storage, "inputs/items") is None


def test_write_table_conditional_create(storage: Storage) -> None:
    frame = pd.DataFrame({"sku": ["A"]})
    write_table(storage, "outputs/plan.parquet", frame, if_absent=True)
    with pytest.raises(ConditionalWriteFailedError):
        write_table(storage, "outputs/plan.parquet", frame, if_absent=True)


def test_write_table_rejects_extension_that_does_not_match_format(storage: Storage) -> None:
    with pytest.raises(StorageError, match=r"must end with '\.parquet'"):
        write_table(storage, "outputs/plan.csv", pd.DataFrame({"a": [1]}), fmt="parquet")
    assert storage.list_keys() == []


def test_read_table_names_the_file_it_cannot_parse(storage: Storage) -> None:
    storage.write_bytes("inputs/items.parquet", b"this is not parquet")
    with pytest.raises(StorageError, match="Could not parse") as info:
        read_table(storage, "inputs/items")
    assert storage.uri_for("inputs/items.parquet") in str(info.value)


def test_loaded_table_is_frozen() -> None:
    table = LoadedTable(name="t", frame=pd.DataFrame(), key="t.csv", checksum="0" * 64, fmt="csv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.key = "other.csv"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# Backend specifics
# --------------------------------------------------------------------------------------------------


def test_local_failed_write_keeps_old_content_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("outputs/plan.csv", b"old")

    def crash(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(StorageError, match="No space left"):
        storage.write_bytes("outputs/plan.csv", b"new")

    assert storage.read_bytes("outputs/plan.csv") == b"old"
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["plan.csv"]


def test_local_list_keys_ignores_in_progress_writes(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("outputs/plan.csv", b"x")
    (tmp_path / "outputs" / ".plan.csv.0123abcd.buyplan-tmp").write_bytes(b"half")

    assert storage.list_keys() == ["outputs/plan.csv"]


def test_local_storage_does_not_escape_its_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    with pytest.raises(StorageError):
        storage.write_bytes("../escaped.txt", b"x")
    assert not (tmp_path / "escaped.txt").exists()


def test_backends_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(LocalStorage(tmp_path), Storage)


@pytest.mark.s3
def test_s3_prefixes_are_isolated(s3_endpoint: str, s3_bucket: str) -> None:
    team = S3Storage(s3_bucket, "team/buyplan", endpoint_url=s3_endpoint)
    sibling = S3Storage(s3_bucket, "team/buyplan2/", endpoint_url=s3_endpoint)
    root = S3Storage(s3_bucket, endpoint_url=s3_endpoint)
    team.write_bytes("inputs/items.csv", b"1")
    sibling.write_bytes("inputs/items.csv", b"2")

    assert team.list_keys() == ["inputs/items.csv"]
    assert sibling.list_keys() == ["inputs/items.csv"]
    assert sibling.uri == f"s3://{s3_bucket}/team/buyplan2"
    assert root.list_keys() == ["team/buyplan/inputs/items.csv", "team/buyplan2/inputs/items.csv"]
    assert root.read_bytes("team/buyplan2/inputs/items.csv") == b"2"


@pytest.mark.parametrize(("code", "status"), [("PreconditionFailed", 412), ("ConditionalRequestConflict", 409)])
def test_s3_conditional_conflict_codes_map_to_conditional_write_failed(code: str, status: int) -> None:
    # AWS answers 409 when two conditional PUTs of one key overlap; moto never does, so this one
    # mapping is checked with botocore's Stubber instead of over HTTP.
    client = boto3.session.Session().client(
        "s3", region_name="us-east-1", aws_access_key_id="stub", aws_secret_access_key="stub"
    )
    stubber = Stubber(client)
    stubber.add_client_error("put_object", service_error_code=code, http_status_code=status)
    storage = S3Storage("bucket", "p", client=client)
    with stubber, pytest.raises(ConditionalWriteFailedError, match=code) as info:
        storage.write_bytes("k", b"x", if_absent=True)
    assert "s3://bucket/p/k" in str(info.value)


@pytest.mark.s3
def test_s3_list_keys_skips_console_folder_markers(s3_endpoint: str, s3_bucket: str, s3_admin_client: Any) -> None:
    storage = S3Storage(s3_bucket, S3_PREFIX, endpoint_url=s3_endpoint)
    s3_admin_client.put_object(Bucket=s3_bucket, Key=f"{S3_PREFIX}/inputs/", Body=b"")
    storage.write_bytes("inputs/items.csv", b"x")

    assert storage.list_keys() == ["inputs/items.csv"]


@pytest.mark.s3
def test_s3_client_uses_standard_retries(s3_endpoint: str, s3_bucket: str) -> None:
    storage = S3Storage(s3_bucket, endpoint_url=s3_endpoint)
    # botocore's "max_attempts" counts retries, so 5 means 6 HTTP attempts in total.
    assert storage._client.meta.config.retries == {"total_max_attempts": 6, "mode": "standard"}


@pytest.mark.s3
def test_s3_missing_bucket_is_a_storage_error_with_code_and_no_secret(s3_endpoint: str) -> None:
    storage = S3Storage("buyplan-no-such-bucket", "p", endpoint_url=s3_endpoint)

    for operation in (lambda: storage.read_bytes("k"), lambda: storage.write_bytes("k", b"x")):
        with pytest.raises(StorageError) as info:
            operation()
        message = str(info.value)
        assert type(info.value) is StorageError
        assert "NoSuchBucket" in message
        assert "s3://buyplan-no-such-bucket/p/k" in message
        assert "testing" not in message  # the fake secret key from the fixture


@pytest.mark.s3
def test_s3_unreachable_endpoint_is_a_storage_error(s3_endpoint: str) -> None:
    # One attempt only: the production retry policy would back off for seconds here.
    client = boto3.session.Session().client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
    storage = S3Storage("bucket", client=client)
    with pytest.raises(StorageError, match="EndpointConnectionError"):
        storage.read_bytes("k")


@pytest.mark.s3
def test_s3_endpoint_from_standard_env_var(
    s3_endpoint: str, s3_bucket: str, s3_admin_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No endpoint_url argument: boto3 must pick up AWS_ENDPOINT_URL_S3 by itself.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    storage = open_storage(f"s3://{s3_bucket}/env/prefix")
    storage.write_bytes("k.txt", b"via env")

    assert s3_admin_client.get_object(Bucket=s3_bucket, Key="env/prefix/k.txt")["Body"].read() == b"via env"


# --------------------------------------------------------------------------------------------------
# open_storage
# --------------------------------------------------------------------------------------------------


@pytest.mark.s3
def test_open_storage_s3_uri(s3_endpoint: str) -> None:
    storage = open_storage("s3://my-bucket/some/prefix/", endpoint_url=s3_endpoint, region="eu-west-1")

    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("my-bucket", "some/prefix")
    assert storage.uri == "s3://my-bucket/some/prefix"
    assert storage.uri_for("a/b.csv") == "s3://my-bucket/some/prefix/a/b.csv"
    assert open_storage("s3://my-bucket", endpoint_url=s3_endpoint).uri == "s3://my-bucket"


def test_open_storage_plain_path_and_file_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my runs"
    for uri in (str(folder), folder.as_uri()):
        storage = open_storage(uri)
        assert isinstance(storage, LocalStorage)
        assert storage.root == folder

    monkeypatch.chdir(tmp_path)
    relative = open_storage("demo_run")
    assert isinstance(relative, LocalStorage)
    assert relative.root == tmp_path / "demo_run"


@pytest.mark.parametrize("uri", ["s3://", "s3:///prefix", "gs://bucket/x", "file://somehost/x"])
def test_open_storage_rejects_unusable_uris(uri: str) -> None:
    with pytest.raises(StorageError):
        open_storage(uri)
