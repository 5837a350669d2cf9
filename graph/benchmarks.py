"""Living-wage benchmarks: which one a pay condition takes, and what taking it does.

A ``pay`` condition with a value and no benchmark of its own takes the newest benchmark
valid on its ``observed_at`` (the newest of all without one) for its cohort's place, in its
own ``value_unit``; its status is then derived from the two figures as for a benchmark of
its own (``derive_pay_status``). A benchmark is for a place: a national one (no region)
for every cohort of the country, a regional one only for cohorts of that region, which
prefer it to a national one of the same day. DOMAIN.md section 8; docs/SCORING.md says
it in the analyst's words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from laborgraph.graph.model import Benchmark, Condition, derive_pay_status, region_key
from laborgraph.graph.vocabulary import Dimension, Status


class BenchmarkTable:
    """Benchmarks by country, for choosing the one a pay condition takes."""

    def __init__(self, benchmarks: Iterable[Benchmark]) -> None:
        self._by_country: dict[str, list[Benchmark]] = defaultdict(list)
        for benchmark in benchmarks:
            self._by_country[benchmark.country].append(benchmark)
        for found in self._by_country.values():
            # Newest first; of one day, the regional before the national.
            found.sort(key=lambda b: (b.valid_from, bool(b.region), b.id), reverse=True)

    def __bool__(self) -> bool:
        return bool(self._by_country)

    def for_place(self, country: str, region: str | None) -> list[Benchmark]:
        """The benchmarks a cohort of this place may take, newest first: the country's
        national ones and those of its own region."""
        own = region_key(region)
        return [b for b in self._by_country.get(country, ()) if not b.region or region_key(b.region) == own]

    def applicable(
        self, country: str, region: str | None, value_unit: str | None, observed_at: date | None
    ) -> Benchmark | None:
        """The benchmark a pay figure of this place, unit and day takes, if any."""
        for benchmark in self.for_place(country, region):
            if benchmark.value_unit == value_unit and (
                observed_at is None or benchmark.valid_from <= observed_at
            ):
                return benchmark
        return None


def takes_benchmark(condition: Condition) -> bool:
    """Whether the condition's benchmark comes from the benchmarks rather than from itself:
    a pay figure with none of its own, or with one taken before."""
    return (
        condition.dimension is Dimension.pay
        and condition.value is not None
        and (condition.benchmark is None or condition.benchmark_id is not None)
    )


def judged(condition: Condition, benchmark: Benchmark | None) -> Condition:
    """A pay condition that takes benchmarks (``takes_benchmark``), judged against the one
    that applies to it. With none, a benchmark taken before is dropped and the status it
    gave becomes ``unknown``: the figure alone says nothing of a living wage."""
    assert condition.value is not None
    if benchmark is not None:
        status = derive_pay_status(condition.value, benchmark.value)
        update: dict[str, object] = {
            "benchmark": benchmark.value,
            "benchmark_id": benchmark.id,
            "status": status,
        }
    elif condition.benchmark_id is not None:
        update = {"benchmark": None, "benchmark_id": None, "status": Status.unknown}
    else:
        return condition
    return condition.model_copy(update=update)


def with_own_benchmark(condition: Condition) -> Condition:
    """A pay condition with a value and a benchmark of its own, its status derived from them
    (an update may have brought one figure and kept the other)."""
    assert condition.value is not None and condition.benchmark is not None
    status = derive_pay_status(condition.value, condition.benchmark)
    return condition if status is condition.status else condition.model_copy(update={"status": status})


def benchmark_words(condition: Condition, benchmark: Benchmark | None, *, values: bool = True) -> str:
    """What a pay condition's benchmark taken from benchmarks.csv is, in words ("" for one of
    its own); without ``values`` the words never quote the figure."""
    if condition.benchmark_id is None:
        return ""
    if benchmark is None:  # not in the view: the id still says which
        return f"Pay is judged against the living-wage benchmark {condition.benchmark_id}."
    figure = f"{benchmark.value:g} {benchmark.value_unit}, " if values else ""
    sources = f"sources {', '.join(benchmark.source_ids)}" if benchmark.source_ids else "no source"
    return (
        f"Pay is judged against the living-wage benchmark for {benchmark.place} valid from "
        f"{benchmark.valid_from} ({figure}{sources})."
    )
