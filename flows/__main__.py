"""Run the weekly flow once, or serve it on its weekly schedule, from the command line.

    python -m flows run --config configs/demo.yaml --inputs demo_run/inputs --outputs demo_run/outputs
    python -m flows serve --config configs/production.yaml --timezone Europe/Berlin

``run`` needs no Prefect server: without ``PREFECT_API_URL`` Prefect starts a local ephemeral one
for the run. ``serve`` registers a deployment with a Monday 06:00 cron schedule on the server in
``PREFECT_API_URL`` and runs its flow runs in this process until stopped (Ctrl-C).

Exit codes of ``run`` follow ``buyplan``'s: 0 ok, 1 internal, 2 invalid input, 3 bad
configuration, 4 no plan, 5 storage or publish failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from flows.env import apply_prefect_defaults

WEEKLY_CRON = "0 6 * * 1"  # Mondays 06:00 in the schedule's time zone
DEPLOYMENT_NAME = "weekly"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flows", description="The buyplan weekly Prefect flow.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (("run", "run the weekly flow once, now"), ("serve", "serve the flow on its weekly schedule")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", default="configs/production.yaml", help="YAML run configuration")
        p.add_argument("--inputs", help="folder or s3://bucket/prefix with the input tables (default: config)")
        p.add_argument("--outputs", help="folder or s3://bucket/prefix to publish into (default: config)")
        p.add_argument("--endpoint-url", help="S3-compatible endpoint such as MinIO (default: config)")
        p.add_argument("--timezone", default="UTC", help="IANA time zone of the schedule and of 'this week'")
    sub.choices["run"].add_argument("--as-of", type=_date, help="plan start date (default: this week's Monday)")
    sub.choices["serve"].add_argument("--name", default=DEPLOYMENT_NAME, help="deployment name")
    sub.choices["serve"].add_argument("--cron", default=WEEKLY_CRON, help="schedule (default: Mondays 06:00)")
    backtest = sub.add_parser("backtest", help="run the backtest flow once (flows/backtest.py)")
    backtest.add_argument("--config", default="configs/backtest_m5.yaml", help="backtest YAML")
    backtest.add_argument("--inputs", help="tables as of the start, history through the window (default: config)")
    backtest.add_argument("--outputs", help="folder or s3://bucket/prefix; results under backtests/ (default: config)")
    backtest.add_argument("--endpoint-url", help="S3-compatible endpoint such as MinIO (default: config)")
    backtest.add_argument("--start", type=_date, help="first replayed Monday (default: config)")
    backtest.add_argument("--weeks", type=int, help="weeks replayed (default: config)")
    return parser


def run_backtest(args: argparse.Namespace) -> int:
    from flows.backtest import backtest_flow
    from planning.cli import EXIT_OK, report_failure

    names = ("config", "inputs", "outputs", "endpoint_url", "start", "weeks")
    try:
        summary = backtest_flow(**{n: getattr(args, n) for n in names if getattr(args, n) is not None})
    except Exception as error:  # a documented exit code, or 1 for a bug
        return report_failure(error)
    print(f"backtest {summary['run_id']} published at {summary['uri']}")
    return EXIT_OK


def _parameters(args: argparse.Namespace) -> dict[str, object]:
    """The flow parameters given on the command line (the deployment's for ``serve``)."""
    names = ("config", "inputs", "outputs", "endpoint_url", "timezone", "as_of")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def run(args: argparse.Namespace) -> int:
    from flows.weekly import weekly_plan
    from planning.cli import EXIT_OK, report_failure

    try:
        summary = weekly_plan(
            as_of=args.as_of,
            config=args.config,
            inputs=args.inputs,
            outputs=args.outputs,
            endpoint_url=args.endpoint_url,
            timezone=args.timezone,
        )
    except Exception as error:  # a documented exit code, or 1 for a bug (the flow run's log has the traceback)
        return report_failure(error)
    print(f"{summary.status}: plan for the week of {summary.as_of} published at {summary.plan_uri}")
    return EXIT_OK


def serve(args: argparse.Namespace) -> int:
    from prefect.schedules import Cron

    from flows.weekly import weekly_plan

    parameters = _parameters(args)
    weekly_plan.serve(
        name=args.name,
        schedule=Cron(args.cron, timezone=args.timezone),
        parameters=parameters,
        tags=["buyplan"],
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_prefect_defaults()  # before Prefect is imported by flows.weekly
    if args.command == "backtest":
        return run_backtest(args)
    return run(args) if args.command == "run" else serve(args)


if __name__ == "__main__":
    sys.exit(main())
