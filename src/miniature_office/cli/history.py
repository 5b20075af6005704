"""``miniature-office history``: import a team's history, fit an office, backtest, what-if.

miniature-office history import FILE.csv [--json]
miniature-office history fit FILE.csv [--staff builder=3,verifier=2] [--json]
miniature-office history backtest FILE.csv [--cuts 48 --futures 40] [--json]
miniature-office history whatif FILE.csv --command JSON [--futures 30 --horizon 400] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the history commands only: other commands start without it
    from ..sim.history.items import History

#: Files larger than this are refused (a 100,000-item export is about 10 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024


class HistoryCliError(Exception):
    """Printed as one line by the caller (exit code 2)."""


def read_history(path: str) -> History:
    """Parse ``path`` (a CSV export) or raise HistoryCliError naming the first bad lines."""
    from ..sim.history.items import HistoryError, parse_csv

    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise HistoryCliError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB")
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryCliError(f"{path}: {exc}") from None
    try:
        return parse_csv(text)
    except HistoryError as exc:
        raise HistoryCliError(f"{path}: {exc}") from None


def _print(report: dict[str, Any], text: str, as_json: bool) -> None:
    print(json.dumps(report, indent=2) if as_json else text)


def cmd_import(args: argparse.Namespace) -> int:
    from ..sim.history.describe import describe, report_text

    report = describe(read_history(args.file))
    _print(report, report_text(report), args.json)
    return 0


def _staff(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    try:
        return {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))}
    except ValueError:
        raise HistoryCliError(f"--staff: {text!r} is not like builder=3,verifier=2") from None


def fit_text(fit: dict[str, Any]) -> str:
    """The fit for a terminal: shape, throughput, lead-time quantiles and the verdict."""
    rows = [
        f"office: {fit['shape']['ticks_per_day']} ticks per day, staff "
        + ", ".join(f"{k} {v}" for k, v in fit["shape"]["staff"].items()),
        f"weekly throughput: history {fit['throughput']['real_mean']}, office "
        f"{fit['throughput']['sim_mean']} (KS {fit['throughput']['ks']})",
        "lead time (days): "
        + "; ".join(
            f"p{r['q']} {r['real_days']} vs {r['sim_days']} (x{r['factor']})"
            for r in fit["lead_time"]["quantiles"]
        )
        + f" (KS {fit['lead_time']['ks']})",
        f"lead-time mixture: {round(100 * fit['leads']['fast_share'])}% fast (median "
        f"{fit['leads']['fast_median_days']} days, no office work), the rest slow (median "
        f"{fit['leads']['slow_median_days']} days: a wait, then "
        f"{fit['leads']['office_work_days']} days of office work)",
        f"arrivals: {fit['arrivals']['level']} per week, fortnight dispersion "
        f"{fit['arrivals']['dispersion']}, level drift sigma {fit['arrivals']['log_sigma']}",
        f"verdict: {fit['verdict']}",
    ]
    return "\n".join(rows)


def cmd_fit(args: argparse.Namespace) -> int:
    from ..sim.history.fit import fit_office

    fit = fit_office(read_history(args.file), staff=_staff(args.staff), seed=args.seed)
    _print(fit, fit_text(fit), args.json)
    return 0


def backtest_text(report: dict[str, Any]) -> str:
    """Both methods side by side: coverage of p15 / p50 / p85 and p50 error."""
    summary = report["summary"]
    lines = [f"{summary['cuts']} cut dates, {report['futures']} futures each"]
    if report.get("office_free"):
        lines[0] += " (office-free check: slow items done at their drawn lead time)"
    if summary["cuts"] == 0:
        return lines[0] + ": the history is too short (two years and 30 items after a cut)"
    lines.append(
        f"{'':12}{'next 4 weeks: actual >= p15 / p50 / p85':>44}{'p50 err':>9}"
        f"{'next 30: actual <= p15 / p50 / p85':>40}{'p50 err':>10}"
    )
    for method in ("office", "resampling"):
        c, d = summary[method]["count"], summary[method]["days"]
        cc, dd = c["at_or_above"], d["at_or_below"]
        lines.append(
            f"{method:12}{cc['p15']:>34} / {cc['p50']} / {cc['p85']}"
            f"{c['p50_error_items']:>9}{dd['p15']:>26} / {dd['p50']} / {dd['p85']}"
            f"{d['p50_error_days']:>8} d"
        )
    lines.append("targets: 85 +/- 5 for 'actual >= p15' (count) and 'actual <= p85' (days)")
    return "\n".join(lines)


def cmd_backtest(args: argparse.Namespace) -> int:
    from ..sim.history.backtest import backtest

    try:
        report = backtest(
            read_history(args.file), cuts=args.cuts, futures=args.futures, seed=args.seed
        )
    except ValueError as exc:
        raise HistoryCliError(str(exc)) from None
    _print(report, backtest_text(report), args.json)
    return 0


def _command(text: str) -> dict[str, Any]:
    """One ``--command`` JSON object with a kind, or HistoryCliError."""
    try:
        command = json.loads(text)
    except ValueError as exc:
        raise HistoryCliError(f"--command: not JSON: {exc}") from None
    if isinstance(command, dict) and "kind" in command:
        return command
    raise HistoryCliError('--command: give {"kind": "hire_agent", "payload": {...}}')


def cmd_whatif(args: argparse.Namespace) -> int:
    from ..service.history import whatif_engine
    from ..service.previews import report_text, run_preview
    from ..sim.errors import CommandRejected
    from ..sim.history.fit import fit_office

    commands = [_command(text) for text in args.command or []]
    history = read_history(args.file)
    fit = fit_office(history, staff=_staff(args.staff), seed=args.seed)
    engine = whatif_engine(history, fit, seed=args.seed)
    try:
        report = run_preview(
            engine, commands, futures=args.futures, ticks=args.horizon, seed=args.seed
        )
    except CommandRejected as exc:
        raise HistoryCliError(f"--command: {exc.reason}") from None
    except ValueError as exc:
        raise HistoryCliError(str(exc)) from None
    _print(report, report_text(report, f"the office fitted to {args.file}"), args.json)
    return 0


def register(sub: Any) -> None:
    """Add the ``history`` command group to the top-level subparsers."""
    hist = sub.add_parser("history", help="a team's real history: import, fit, backtest, what-if")
    group = hist.add_subparsers(dest="history_command", required=True)
    imp = group.add_parser("import", help="import a CSV of work items and describe it")
    fit = group.add_parser("fit", help="fit an office to the history and state the fit")
    bt = group.add_parser("backtest", help="office vs throughput resampling at past cut dates")
    wi = group.add_parser("whatif", help="preview commands on the fitted office")
    for parser, func in ((imp, cmd_import), (fit, cmd_fit), (bt, cmd_backtest), (wi, cmd_whatif)):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(func=_guarded(func))
    for parser in (fit, bt, wi):
        parser.add_argument("--seed", type=int, default=1)
    for parser in (fit, wi):
        parser.add_argument("--staff", metavar="ROLE=N,...", help="default: inferred from WIP")
    bt.add_argument("--cuts", type=int, default=48, help="past cut dates (default 48)")
    bt.add_argument("--futures", type=int, default=40, help="futures per cut and method")
    wi.add_argument("--command", action="append", metavar="JSON", help="a command (repeat)")
    wi.add_argument("--futures", type=int, default=30)
    wi.add_argument("--horizon", type=int, default=400, help="ticks each future runs")


def _guarded(func: Any) -> Any:
    """Turn a HistoryCliError into the CLI's one-line error (exit code 2)."""

    def run(args: argparse.Namespace) -> int:
        from .common import CliError

        try:
            return int(func(args))
        except HistoryCliError as exc:
            raise CliError(str(exc)) from None

    return run
