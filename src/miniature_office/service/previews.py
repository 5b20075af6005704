"""The Consigliere's previews: what happens if ... (paired futures with and without a change).

A preview forks the world at its tick (its exact state) twice: as it is ("without") and with
the proposed commands applied at that boundary ("with"). Future ``i`` of both arms is reseeded
with the same salt, so the two arms share every random stream (arrivals, each person's and
each task's draws) and differ only by the change; the paired difference of a metric over the
futures then measures the change, not the luck. Both start engines are pickled once per job
(the shared input), never once per future.

Per arm and future it records: when the backlog (every directive open at the start plus the
arrivals waiting for admission) has deployed, when each open directive deployed, how many
directives deployed within the horizon (throughput), the lead times of those deployments, the
bottleneck at the horizon and the stall episodes opened.
"""

from __future__ import annotations

import math
import pickle  # nosec B403 - only our own engines, pickled in this process
from dataclasses import dataclass
from typing import Any, Sequence

from ..sim.engine import Engine
from ..sim.flow import BOTTLENECK_WINDOW, INTAKE, INTAKE_SETTING
from ..sim.forecast import DeploymentCount, branch, current_work, reseed
from ..sim.sequential import CAP, judge, looks, rule_text
from ..sim.stats import describe_distribution, distribution, paired_difference, quantile
from ..sim.tasks import DirectiveState

PERCENTILES = (50, 85, 95)
#: Bounds of a preview job (requests beyond them are refused, not truncated).
MAX_FUTURES = 1000
MAX_TICKS = 5000
MAX_AGENTS = 2000
#: A sequential preview stops once the expected effect's 95% half-width is within this much:
#: a quarter of a day on when the backlog is done, one directive on throughput.
BACKLOG_TOLERANCE_DAYS = 0.25
THROUGHPUT_TOLERANCE = 1.0
#: The rule of a run with precision stops off (the false-sign check only).
SIGN_ONLY_RULE = "looks of 8, doubling to the cap; the sign test alone (precision stops off)"
#: The sentence names the intake limit when it is the constraint in at least this share of
#: one arm's futures.
INTAKE_SENTENCE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class PreviewInput:
    """What every worker receives once per job: both start engines, pickled, and the plan."""

    without: bytes
    with_change: bytes
    seed: int
    start_tick: int
    ticks: int
    targets: tuple[str, ...]  # stable keys: open directives and the waiting backlog
    open_directives: tuple[tuple[str, str], ...]  # (key, id) of the directives open now
    added: tuple[tuple[str, str], ...] = ()  # (key, id) of directives the change creates
    #: An A/A check's null: the "with" arm draws from streams of its own instead of sharing
    #: the "without" arm's (bench/preview_sequential.py; never a user's preview).
    independent: bool = False


def arm_engines(engine: Engine, commands: Sequence[dict[str, Any]]) -> tuple[Engine, Engine]:
    """Headless copies of ``engine`` without and with ``commands`` applied at this boundary.

    Raises :class:`~..sim.errors.CommandRejected` for a command the world would refuse.
    """
    # sim.forecast.branch applies them as the live world would (tests/sim/test_fork.py)
    return branch(engine), branch(engine, commands, actor="consigliere")


def prepare_preview(
    engine: Engine,
    commands: Sequence[dict[str, Any]],
    *,
    seed: int,
    ticks: int,
    independent: bool = False,
) -> PreviewInput:
    """Freeze both arms of a preview of ``commands`` on ``engine`` (left untouched)."""
    without, changed = arm_engines(engine, commands)
    work = current_work(without)
    world = without.world
    opened = tuple(
        (d.key, d.id)
        for d in world.board.directives.values()
        if d.state is not DirectiveState.DEPLOYED
    )
    added = tuple(
        (d.key, d.id)
        for d in changed.world.board.directives.values()
        if d.id not in world.board.directives
    )
    return PreviewInput(
        pickle.dumps(without, protocol=pickle.HIGHEST_PROTOCOL),
        pickle.dumps(changed, protocol=pickle.HIGHEST_PROTOCOL),
        seed,
        world.tick,
        ticks,
        tuple(work["open"] + work["waiting"]),
        opened,
        added,
        independent,
    )


def preview_salt(seed: int, future: int) -> str:
    """The random streams of future ``future``: the same for both arms."""
    return f"preview:{seed}:{future}"


def light_ticks(shared: PreviewInput) -> int:
    """How many of a future's first ticks run without the full flow tracker.

    What a preview reads of the tracker at the horizon (the bottleneck, the constraint, the
    share of ticks admission bound) comes from its window of the last
    :data:`~..sim.flow.BOTTLENECK_WINDOW` ticks, so only those ticks need it; before them a
    future records flow with :class:`~..sim.forecast.DeploymentCount`, as forecasts do (no rule
    reads a flow figure: the same draws, work and deployments, about a fifth less work a tick).
    A change that adds a directive keeps the full tracker throughout: the stage that directive
    spent longest in is charged by the tracker on every tick.
    """
    return 0 if shared.added else max(0, shared.ticks - BOTTLENECK_WINDOW)


def run_arm(
    engine: Engine,
    shared: PreviewInput,
    future: int,
    salt: str | None = None,
    *,
    light: bool = True,
) -> dict[str, Any]:
    """Reseed ``engine`` for ``future`` (or with ``salt``) and run it for the preview's ticks.

    ``light`` (the default) runs the ticks before the bottleneck window with the light tracker
    (:func:`light_ticks`); ``light=False`` keeps the full tracker on every tick (the tests
    compare the two).
    """
    reseed(engine, salt or preview_salt(shared.seed, future))
    tracker = engine.flow
    cheap = light_ticks(shared) if light else 0
    if cheap:
        engine.flow = DeploymentCount()
    world = engine.world
    remaining = set(shared.targets)
    added = {key for key, _ in shared.added}
    finished: dict[str, int] = {}
    slowest: dict[str, str] = {}  # added directive key -> the stage it spent longest in
    deployed_before = world.totals["directives_deployed"]
    stalls_before = world.totals["stalls"]
    arrivals_before = world.counters.get("arrival", 0)
    seen: set[str] = {
        d.id for d in world.board.directives.values() if d.state is DirectiveState.DEPLOYED
    }
    leads: list[int] = []
    done_tick = shared.start_tick if not remaining else None
    # bound once: on Python 3.11 ``DirectiveState.DEPLOYED`` is a slow descriptor lookup, and
    # this loop visits every directive on every tick that deploys one
    deployed_state = DirectiveState.DEPLOYED
    for step in range(shared.ticks):
        if step == cheap:  # the bottleneck window's ticks: the full tracker again
            engine.flow = tracker
        result = engine.step()
        if not result.flow.deployed_directives_per_tick:
            continue
        for directive in world.board.directives.values():
            if directive.state is deployed_state and directive.id not in seen:
                seen.add(directive.id)
                leads.append((directive.deployed_tick or 0) - directive.arrived_tick)
                if directive.key in remaining or directive.key in added:
                    remaining.discard(directive.key)
                    finished[directive.key] = engine.tick
                if directive.key in added and directive.stage_ticks:
                    stages = directive.stage_ticks
                    slowest[directive.key] = max(sorted(stages), key=lambda s: stages[s])
        if done_tick is None and not remaining:
            done_tick = engine.tick
    return {
        "done_tick": done_tick,
        "finished": finished,
        "throughput": world.totals["directives_deployed"] - deployed_before,
        "lead_times": leads,
        "bottleneck": engine.flow.bottleneck(),
        # what limits flow at the horizon: the bottleneck role, or the intake limit when
        # admission binds while that role is not busy (FlowTracker.constraint)
        "constraint": engine.flow.constraint(),
        "intake_bound_share": round(engine.flow.intake_share(), 4),
        "max_open": world.scenario.arrivals.max_open,
        "stalls": world.totals["stalls"] - stalls_before,
        "slowest_stage": slowest,
        "arrivals": world.counters.get("arrival", 0) - arrivals_before,
    }


def simulate_pair(shared: PreviewInput, future: int) -> dict[str, Any]:
    """Future ``future`` of both arms (the job runner's unit of work)."""
    # The bytes were pickled by prepare_preview() in this program, never read from outside.
    without: Engine = pickle.loads(shared.without)  # nosec B301
    changed: Engine = pickle.loads(shared.with_change)  # nosec B301
    return {
        "future": future,
        "without": run_arm(without, shared, future),
        "with": run_arm(
            changed,
            shared,
            future,
            # an A/A null's second arm: other streams, so the pair shares no luck
            f"{preview_salt(shared.seed, future)}:independent" if shared.independent else None,
        ),
    }


# ---- the report --------------------------------------------------------------------------------


def _when(values: list[float], start: int, per_day: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in PERCENTILES:
        value = quantile(values, p)
        if value is None or math.isinf(value):
            out[f"p{p}"] = {"ticks": None, "days": None, "beyond_horizon": True}
        else:
            ticks = int(value) - start
            out[f"p{p}"] = {
                "ticks": ticks,
                "days": round(ticks / per_day, 2),
                "beyond_horizon": False,
            }
    return out


def _spread(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "p50": None, "p85": None, "p95": None}
    return {
        "n": len(values),
        "mean": round(sum(values) / len(values), 3),
        **{f"p{p}": quantile(list(values), p) for p in PERCENTILES},
    }


def _arm_report(shared: PreviewInput, arm: list[dict[str, Any]], per_day: int) -> dict[str, Any]:
    start = shared.start_tick
    done = [math.inf if o["done_tick"] is None else float(o["done_tick"]) for o in arm]
    per_directive = {
        directive_id: _when([float(o["finished"].get(key, math.inf)) for o in arm], start, per_day)
        for key, directive_id in shared.open_directives
    }
    return {
        "backlog": {
            **_when(done, start, per_day),
            "finished_by_horizon": sum(1 for d in done if not math.isinf(d)),
        },
        "directives": per_directive,
        "throughput": _spread([o["throughput"] for o in arm]),
        "lead_time": _spread([t for o in arm for t in o["lead_times"]]),
        "bottleneck": [
            {"role": role, "futures": n} for role, n in distribution([o["bottleneck"] for o in arm])
        ],
        "bottleneck_text": describe_distribution([o["bottleneck"] for o in arm]),
        "constraint": [
            {"constraint": name, "futures": n}
            for name, n in distribution([o.get("constraint") for o in arm])
        ],
        "constraint_text": describe_distribution([o.get("constraint") for o in arm]),
        "intake": _intake_report(arm),
        "stalls": _spread([o["stalls"] for o in arm]),
    }


def _intake_report(arm: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the intake limit was what held flow back at the horizon, and its value."""
    limits = sorted({o.get("max_open") for o in arm if o.get("max_open") is not None})
    shares = [o.get("intake_bound_share", 0.0) for o in arm]
    return {
        "setting": INTAKE_SETTING,
        "limit": limits[0] if len(limits) == 1 else limits,
        "constraint_in": sum(1 for o in arm if o.get("constraint") == INTAKE),
        "futures": len(arm),
        "bound_share_mean": round(sum(shares) / len(shares), 4) if shares else None,
    }


def intake_clause(without: dict[str, Any], changed: dict[str, Any]) -> str:
    """``; the intake limit (arrivals.max_open 12) holds flow back in 20 of 32 futures without
    the change and 25 with it: ...`` when it is the constraint in at least half the futures of
    either arm, else ``""``. Names the setting, as the explanation does."""
    a, b = without["intake"], changed["intake"]
    share = max(
        a["constraint_in"] / max(1, a["futures"]), b["constraint_in"] / max(1, b["futures"])
    )
    if share < INTAKE_SENTENCE_SHARE:
        return ""
    counts = (
        f"holds flow back in {a['constraint_in']} of {a['futures']} futures without the change "
        f"and {b['constraint_in']} with it"
    )
    if a["limit"] != b["limit"]:  # the change is to the limit itself
        return f"; the intake limit ({a['setting']} {a['limit']}, then {b['limit']}) {counts}"
    return (
        f"; the intake limit ({a['setting']} {a['limit']}) {counts}: work waits for admission "
        f"while the people who would do it are not busy, so raising {a['setting']} may do more "
        "than this change"
    )


def summarise(
    shared: PreviewInput,
    pairs: list[dict[str, Any]],
    *,
    per_day: int,
    label: str,
) -> dict[str, Any]:
    """Both arms' distributions, the paired differences and one plain sentence."""
    without = [p["without"] for p in pairs]
    changed = [p["with"] for p in pairs]
    horizon = shared.start_tick + shared.ticks

    def capped(arm: list[dict[str, Any]]) -> list[float | None]:
        # A future that did not finish counts as finishing at the horizon: the difference is
        # then a lower bound on the truth; ``finished_by_horizon`` says how often that happened.
        return [float(o["done_tick"] if o["done_tick"] is not None else horizon) for o in arm]

    backlog = paired_difference(
        "backlog_done_ticks", capped(without), capped(changed), higher_is_better=False
    )
    throughput = paired_difference(
        "throughput",
        [float(o["throughput"]) for o in without],
        [float(o["throughput"]) for o in changed],
    )
    arms = {
        "without": _arm_report(shared, without, per_day),
        "with": _arm_report(shared, changed, per_day),
    }
    return {
        "futures": len(pairs),
        "seed": shared.seed,
        "start_tick": shared.start_tick,
        "ticks": shared.ticks,
        "ticks_per_day": per_day,
        "targets": len(shared.targets),
        **arms,
        "difference": {
            "backlog_done": {**backlog.to_dict(), "unit": "ticks"},
            "throughput": {**throughput.to_dict(), "unit": "directives"},
        },
        "sentence": (
            sentence(
                label, backlog, per_day, len(pairs), _unfinished(without), _unfinished(changed)
            )
            if any(o["done_tick"] is not None for o in without + changed)
            else throughput_sentence(label, throughput, shared.ticks / per_day, len(pairs))
        )
        + intake_clause(arms["without"], arms["with"]),
        "added": _added_report(shared, changed, per_day),
    }


def _added_report(
    shared: PreviewInput, arm: list[dict[str, Any]], per_day: int
) -> list[dict[str, Any]]:
    """When each directive the change creates deploys, and the stage that delays it most."""
    rows = []
    for key, directive_id in shared.added:
        finished = [float(o["finished"].get(key, math.inf)) for o in arm]
        stages = [o["slowest_stage"].get(key) for o in arm]
        rows.append(
            {
                "directive_id": directive_id,
                "key": key,
                "deployed": _when(finished, shared.start_tick, per_day),
                "deployed_by_horizon": sum(1 for f in finished if not math.isinf(f)),
                "slowest_stage": [
                    {"stage": stage, "futures": n} for stage, n in distribution(stages)
                ],
                "delayed_most_by": describe_distribution(stages),
            }
        )
    return rows


def _unfinished(arm: list[dict[str, Any]]) -> int:
    return sum(1 for o in arm if o["done_tick"] is None)


def _days_text(days: float) -> str:
    """``2.1 days sooner`` / ``0.5 days later`` / ``no change`` (positive: sooner)."""
    if abs(days) < 0.05:
        return "no change"
    return f"{abs(days):.1f} days {'sooner' if days > 0 else 'later'}"


def sentence(
    label: str,
    backlog: Any,
    per_day: int,
    futures: int,
    unfinished_without: int = 0,
    unfinished_with: int = 0,
) -> str:
    """``one more verifier: backlog done 2.1 days sooner (expected effect, 95% CI 1.4 to 2.8
    days sooner); in this office anywhere from 0.5 days later to 4.0 days sooner (94%
    prediction interval); better in 46 of 50 futures``.

    Two answers, named apart: the expected effect is the mean over many futures (its CI
    narrows as futures are added); the range is what this one office may see (an
    order-statistics prediction interval for one more future, whose coverage the sentence
    states; it does not narrow with more futures).

    Futures that miss the horizon count as done at the horizon, so when one arm has such futures
    the difference is a bound, not an estimate: the sentence says "at least" and how many.
    """
    if backlog.mean is None:
        return f"{label}: no futures to compare"
    days = -backlog.mean / per_day
    low, high = sorted((-backlog.high / per_day, -backlog.low / per_day))
    if abs(days) < 0.005 and backlog.better == 0 and backlog.worse == 0:
        return (
            f"{label}: no difference to when the backlog is done, better in 0 of {futures} "
            "futures and worse in none"
        )
    direction = "sooner" if days > 0 else "later"
    # Capping the slower arm at the horizon shrinks the gap: the true difference is larger.
    slower_unfinished = unfinished_with if direction == "later" else unfinished_without
    bound = "at least " if slower_unfinished else ""
    ci = (
        f"{_days_text(low)} to {_days_text(high)}"
        if direction == "sooner"
        else (f"{_days_text(high)} to {_days_text(low)}")
    )
    text = (
        f"{label}: backlog done {bound}{abs(days):.1f} days {direction} (expected effect, "
        f"95% CI {ci})"
    )
    text += _range_clause(backlog, lambda x: _days_text(-x / per_day), direction == "later")
    text += f"; better in {backlog.better} of {futures} futures"
    if unfinished_without or unfinished_with:
        text += (
            f"; not done within the horizon in {unfinished_without} futures without the change "
            f"and {unfinished_with} with it"
        )
    return text


def _range_clause(diff: Any, words: Any, ascending_is_first: bool) -> str:
    """``; in this office anywhere from A to B (94% prediction interval)``, ends in the reading
    order. The range is the prediction interval for one more future (:func:`prediction_interval`
    of ``sim.stats``); its stated share is the coverage its ranks give for that one future."""
    if diff.prediction_low is None or diff.prediction_high is None:
        return ""
    ends = [words(diff.prediction_low), words(diff.prediction_high)]
    if not ascending_is_first:
        ends.reverse()
    share = f"{diff.prediction_coverage:.0%} prediction interval"
    if ends[0] == ends[1]:
        return f"; in this office {ends[0]} ({share})"
    return f"; in this office anywhere from {ends[0]} to {ends[1]} ({share})"


def throughput_sentence(label: str, diff: Any, days: float, futures: int) -> str:
    """For a backlog that never empties within the horizon: the difference in deployments."""
    if diff.mean is None:
        return f"{label}: no futures to compare"
    return (
        f"{label}: the backlog is not done within {days:.1f} days in any future; "
        f"{diff.mean:+.1f} directives deployed (expected effect, 95% CI {diff.low:+.1f} to "
        f"{diff.high:+.1f})"
        + _range_clause(diff, lambda x: f"{x:+.0f}", True)
        + f"; more in {diff.better} of {futures} futures"
    )


def describe_commands(commands: Sequence[dict[str, Any]]) -> str:
    """A short label for a change (``hire_agent verifier on python``)."""
    parts = []
    for command in commands:
        payload = command.get("payload") or {}
        detail = " ".join(
            str(payload[k])
            for k in ("role", "name", "floor", "scope", "path", "value", "title", "agent_id")
            if k in payload
        )
        parts.append(f"{command['kind']} {detail}".strip())
    return "; ".join(parts) or "no change"


def headline(shared: PreviewInput, pairs: list[dict[str, Any]], per_day: int) -> dict[str, Any]:
    """The metric the sentence is about, its paired differences and its stopping tolerance.

    The backlog's finishing tick when any future finishes it (capped at the horizon, as in
    :func:`summarise`), else the throughput. Tolerance on the expected effect's 95%
    half-width: :data:`BACKLOG_TOLERANCE_DAYS` of a day, or :data:`THROUGHPUT_TOLERANCE`
    directives.
    """
    horizon = shared.start_tick + shared.ticks
    if any(p[arm]["done_tick"] is not None for p in pairs for arm in ("without", "with")):

        def done(o: dict[str, Any]) -> float:
            return float(o["done_tick"] if o["done_tick"] is not None else horizon)

        diffs = [done(p["with"]) - done(p["without"]) for p in pairs]
        return {
            "metric": "backlog_done",
            "unit": "ticks",
            "diffs": diffs,
            "tolerance": BACKLOG_TOLERANCE_DAYS * per_day,
        }
    diffs = [float(p["with"]["throughput"] - p["without"]["throughput"]) for p in pairs]
    return {
        "metric": "throughput",
        "unit": "directives",
        "diffs": diffs,
        "tolerance": THROUGHPUT_TOLERANCE,
    }


def run_preview(
    engine: Engine,
    commands: Sequence[dict[str, Any]],
    *,
    futures: int = 50,
    ticks: int = 400,
    seed: int = 1,
    workers: int = 1,
    scheduler: Any = None,
    progress: Any = None,
    runner_hook: Any = None,
    label: str | None = None,
    sequential: bool = True,
    on_look: Any = None,
    independent_arms: bool = False,
    precision_stops: bool = True,
) -> dict[str, Any]:
    """Preview ``commands`` on ``engine``: up to ``futures`` paired futures of ``ticks`` ticks.

    Sequential (the default): futures run in looks of 8, 16, 32, ... up to ``futures`` (the
    cap), and the run stops early by :func:`..sim.sequential.judge` (sign decided, precise
    enough, no difference at all). ``on_look(report)`` hears each look's full report, the
    last one included; the report's ``sequential`` part says how many futures ran and why it
    stopped. ``sequential=False`` runs exactly ``futures``. Futures are numbered from 0 in
    every look, so a sequential preview that runs ``n`` futures equals a fixed one of ``n``.

    ``independent_arms`` runs the "with" arm on streams of its own (not common random numbers):
    with no commands that is an A/A comparison whose every decided sign is false, the null of
    the stopping rule's check (bench/preview_sequential.py); previews never use it.
    ``precision_stops=False`` (that check's too) lets only a decided sign or the cap stop the
    looks, so the sign test meets every look up to the cap; each look still records whether
    the precision rule held (``precise``), so the full rule's stop can be read off the looks.

    ``runner_hook(runner)`` hears of each look's runner before it starts (to cancel it from
    another thread). Raises CommandRejected for a command the world refuses, ValueError beyond
    bounds.
    """
    from .runner import run_in_looks

    refusal = check_bounds(engine, futures, ticks)
    if refusal:
        raise ValueError(refusal)
    shared = prepare_preview(engine, commands, seed=seed, ticks=ticks, independent=independent_arms)
    per_day = engine.world.settings.ticks_per_day
    label = label or describe_commands(commands)
    plan = looks(futures) if sequential else [futures]
    pairs: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    previous = 0
    report: dict[str, Any] = {}
    for look in run_in_looks(
        simulate_pair,
        shared,
        plan,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        runner_hook=runner_hook,
    ):
        size = look.size
        pairs += look.results
        main = headline(shared, pairs, per_day)
        verdict = judge(
            main["diffs"],
            previous=previous,
            cap=futures,
            tolerance=main["tolerance"],
            precision_stops=precision_stops,
        )
        history.append(verdict.to_dict())
        previous = size
        report = summarise(shared, pairs, per_day=per_day, label=label)
        report["commands"] = list(commands)
        report["backend"] = look.backend
        stop = verdict.stop or (CAP if size >= futures else None)
        report["sequential"] = {
            "enabled": sequential,
            "cap": futures,
            "futures_run": len(pairs),
            "planned_looks": plan,
            "looks": list(history),
            "metric": main["metric"],
            "unit": main["unit"],
            "tolerance": main["tolerance"],
            "stopped": stop is not None,
            "stopped_because": stop,
            "rule": (
                (rule_text() if precision_stops else SIGN_ONLY_RULE)
                if sequential
                else f"fixed: {futures} futures"
            ),
        }
        if on_look is not None:
            on_look(report)
        if stop is not None:
            break
    return report


def assess_directive(engine: Engine, directive: dict[str, Any], **options: Any) -> dict[str, Any]:
    """When would this directive deploy if it were created now (percentiles, what delays it)."""
    report = run_preview(
        engine,
        [{"kind": "create_directive", "payload": directive}],
        label=f"creating {directive.get('title', 'the directive')!r} now",
        **options,
    )
    added = report["added"][0]
    p = added["deployed"]
    when = _when_text(p)
    return {
        "directive": directive,
        "deployed": p,
        "deployed_by_horizon": added["deployed_by_horizon"],
        "futures": report["futures"],
        "delayed_most_by": added["delayed_most_by"],
        "slowest_stage": added["slowest_stage"],
        "bottleneck": report["with"]["bottleneck"],
        "effect_on_backlog": report["difference"]["backlog_done"],
        "sentence": f"created now it deploys in {when}; it waits longest in: "
        f"{added['delayed_most_by']}",
        "seed": report["seed"],
        "ticks": report["ticks"],
        "backend": report["backend"],
    }


def _when_text(when: dict[str, Any]) -> str:
    return ", ".join(
        f"p{q} "
        + ("> horizon" if when[f"p{q}"]["beyond_horizon"] else f"{when[f'p{q}']['days']} d")
        for q in PERCENTILES
    )


def report_text(report: dict[str, Any], source: str) -> str:
    """A preview for a terminal: the sentence, then both arms side by side."""
    lines = [
        f"Preview from {source} at tick {report['start_tick']}: {report['futures']} paired "
        f"futures of {report['ticks']} ticks (seed {report['seed']}, {report['backend']})",
        report["sentence"],
        "",
        f"{'':28}{'without':>32}  {'with':>32}",
    ]
    rows = [
        (
            "backlog done",
            _when_text(report["without"]["backlog"]),
            _when_text(report["with"]["backlog"]),
        ),
        (
            "throughput (mean)",
            report["without"]["throughput"]["mean"],
            report["with"]["throughput"]["mean"],
        ),
        (
            "lead time p50 / p85 (ticks)",
            f"{report['without']['lead_time']['p50']} / {report['without']['lead_time']['p85']}",
            f"{report['with']['lead_time']['p50']} / {report['with']['lead_time']['p85']}",
        ),
        ("bottleneck", report["without"]["bottleneck_text"], report["with"]["bottleneck_text"]),
        (
            "constraint",
            report["without"]["constraint_text"],
            report["with"]["constraint_text"],
        ),
        ("stalls (mean)", report["without"]["stalls"]["mean"], report["with"]["stalls"]["mean"]),
    ]
    lines += [f"{name:28}{str(a):>32}  {str(b):>32}" for name, a, b in rows]
    lines += [""] + [_two_answers(name, report["difference"][key]) for name, key in DIFFERENCES]
    run = report.get("sequential")
    if run:
        lines.append(
            f"ran {run['futures_run']} of at most {run['cap']} futures; stopped: "
            f"{run['stopped_because']} ({run['rule']})"
        )
    return "\n".join(lines)


#: The paired differences a report shows, as (name, key of ``report["difference"]``).
DIFFERENCES = (("backlog done (ticks)", "backlog_done"), ("throughput (directives)", "throughput"))


def _two_answers(name: str, diff: dict[str, Any]) -> str:
    """``throughput (directives): expected effect +1.20 (95% CI +0.80 to +1.60); range in this
    office -2 to +5 (90% prediction interval); more in 30 of 50``."""
    if diff["mean_difference"] is None:
        return f"{name}: no paired futures"
    low, high = diff["expected_effect_ci95"]
    first, last = diff["range_in_this_office"]
    return (
        f"{name}: expected effect {diff['mean_difference']:+.2f} (95% CI {low:+.2f} to "
        f"{high:+.2f}); range in this office {first:+.0f} to {last:+.0f} "
        f"({diff['range_coverage']:.0%} prediction interval); "
        f"better in {diff['better_in']} of {diff['n']}"
    )


def check_bounds(engine: Engine, futures: int, ticks: int) -> str | None:
    """Why a preview of this size is refused (a sentence), or None."""
    if not 1 <= futures <= MAX_FUTURES:
        return f"futures must be 1..{MAX_FUTURES}"
    if not 1 <= ticks <= MAX_TICKS:
        return f"ticks must be 1..{MAX_TICKS}"
    if len(engine.world.building.agents) > MAX_AGENTS:
        return f"the world has more than {MAX_AGENTS} agents; previews are refused"
    return None


__all__ = [
    "MAX_FUTURES",
    "MAX_TICKS",
    "PreviewInput",
    "arm_engines",
    "check_bounds",
    "describe_commands",
    "assess_directive",
    "prepare_preview",
    "report_text",
    "run_preview",
    "preview_salt",
    "run_arm",
    "simulate_pair",
    "summarise",
]
