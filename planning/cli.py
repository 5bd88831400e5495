"""The ``buyplan`` command line.

Exit codes (stable; scripts and schedulers may rely on them):
  0  success (inputs valid; for plan and demo, the plan published)
  1  unexpected internal error (a bug: please report it with the log)
  2  invalid input: the data-contract report names every failing row and the fix
  3  invalid configuration or command line
  4  no plan: the solver found no plan at all
  5  storage or publish failure: inputs unreadable, or nothing was marked as the latest plan
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from planning.config import RunConfig, load_config
from planning.errors import (
    ConfigError,
    InputContractError,
    NoPlanError,
    PlanCheckError,
    PublishError,
    StorageError,
)

if TYPE_CHECKING:
    from planning.backtest.settings import BacktestSettings
    from planning.pipeline import CheckedInputs, PublishedPlan
    from planning.storage import Storage

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID_INPUT = 2
EXIT_BAD_CONFIG = 3
EXIT_NO_PLAN = 4
EXIT_STORAGE = 5  # inputs unreadable, or the plan could not be published

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_M5_DIR = SHARED_DATASETS / "m5_subset"
DEFAULT_DATASET_DIRS = {"m5": DEFAULT_M5_DIR, "online_retail": SHARED_DATASETS / "online_retail"}

log = logging.getLogger("buyplan")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def _config(args: argparse.Namespace) -> RunConfig:
    config = load_config(args.config)
    updates: dict[str, object] = {}
    if getattr(args, "as_of", None):
        updates["as_of"] = args.as_of
    return config.model_copy(update=updates) if updates else config


def _open(uri: str, config: RunConfig) -> Storage:
    from planning.storage import open_storage

    return open_storage(uri, endpoint_url=config.storage.endpoint_url, region=config.storage.region)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate input tables against their contracts."""
    from planning.pipeline import check_inputs

    config = _config(args)
    inputs = _open(args.inputs or config.storage.inputs, config)
    checked = check_inputs(inputs, config)
    print(checked.report.summary_line())
    for warning in checked.report.warnings:
        print("  " + warning.describe())
    print(f"Report: {checked.report_uri}")
    return EXIT_OK


def _print_plan(published: PublishedPlan) -> None:
    run = published.run
    report = run.report
    gap = "n/a" if report.gap is None else f"{report.gap:.2%}"
    spend = run.plan.purchases["line_value"].sum()
    print(
        f"      Plan for the week of {run.as_of}: {report.status.value}, objective {report.objective:,.0f}, gap {gap}"
    )
    print(
        f"      {len(run.plan.purchases)} purchase lines ({spend:,.0f} {run.problem.currency}), "
        f"{len(run.plan.transfers)} transfers, {len(run.plan.overruns)} limit overrun(s)"
    )
    print(f"      Published: {published.uri}")


def _validated(args: argparse.Namespace) -> tuple[RunConfig, CheckedInputs, Storage]:
    """Step 1 of ``plan`` and ``forecast``: the config, the validated inputs and the output storage."""
    from planning.pipeline import check_inputs

    config = _config(args)
    inputs = _open(args.inputs or config.storage.inputs, config)
    outputs = _open(args.outputs or config.storage.outputs, config)
    print("[1/2] Validating the inputs against their data contracts ...", flush=True)
    checked = check_inputs(inputs, config)
    print(f"      {checked.report.summary_line()}")
    return config, checked, outputs


def cmd_plan(args: argparse.Namespace) -> int:
    """Validate the inputs, plan the week and publish the plan."""
    from planning.pipeline import plan_and_publish

    config, checked, outputs = _validated(args)
    print(f"[2/2] Planning (time limit {config.solver.time_limit_s:.0f} s) ...", flush=True)
    _print_plan(plan_and_publish(checked, outputs, config))
    return EXIT_OK


def cmd_forecast(args: argparse.Namespace) -> int:
    """Validate the inputs, forecast demand and write the forecast with its accuracy table."""
    from planning.run import make_forecast, plan_start
    from planning.storage import write_table

    config, checked, outputs = _validated(args)
    if checked.report.as_of is None:
        raise ConfigError("the inputs carry no as-of date: pass --as-of or set as_of in the configuration")
    as_of = plan_start(checked.report.as_of)
    print(f"[2/2] Forecasting {config.horizon.weeks} weeks from {as_of} ...", flush=True)
    run = make_forecast({name: table.typed for name, table in checked.tables.items()}, as_of, config)
    prefix = f"forecasts/as_of={as_of.isoformat()}"
    for name, frame in (("forecast", run.forecast.frame), ("series", run.series), ("accuracy", run.accuracy)):
        write_table(outputs, f"{prefix}/{name}.parquet", frame)
    methods = run.series["method"].value_counts().to_dict() if "method" in run.series else {}
    print(f"      {len(run.series)} series; methods: {', '.join(f'{k} {v}' for k, v in methods.items())}")
    overall = run.accuracy[run.accuracy["demand_class"] == "all"] if "demand_class" in run.accuracy else run.accuracy
    for row in overall.itertuples(index=False):
        print(f"      holdout WAPE {row.method}: {row.wape:.3f} (bias {row.bias:+.3f})")
    print(f"      Written: {outputs.uri_for(prefix)}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Print where the latest plan's HTML report is, or copy it to a local file."""
    from planning.publish import plan_report

    config = _config(args)
    outputs = _open(args.outputs or config.storage.outputs, config)
    uri, page = plan_report(outputs, args.week)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_bytes(page)
        print(f"Wrote the plan report ({len(page):,} bytes) from {uri} to {args.out}")
    else:
        print(f"Plan report: {uri}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Copy the latest plan's ERP purchase-order files into a local folder."""
    from data_contracts.outputs import CANONICAL_PO_CSV, NETSUITE_PO_CSV, ODOO_PO_CSV
    from planning.publish import erp_exports

    config = _config(args)
    outputs = _open(args.outputs or config.storage.outputs, config)
    files = erp_exports(outputs, args.week)
    layouts = {"canonical": CANONICAL_PO_CSV.file, "netsuite": NETSUITE_PO_CSV.file, "odoo": ODOO_PO_CSV.file}
    wanted = {key: data for key, data in files.items() if args.layout == "all" or key == layouts[args.layout]}
    if not wanted:
        raise PublishError(f"the latest plan has no {args.layout} export; found {sorted(files)}")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for key, data in sorted(wanted.items()):
        target = folder / Path(key).name
        target.write_bytes(data)
        rows = len(data.splitlines()) - 1  # the header line is not an order line
        print(f"Wrote {target} ({rows} rows)")
    return EXIT_OK


def cmd_generate_demo(args: argparse.Namespace) -> int:
    """Write the demo brand's input tables into a folder."""
    from planning.demo_data import generate_demo_tables, write_demo_tables

    tables = generate_demo_tables(seed=args.seed, as_of=args.as_of, n_skus=args.skus)
    write_demo_tables(tables, Path(args.out), fmt=args.format)
    print(f"Wrote {len(tables)} demo tables ({sum(len(t) for t in tables.values()):,} rows) to {args.out}")
    return EXIT_OK


def cmd_load_m5(args: argparse.Namespace) -> int:
    """Turn the M5 subset into canonical tables (supply side synthetic)."""
    from planning.demo_data import write_demo_tables
    from planning.m5 import load_m5_tables

    tables = load_m5_tables(Path(args.dataset), as_of=args.as_of, seed=args.seed)
    write_demo_tables(tables, Path(args.out), fmt=args.format)
    print(f"Wrote {len(tables)} M5 tables ({sum(len(t) for t in tables.values()):,} rows) to {args.out}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo data set into a local folder and run the weekly job on it."""
    from planning.demo_data import generate_demo_tables, write_demo_tables
    from planning.pipeline import check_inputs, plan_and_publish
    from planning.storage import LocalStorage

    config = _config(args)
    inputs = Path(args.dir) / "inputs"
    print(f"[1/3] Generating the demo brand's data (seed {args.seed}) into {inputs} ...", flush=True)
    as_of = {"as_of": args.as_of} if args.as_of else {}
    tables = generate_demo_tables(seed=args.seed, n_skus=args.skus, **as_of)
    write_demo_tables(tables, inputs, fmt="csv")
    print(f"      {len(tables)} tables, {sum(len(t) for t in tables.values()):,} rows", flush=True)
    print("[2/3] Validating the inputs against their data contracts ...", flush=True)
    checked = check_inputs(LocalStorage(inputs), config)
    print(f"      {checked.report.summary_line()}")
    print(f"      Report: {checked.report_uri}")
    print(f"[3/3] Planning (time limit {config.solver.time_limit_s:.0f} s) ...", flush=True)
    _print_plan(plan_and_publish(checked, LocalStorage(Path(args.dir) / "outputs"), config))
    return EXIT_OK


def _backtest_settings(args: argparse.Namespace) -> tuple[RunConfig, BacktestSettings]:
    """The backtest config file (run configuration + ``backtest:`` section) with the command-line overrides."""
    from planning.backtest.settings import load_backtest_config

    config, settings = load_backtest_config(args.config)
    updates: dict[str, object] = {}
    if args.start:
        updates["start"] = args.start
    if args.weeks:
        updates["weeks"] = args.weeks
    if args.warmup_weeks is not None:
        updates["warmup_weeks"] = args.warmup_weeks
    if args.policies:
        updates["policies"] = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    if args.lead_time_noise is not None:
        updates["lead_time_noise"] = args.lead_time_noise
    if args.no_tuning:
        updates["tuning"] = settings.tuning.model_copy(update={"enabled": False})
    if updates:
        from pydantic import ValidationError

        try:
            settings = settings.model_validate({**settings.model_dump(), **updates})
        except ValidationError as error:
            raise ConfigError(f"invalid backtest option: {error.errors()[0]['msg']}") from None
    return config, settings


def _prepare_backtest_inputs(args: argparse.Namespace, config: RunConfig, settings: BacktestSettings) -> None:
    """Write a bundled data set's backtest inputs (``planning.backtest.datasets``) into ``--inputs``."""
    from planning.backtest.datasets import backtest_tables
    from planning.demo_data import write_demo_tables

    if not args.inputs or args.inputs.startswith("s3://"):
        raise ConfigError("--prepare writes into a local folder: give it as --inputs")
    if settings.start is None:
        raise ConfigError("--prepare needs the window: give --start (a Monday) or set backtest.start in the config")
    folder = Path(args.dataset) if args.dataset else DEFAULT_DATASET_DIRS.get(args.prepare)
    tables = backtest_tables(
        args.prepare, settings.start, settings.weeks, config.horizon.weeks, settings.supply, dataset_dir=folder
    )
    write_demo_tables(tables, Path(args.inputs))
    rows = sum(len(t) for t in tables.values())
    print(f"      Wrote the {args.prepare} backtest inputs ({rows:,} rows) to {args.inputs}")


def cmd_backtest(args: argparse.Namespace) -> int:
    """Validate the backtest inputs, replay the policies over the window and publish the comparison."""
    from planning.backtest.pipeline import backtest_and_publish, check_backtest_inputs

    config, settings = _backtest_settings(args)
    if args.prepare:
        _prepare_backtest_inputs(args, config, settings)
    inputs = _open(args.inputs or config.storage.inputs, config)
    outputs = _open(args.outputs or config.storage.outputs, config)
    print("[1/2] Validating the backtest inputs against their data contracts ...", flush=True)
    checked = check_backtest_inputs(inputs, config, settings)
    print(f"      {checked.report.summary_line()}")
    print(
        f"[2/2] Replaying {settings.weeks} weeks ({', '.join(settings.policies)}; planner time limit "
        f"{config.solver.time_limit_s:.0f} s a week) ...",
        flush=True,
    )
    run = backtest_and_publish(checked, outputs, config, settings)
    for row in run.result.outcomes.itertuples(index=False):
        print(
            f"      {row.policy:<15} fill rate {row.fill_rate:.2%}  avg stock value {row.average_inventory_value:,.0f}"
            f"  total cost {row.total_cost:,.0f}"
        )
    print(f"      Published: {run.published.uri}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buyplan",
        description="Weekly buy-plan optimizer: validates a brand's inventory data and plans purchases.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 invalid input, 3 bad configuration, 4 no plan, "
        "5 storage or publish failure.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="YAML run configuration (default: built-in defaults)")
        p.add_argument("--as-of", type=_date, help="plan start date, a Monday (default: inventory snapshot date)")

    demo = sub.add_parser("demo", help="generate the demo data set locally and run the weekly job on it")
    common(demo)
    demo.add_argument("--dir", default="demo_run", help="working folder (inputs/ and outputs/ inside)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the demo brand")
    demo.add_argument("--skus", type=int, default=300, help="number of SKUs in the demo catalogue")
    demo.set_defaults(func=cmd_demo)

    plan = sub.add_parser("plan", help="validate the inputs, plan the week and publish the plan")
    common(plan)
    plan.add_argument("--inputs", help="folder or s3://bucket/prefix with the input tables (default: config)")
    plan.add_argument("--outputs", help="folder or s3://bucket/prefix to publish into (default: config)")
    plan.set_defaults(func=cmd_plan)

    forecast = sub.add_parser("forecast", help="validate the inputs and write the demand forecast and its accuracy")
    common(forecast)
    forecast.add_argument("--inputs", help="folder or s3://bucket/prefix with the input tables (default: config)")
    forecast.add_argument("--outputs", help="folder or s3://bucket/prefix to write forecasts/ into (default: config)")
    forecast.set_defaults(func=cmd_forecast)

    report = sub.add_parser("report", help="show (or copy) the latest published plan's HTML report")
    common(report)
    report.add_argument("--outputs", help="folder or s3://bucket/prefix plans are published in (default: config)")
    report.add_argument("--week", type=_date, help="the week's as-of Monday (default: the latest plan overall)")
    report.add_argument("--out", help="copy the report to this local file")
    report.set_defaults(func=cmd_report)

    export = sub.add_parser("export", help="copy the latest plan's ERP purchase-order import files to a folder")
    common(export)
    export.add_argument("--outputs", help="folder or s3://bucket/prefix plans are published in (default: config)")
    export.add_argument("--week", type=_date, help="the week's as-of Monday (default: the latest plan overall)")
    export.add_argument("--layout", choices=("all", "netsuite", "odoo", "canonical"), default="all")
    export.add_argument("--out", required=True, help="local folder to write the CSV files into")
    export.set_defaults(func=cmd_export)

    backtest = sub.add_parser(
        "backtest", help="replay the planner and ERP-style reorder rules on past weeks and publish the comparison"
    )
    backtest.add_argument(
        "--config",
        type=Path,
        help="backtest YAML (run config + backtest: section), e.g. "
        "configs/backtest_m5.yaml (default: built-in defaults)",
    )
    backtest.add_argument(
        "--inputs",
        help="folder or s3://bucket/prefix: tables as of the start, history through the window (default: config)",
    )
    backtest.add_argument("--outputs", help="folder or s3://bucket/prefix to publish backtests/ into (default: config)")
    backtest.add_argument("--start", type=_date, help="first replayed Monday (default: config, else the snapshot)")
    backtest.add_argument("--weeks", type=int, help="weeks replayed (default: config, else 52)")
    backtest.add_argument("--warmup-weeks", type=int, help="first weeks replayed but not measured (default: config)")
    backtest.add_argument(
        "--policies",
        help="comma-separated: planner,reorder_point,weeks_of_cover,clairvoyant "
        "(default: the first three; the clairvoyant is one long solve over the window)",
    )
    noise = backtest.add_mutually_exclusive_group()
    noise.add_argument(
        "--lead-time-noise",
        dest="lead_time_noise",
        action="store_true",
        default=None,
        help="draw lead times from each option's spread",
    )
    noise.add_argument("--no-lead-time-noise", dest="lead_time_noise", action="store_false")
    backtest.add_argument("--no-tuning", action="store_true", help="run the baselines at their configured parameters")
    backtest.add_argument(
        "--prepare",
        choices=("m5", "demo", "online_retail"),
        help="first write this bundled data set's backtest inputs into --inputs (synthetic supply side, "
        "re-supplied by the config's backtest.supply)",
    )
    backtest.add_argument(
        "--dataset",
        help="folder of the M5 subset or the Online Retail extract (for --prepare; default: ../shared/datasets/...)",
    )
    backtest.set_defaults(func=cmd_backtest)

    validate = sub.add_parser("validate", help="check input tables against their data contracts")
    common(validate)
    validate.add_argument("--inputs", help="folder or s3://bucket/prefix with the input tables (default: config)")
    validate.set_defaults(func=cmd_validate)

    gen = sub.add_parser("generate-demo", help="write the demo brand's input tables to a folder")
    gen.add_argument("--out", required=True, help="folder to write into")
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--skus", type=int, default=300)
    gen.add_argument("--as-of", type=_date, default=date(2026, 11, 30), help="as-of Monday of the data set")
    gen.add_argument("--format", choices=("csv", "parquet"), default="csv")
    gen.set_defaults(func=cmd_generate_demo)

    m5 = sub.add_parser("load-m5", help="turn the M5 subset into canonical tables (synthetic supply side)")
    m5.add_argument("--out", required=True, help="folder to write into")
    m5.add_argument("--dataset", default=str(DEFAULT_M5_DIR), help="folder of the M5 subset")
    m5.add_argument("--as-of", type=_date, default=None, help="as-of Monday (default: after the history)")
    m5.add_argument("--seed", type=int, default=11)
    m5.add_argument("--format", choices=("csv", "parquet"), default="csv")
    m5.set_defaults(func=cmd_load_m5)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        code: int = args.func(args)
        return code
    except KNOWN_FAILURES as error:
        return report_failure(error)


# Failures with a documented exit code; anything else is a bug (exit 1 with its traceback).
KNOWN_FAILURES = (InputContractError, ConfigError, PlanCheckError, NoPlanError, PublishError, StorageError)


def report_failure(error: Exception) -> int:
    """Say on stderr what went wrong and how to fix it; return the documented exit code."""
    if isinstance(error, InputContractError):
        print(f"INVALID INPUT: {error}", file=sys.stderr)
        for failure in error.report.errors:
            print("  " + failure.describe(), file=sys.stderr)
        return EXIT_INVALID_INPUT
    if isinstance(error, ConfigError):
        print(f"CONFIGURATION ERROR: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if isinstance(error, NoPlanError):
        print(f"NO PLAN: {error}", file=sys.stderr)
        return EXIT_NO_PLAN
    if isinstance(error, (PublishError, StorageError)):
        print(f"STORAGE OR PUBLISH FAILURE: {error}", file=sys.stderr)
        return EXIT_STORAGE
    print(f"INTERNAL ERROR: {error!r}", file=sys.stderr)  # PlanCheckError and bugs
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
