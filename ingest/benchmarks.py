"""Living-wage benchmarks at ingest: every pay condition a bundle writes, or whose benchmark
it changes, is judged against the benchmark that applies to it before anything is written
(graph.benchmarks), so that what the stores index as risks is right from the first read.

Pay conditions judged:

- the bundle's own, merged with what the graph holds of them (a row may bring a new value
  and keep a stored benchmark);
- stored ones that take benchmarks, of cohorts the bundle names again (it may move them to
  another country or region) or in a country the bundle brings benchmarks for. Those whose
  benchmark or status changes are written again with the bundle.

Errors, located at the condition's row: a pay figure whose unit no benchmark of its place is
in while some benchmark is for that place; a status left to a benchmark when none applies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from laborgraph.graph.benchmarks import BenchmarkTable, judged, takes_benchmark, with_own_benchmark
from laborgraph.graph.errors import BundleIssue
from laborgraph.graph.model import Benchmark, Cohort, Condition
from laborgraph.graph.store import PayAtPlace
from laborgraph.graph.view import AnyEntity, merge
from laborgraph.graph.vocabulary import Dimension, Status
from laborgraph.ingest.quote import names, quote
from laborgraph.ingest.raw import Where

STATUS_REQUIRED = (
    "required unless dimension is pay with a value and a benchmark (its own, or one from benchmarks.csv)"
)


class StoredPay(Protocol):
    """What judging pay reads of the graph (a GraphReader answers it)."""

    def entities(self, ids: Collection[str]) -> list[AnyEntity]: ...

    def benchmarks(self) -> list[Benchmark]: ...

    def benchmark_takers(self, countries: Collection[str] | None) -> list[PayAtPlace]: ...


class Reporter(Protocol):
    def error(self, row: Where, column: str | None, message: str) -> None: ...

    def warn(self, row: Where, column: str | None, message: str) -> None: ...

    def add_warning(self, issue: BundleIssue) -> None: ...


@dataclass(frozen=True)
class Place:
    country: str
    region: str | None

    def __str__(self) -> str:
        return f"{self.country}/{self.region}" if self.region else self.country


@dataclass
class Judged:
    conditions: list[tuple[Where, Condition]]  # the bundle's, as they will be written
    rewritten: list[Condition]  # stored conditions to write again


def judge_pay(
    benchmarks: list[tuple[Where, Benchmark]],
    cohorts: list[tuple[Where, Cohort]],
    conditions: list[tuple[Where, Condition]],
    pending: Collection[str],
    stored_cohorts: Collection[str],
    graph: StoredPay,
    report: Reporter,
) -> Judged:
    """The bundle's conditions with every pay figure judged, and the stored ones to write again.

    ``pending``: ids of the conditions whose status the bundle leaves to their benchmark;
    ``stored_cohorts``: those of the cohort ids the bundle names that the graph holds."""
    table = _table(graph.benchmarks(), (b for _, b in benchmarks))
    in_bundle = {cohort.id: cohort for _, cohort in cohorts}
    pay = [c for _, c in conditions if c.dimension is Dimension.pay]
    # What the graph holds of the bundle's pay conditions that bring one figure but not
    # both, and, if they may take a benchmark, where their cohorts are.
    kept = [c.id for c in pay if c.cohort_id in stored_cohorts and not _both_figures(c)]
    to_place = {c.cohort_id for c in pay if table and "benchmark" not in c.model_fields_set}
    kept += [k for k in to_place if k in stored_cohorts and not _placed_by_bundle(in_bundle.get(k))]
    stored = {entity.id: entity for entity in graph.entities(kept)} if kept else {}
    judge = _Judge(table, in_bundle, stored, report)
    out = [
        (where, judge.bundled(where, c, c.id in pending, c.cohort_id in stored_cohorts, stored.get(c.id)))
        if c.dimension is Dimension.pay
        else (where, c)
        for where, c in conditions
    ]
    named = {c.id for c in pay}
    for taker in _takers(graph, benchmarks, in_bundle, stored_cohorts, table):
        if taker.condition.id not in named:
            judge.again(taker.condition, judge.moved(taker))
    judge.report_rewritten(benchmarks[0][0].file if benchmarks else "cohorts.csv")
    return Judged(conditions=out, rewritten=list(judge.rewritten.values()))


def _table(stored: list[Benchmark], bundled: Iterable[Benchmark]) -> BenchmarkTable:
    """The benchmarks as the graph will hold them once the bundle is written."""
    merged = {b.id: b for b in stored}
    for benchmark in bundled:
        merged[benchmark.id] = merge(merged.get(benchmark.id), benchmark)
    return BenchmarkTable(merged.values())


def _takers(
    graph: StoredPay,
    benchmarks: list[tuple[Where, Benchmark]],
    in_bundle: dict[str, Cohort],
    stored_cohorts: Collection[str],
    table: BenchmarkTable,
) -> list[PayAtPlace]:
    """Stored conditions that take benchmarks and that the bundle may change the benchmark
    of: in its benchmarks' countries, or of the cohorts it names again."""
    if not table:
        return []  # no benchmark anywhere: none was taken, and none can be
    countries = {b.country for _, b in benchmarks}
    if any(k in stored_cohorts for k in in_bundle):
        takers = graph.benchmark_takers(None)
        return [t for t in takers if t.condition.cohort_id in in_bundle or t.country in countries]
    return graph.benchmark_takers(countries) if countries else []


def _both_figures(condition: Condition) -> bool:
    return {"value", "benchmark"} <= condition.model_fields_set


def _placed_by_bundle(cohort: Cohort | None) -> bool:
    """Whether the bundle's row says all of where the cohort is (an empty region cell keeps
    the stored region)."""
    return cohort is not None and "region" in cohort.model_fields_set


class _Judge:
    def __init__(
        self,
        table: BenchmarkTable,
        in_bundle: dict[str, Cohort],
        stored: dict[str, AnyEntity],
        report: Reporter,
    ) -> None:
        self.table, self.in_bundle, self.stored, self.report = table, in_bundle, stored, report
        self.rewritten: dict[str, Condition] = {}
        self.other_units: Counter[tuple[str, str]] = Counter()  # stored figures no benchmark is in

    # -- the bundle's own pay conditions -------------------------------------------------

    def bundled(
        self, where: Where, condition: Condition, pending: bool, stored_cohort: bool, kept: AnyEntity | None
    ) -> Condition:
        """A bundle's pay condition as it will be written; ``kept``: the stored one, if it was
        looked up, and ``stored_cohort``: whether its cohort is stored."""
        own = "benchmark" in condition.model_fields_set
        if not stored_cohort and (own or condition.value is None):
            return condition  # new, and complete as it was read: the usual row of a large bundle
        if own and stored_cohort:
            condition = condition.model_copy(update={"benchmark_id": None})  # its own from now on
        merged = merge(kept, condition) if isinstance(kept, Condition) else condition
        if merged.value is None:
            return merged
        if not takes_benchmark(merged):
            found = with_own_benchmark(merged)
            if not _both_figures(condition):  # a row with both was checked as it was read
                self._warn_contradiction(where, condition, pending, found, None)
            return found
        place = self.place(merged.cohort_id)
        benchmark = self._applicable(merged, place)
        if benchmark is not None:
            found = judged(merged, benchmark)
            self._warn_contradiction(where, condition, pending, found, benchmark)
            return found
        units = self._units(place)
        if place is not None and units and merged.value_unit not in units:
            given = f"{quote(merged.value_unit)} is" if merged.value_unit else "no unit is given, and"
            self.report.error(
                where,
                "value_unit",
                f"{given} not the unit of any benchmark for {place} (benchmarks.csv gives {names(units)}):"
                " give the pay in that unit, or a benchmark of its own",
            )
        elif pending and (place is not None or not self.table):  # an unknown cohort is reported as such
            self.report.error(where, "status", f"{STATUS_REQUIRED}: {self._why_none(merged, place)}")
        # A benchmark taken before that applies no more is dropped; the row gives the status.
        return (
            merged.model_copy(update={"benchmark": None, "benchmark_id": None})
            if merged.benchmark_id
            else merged
        )

    def place(self, cohort_id: str) -> Place | None:
        """Where a cohort is once the bundle is written; None if neither knows it."""
        bundled, kept = self.in_bundle.get(cohort_id), self.stored.get(cohort_id)
        cohort = merge(kept, bundled) if isinstance(kept, Cohort) and bundled else bundled or kept
        return Place(cohort.country, cohort.region) if isinstance(cohort, Cohort) else None

    def _why_none(self, condition: Condition, place: Place | None) -> str:
        if not self.table or place is None:
            return "no benchmarks are given"
        fitting = [
            b
            for b in self.table.for_place(place.country, place.region)
            if b.value_unit == condition.value_unit
        ]
        if not fitting:
            national = f"no national benchmark is given for {place.country}"
            return f"{national} nor one for {place}" if place.region else national
        first = min(b.valid_from for b in fitting)
        observed = condition.observed_at
        return f"the first benchmark for {place} in {condition.value_unit} is from {first}, after {observed}"

    def _warn_contradiction(
        self, where: Where, given: Condition, pending: bool, found: Condition, benchmark: Benchmark | None
    ) -> None:
        if pending or "status" not in given.model_fields_set or found.status is given.status:
            return
        unit = f" {found.value_unit}" if found.value_unit else ""
        against = (
            f"the benchmark for {benchmark.place} from {benchmark.valid_from}"
            if benchmark
            else "its benchmark"
        )
        self.report.warn(
            where,
            "status",
            f"status {quote(given.status.value)} contradicts pay {found.value:g}{unit} against {against}"
            f" ({found.benchmark:g}{unit}); using the derived {found.status.value!r}",
        )

    # -- stored pay conditions -----------------------------------------------------------

    def moved(self, taker: PayAtPlace) -> Place:
        """Where a stored condition's cohort is once the bundle is written."""
        cohort = self.in_bundle.get(taker.condition.cohort_id)
        if cohort is None:
            return Place(taker.country, taker.region)
        return Place(cohort.country, cohort.region if _placed_by_bundle(cohort) else taker.region)

    def again(self, condition: Condition, place: Place) -> None:
        """Judge a stored condition again; keep it to write again if that changes it."""
        benchmark = self._applicable(condition, place)
        units = self._units(place)
        if benchmark is None and units and condition.value_unit not in units:
            self.other_units[str(place), condition.value_unit or "no unit"] += 1
        found = judged(condition, benchmark)
        if _facts(found) != _facts(condition):
            self.rewritten[found.id] = found

    def report_rewritten(self, file: str) -> None:
        if self.rewritten:
            changed = Counter(c.status.value for c in self.rewritten.values())
            statuses = ", ".join(f"{n} now {status}" for status, n in sorted(changed.items()))
            message = f"{len(self.rewritten)} stored pay conditions take another benchmark ({statuses})"
            self.report.add_warning(BundleIssue(file=file, message=message))
        for (place, unit), n in sorted(self.other_units.items()):
            message = (
                f"{n} stored pay conditions of cohorts in {place} are in {quote(unit)}, the unit of no"
                " benchmark for their place: they take none"
            )
            self.report.add_warning(BundleIssue(file=file, message=message))

    # -- both ------------------------------------------------------------------------------

    def _applicable(self, condition: Condition, place: Place | None) -> Benchmark | None:
        if place is None:
            return None
        return self.table.applicable(place.country, place.region, condition.value_unit, condition.observed_at)

    def _units(self, place: Place | None) -> list[str]:
        if place is None:
            return []
        return sorted({b.value_unit for b in self.table.for_place(place.country, place.region)})


def _facts(condition: Condition) -> tuple[Status, float | None, str | None]:
    return condition.status, condition.benchmark, condition.benchmark_id
