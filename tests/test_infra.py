"""What can be checked of infra/ without Docker or a cloud account: the files parse, the
deployment points at the real flow on a weekly Monday schedule, the IAM policy names exactly
the configured S3 prefixes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from planning.config import load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"


def _yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((INFRA / name).read_text())
    assert isinstance(data, dict)
    return data


def _iam() -> ModuleType:
    spec = importlib.util.spec_from_file_location("iam_policy", INFRA / "iam_policy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# prefect.yaml
# ---------------------------------------------------------------------------------------------


def test_deployment_runs_the_weekly_flow_mondays_at_six_on_a_process_pool() -> None:
    from prefect.client.schemas.schedules import CronSchedule

    (deployment,) = _yaml("prefect.yaml")["deployments"]
    assert deployment["entrypoint"] == "flows/weekly.py:weekly_plan"
    assert deployment["work_pool"]["name"] == "buyplan-process"
    (schedule,) = deployment["schedules"]
    assert schedule["cron"] == "0 6 * * 1" and schedule["active"] is True
    # The schedule's zone and the flow's "this week" come from one anchor, so they cannot drift.
    assert schedule["timezone"] == deployment["parameters"]["timezone"]
    CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])  # a valid cron and IANA zone
    assert (ROOT / deployment["parameters"]["config"]).exists()


def test_deployment_entrypoint_loads_the_real_flow_and_its_parameters_exist() -> None:
    from prefect.flows import load_flow_from_entrypoint

    from flows.weekly import weekly_plan

    (deployment,) = _yaml("prefect.yaml")["deployments"]
    path, name = deployment["entrypoint"].split(":")
    loaded: Any = load_flow_from_entrypoint(f"{ROOT / path}:{name}")
    assert loaded.name == weekly_plan.name == "buyplan-weekly"
    assert set(deployment["parameters"]) <= set(loaded.parameters.properties)


def test_prefect_yaml_passes_prefects_own_schema() -> None:
    # The model `prefect deploy` itself validates prefect.yaml with (a private module, so checked lightly).
    models = pytest.importorskip("prefect.cli.deploy._models")
    parsed = models.PrefectYamlModel.model_validate(_yaml("prefect.yaml"))
    assert [d.name for d in parsed.deployments] == ["weekly"]


# ---------------------------------------------------------------------------------------------
# Compose, Dockerfile, configurations
# ---------------------------------------------------------------------------------------------


def test_compose_stack_has_server_worker_and_minio() -> None:
    services = _yaml("docker-compose.yml")["services"]
    assert {"prefect-server", "worker", "minio", "deploy"} <= set(services)
    worker = services["worker"]
    assert worker["build"]["dockerfile"] == "infra/Dockerfile"
    assert "buyplan-process" in worker["command"]
    assert worker["environment"]["PREFECT_API_URL"].startswith("http://prefect-server:4200")
    assert services["prefect-server"]["environment"]["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_dockerfile_installs_the_package_and_starts_a_process_worker() -> None:
    text = (INFRA / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11" in text
    assert "pip install" in text and "PREFECT_SERVER_ANALYTICS_ENABLED=false" in text
    assert '"prefect", "worker", "start", "--pool", "buyplan-process"' in text
    for source in ("planning", "models", "flows", "data_contracts", "configs"):
        assert f"COPY {source} {source}" in text


@pytest.mark.parametrize("path", ["configs/production.yaml", "infra/local-stack.yaml"])
def test_shipped_configurations_load(path: str) -> None:
    config = load_config(ROOT / path)
    assert config.storage.inputs.startswith("s3://") and config.storage.outputs.startswith("s3://")


# ---------------------------------------------------------------------------------------------
# IAM policy
# ---------------------------------------------------------------------------------------------


def _resources(policy: dict[str, Any]) -> list[str]:
    return [resource for statement in policy["Statement"] for resource in statement["Resource"]]


def test_policy_names_only_the_configured_prefixes() -> None:
    iam = _iam()
    config = parse_config(
        {
            "storage": {"inputs": "s3://brand-data/erp/exports", "outputs": "s3://brand-plans/buyplan"},
            "validation": {"report_folder": "_checks"},
        }
    )
    policy = iam.policy_for(config)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadInputs"]["Action"] == ["s3:GetObject"]
    assert by_sid["ReadInputs"]["Resource"] == ["arn:aws:s3:::brand-data/erp/exports/*"]
    assert by_sid["WriteValidationReport"]["Resource"] == ["arn:aws:s3:::brand-data/erp/exports/_checks/*"]
    assert by_sid["ReadWriteOutputs"]["Resource"] == ["arn:aws:s3:::brand-plans/buyplan/*"]
    assert by_sid["ClearFailedMarkers"]["Action"] == ["s3:DeleteObject"]
    allowed = ("arn:aws:s3:::brand-data/erp/exports/", "arn:aws:s3:::brand-plans/buyplan/")
    for resource in _resources(policy):
        assert resource.startswith(allowed) or resource in {"arn:aws:s3:::brand-data", "arn:aws:s3:::brand-plans"}
    listing = [s for s in policy["Statement"] if s["Action"] == ["s3:ListBucket"]]
    prefixes = sorted(p for s in listing for p in s["Condition"]["StringLike"]["s3:prefix"])
    assert prefixes == ["buyplan", "buyplan/*", "erp/exports", "erp/exports/*"]
    actions = {action for s in policy["Statement"] for action in s["Action"]}
    assert actions == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
    assert all(s["Effect"] == "Allow" and "*" not in s["Action"] for s in policy["Statement"])


def test_policy_refuses_local_storage() -> None:
    with pytest.raises(ValueError, match="not an s3:// location"):
        _iam().policy_for(parse_config({"storage": {"inputs": "demo_run/inputs", "outputs": "s3://b/out"}}))


def test_committed_policy_matches_the_production_template() -> None:
    committed = json.loads((INFRA / "iam-policy.json").read_text())
    assert committed == _iam().policy_for(load_config(ROOT / "configs" / "production.yaml"))
