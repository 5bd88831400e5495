"""Write the least-privilege IAM policy for the S3 locations of a buyplan configuration.

    python infra/iam_policy.py configs/production.yaml > infra/iam-policy.json

What the service does, and so all it may do:

* inputs (``storage.inputs``): read the tables (GetObject, HEAD), and write the validation
  report into ``<inputs>/<validation.report_folder>/`` (PutObject there only).
* outputs (``storage.outputs``): read and write run folders and latest pointers (GetObject,
  PutObject; conditional creates are PutObject with ``If-None-Match``), and delete a run's
  ``_FAILED`` marker when a retry completes it (DeleteObject on those keys only).
* ListBucket on each bucket involved, limited by ``s3:prefix`` to the configured prefixes. S3
  answers a HEAD on a missing key with 404 only to callers that may list the bucket; if your
  account answers 403 there (the check for existence then fails with AccessDenied), drop the
  ``Condition`` of the ListBucket statement and keep the service in a bucket of its own.

Nothing else: no bucket-wide object access, no other bucket, no ``s3:*``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

from planning.config import RunConfig, load_config

VERSION = "2012-10-17"


def s3_location(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``); the prefix may be empty."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// location: the IAM policy only covers S3 storage")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, prefix.strip("/")


def _objects(bucket: str, prefix: str, below: str = "*") -> str:
    path = f"{prefix}/{below}" if prefix else below
    return f"arn:aws:s3:::{bucket}/{path}"


def policy_for(config: RunConfig) -> dict[str, Any]:
    """The IAM policy document for the configuration's inputs and outputs (both on S3)."""
    in_bucket, in_prefix = s3_location(config.storage.inputs)
    out_bucket, out_prefix = s3_location(config.storage.outputs)
    report = config.validation.report_folder.strip("/")
    listed: dict[str, set[str]] = defaultdict(set)
    for bucket, prefix in ((in_bucket, in_prefix), (out_bucket, out_prefix)):
        listed[bucket].update({f"{prefix}/*", prefix} if prefix else {"*"})
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadInputs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [_objects(in_bucket, in_prefix)],
        },
        {
            "Sid": "WriteValidationReport",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [_objects(in_bucket, in_prefix, f"{report}/*")],
        },
        {
            "Sid": "ReadWriteOutputs",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [_objects(out_bucket, out_prefix)],
        },
        {
            "Sid": "ClearFailedMarkers",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject"],
            "Resource": [_objects(out_bucket, out_prefix, "plans/*/_FAILED")],
        },
    ]
    for i, (bucket, prefixes) in enumerate(sorted(listed.items())):
        statements.append(
            {
                "Sid": f"ListConfiguredPrefixes{i}",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": sorted(prefixes)}},
            }
        )
    return {"Version": VERSION, "Statement": statements}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python infra/iam_policy.py CONFIG.yaml > iam-policy.json", file=sys.stderr)
        return 2
    print(json.dumps(policy_for(load_config(argv[0])), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
