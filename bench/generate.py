"""A seeded generator of realistic AI data-work supply chains, sized by number of links.

Shape: tens to hundreds of buyers, each with units deciding on every lever (half of the
decisions scoped to one of the buyer's projects); vendors that popular buyers share, each
on its own projects; subcontractor tiers 2-5 deep with fan-out, a few links back up (cycles);
gig platforms; and most links ``ENGAGES`` to cohorts, each cohort with a few recorded
conditions (some ``unknown``, some dimensions never recorded). Project-scoped links keep one
buyer's decisions out of the other buyers' work, so a buyer reaches a few percent of the
graph, not all of it.

    python -m bench.generate --size medium --out /tmp/bundle      # a CSV bundle folder
    python -m bench.generate --links 20000 --stats                  # shape and buyer reach
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from laborgraph.graph.analysis.traverse import cohort_distances, org_distances
from laborgraph.graph.model import GraphData
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension, Lever, UnitFunction
from laborgraph.ingest.readers import RawBundle, RawRow
from laborgraph.ingest.validate import NoGraph, validate_bundle

SIZES = {"small": 1_000, "medium": 100_000, "large": 1_000_000}

COLUMNS: dict[str, list[str]] = {
    "organizations": ["id", "name", "kinds", "country", "evidence_grade", "source_ids"],
    "units": ["id", "organization_id", "name", "function", "evidence_grade", "source_ids"],
    "cohorts": [
        "id",
        "name",
        "country",
        "employment_type",
        "work_setting",
        "headcount",
        "task_types",
        "evidence_grade",
        "source_ids",
    ],
    "conditions": [
        "cohort_id",
        "dimension",
        "status",
        "value",
        "value_unit",
        "benchmark",
        "observed_at",
        "evidence_grade",
        "source_ids",
    ],
    "decisions": [
        "id",
        "unit_id",
        "lever",
        "applies_to",
        "project",
        "dimensions",
        "made_at",
        "description",
        "evidence_grade",
        "source_ids",
    ],
    "sources": ["id", "title", "kind", "url", "published_at"],
    "links": [
        "from_id",
        "to_id",
        "type",
        "project",
        "since",
        "until",
        "evidence_grade",
        "source_ids",
    ],
}

# Living-wage benchmarks in USD/h (illustrative) for the countries data work lands in.
LIVING_WAGE = {
    "KE": 2.4,
    "UG": 1.6,
    "NG": 1.9,
    "PH": 3.0,
    "IN": 2.0,
    "VE": 1.5,
    "CO": 2.6,
    "BR": 3.2,
    "MX": 3.4,
    "EG": 1.8,
    "PK": 1.4,
    "BD": 1.3,
    "VN": 2.2,
    "ID": 2.1,
    "RO": 5.5,
    "PL": 7.0,
    "ZA": 3.8,
    "US": 21.0,
    "GB": 15.0,
    "DE": 16.0,
}
WORK_COUNTRIES = list(LIVING_WAGE)
BUYER_COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "CA", "JP", "KR", "CN", "IL", "NL"]
GRADES = ["verified", "documented", "reported", "self_declared", "inferred", ""]
GRADE_WEIGHTS = list(accumulate([1, 2, 3, 1.5, 1, 1.5]))  # cumulative, as random.choices takes
DIMENSIONS = [
    "pay",
    "workload",
    "content_safety",
    "payment_terms",
    "task_clarity",
    "contract",
    "management",
    "voice",
]
DIMENSION_WEIGHTS = list(accumulate([5, 4, 3, 2, 2, 2, 1.5, 1.5]))
STATUSES = ["meets", "at_risk", "violates", "unknown"]
STATUS_WEIGHTS = list(accumulate([35, 25, 20, 20]))
TASKS = ["labelling", "content_moderation", "rlhf", "evaluation", "transcription", "red_teaming"]
LEVER_FUNCTIONS: dict[Lever, tuple[UnitFunction, ...]] = {
    Lever.pricing: (UnitFunction.procurement, UnitFunction.finance),
    Lever.time_estimate: (UnitFunction.research, UnitFunction.operations),
    Lever.deadline: (UnitFunction.product, UnitFunction.operations),
    Lever.task_design: (UnitFunction.research, UnitFunction.product),
    Lever.content_scope: (UnitFunction.trust_safety, UnitFunction.research),
    Lever.quality_policy: (UnitFunction.operations, UnitFunction.research),
    Lever.communication: (UnitFunction.operations, UnitFunction.responsible_ai),
    Lever.volume_forecast: (UnitFunction.finance, UnitFunction.product),
    Lever.worker_requirements: (UnitFunction.trust_safety, UnitFunction.responsible_ai),
    Lever.vendor_selection: (UnitFunction.procurement, UnitFunction.legal),
}
WORDS = [
    "Nimbus",
    "Halcyon",
    "Quill",
    "Tessera",
    "Meridian",
    "Savanna",
    "Bright",
    "Vantage",
    "Cobalt",
    "Lumen",
    "Orchid",
    "Atlas",
    "Kestrel",
    "Juniper",
    "Harbor",
    "Summit",
]
START = date(2021, 1, 1)


@dataclass
class Bundle:
    """Bundle rows as CSV cells (every cell a string, ``""`` when empty), per section."""

    # The sections it generates (COLUMNS): a bundle of a chain, which retracts nothing.
    rows: dict[str, list[list[str]]] = field(default_factory=lambda: {s: [] for s in COLUMNS})

    def link_count(self) -> int:
        return len(self.rows["links"])

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class _Builder:
    def __init__(self, links: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.target = links
        self.bundle = Bundle()
        self.link_keys: set[tuple[str, str, str, str]] = set()
        self.subs_of: dict[str, list[str]] = defaultdict(list)  # unscoped SUBCONTRACTS
        self.platforms_of: dict[str, list[str]] = defaultdict(list)  # unscoped SOURCES_VIA
        self.projects_at: dict[str, list[str]] = defaultdict(list)  # projects flowing in
        self.sources: list[str] = []

    # -- small helpers ----------------------------------------------------------------

    def day(self, span: int = 1800) -> str:
        return (START + timedelta(days=self.rng.randrange(span))).isoformat()

    def evidence(self) -> list[str]:
        grade = self.rng.choices(GRADES, cum_weights=GRADE_WEIGHTS)[0]
        cited = self.rng.sample(self.sources, self.rng.choice([1, 1, 2])) if self.rng.random() < 0.6 else []
        return [grade, "|".join(cited)]

    def name(self, n: int, suffix: str) -> str:
        return f"{self.rng.choice(WORDS)} {self.rng.choice(WORDS)} {suffix} {n}"

    def link(self, from_id: str, to_id: str, link_type: str, project: str = "") -> bool:
        key = (from_id, link_type, to_id, project)
        if from_id == to_id or key in self.link_keys:
            return False
        self.link_keys.add(key)
        since = self.day()
        until = self.day(2500) if self.rng.random() < 0.15 else ""
        until = until if until > since else ""
        self.bundle.rows["links"].append([from_id, to_id, link_type, project, since, until, *self.evidence()])
        return True

    def org(self, prefix: str, n: int, kind: str, countries: list[str]) -> str:
        org_id = f"org-{prefix}{n:05d}"
        self.bundle.rows["organizations"].append(
            [org_id, self.name(n, kind.title()), kind, self.rng.choice(countries), *self.evidence()]
        )
        return org_id

    # -- the chain --------------------------------------------------------------------

    def build(self) -> Bundle:
        rng, n_links = self.rng, self.target
        n_orgs = max(30, n_links // 25)
        n_buyers = min(300, max(6, round(n_links**0.5 / 5)))
        n_platforms = max(2, n_orgs // 100)
        n_vendors = max(4, n_orgs * 12 // 100)
        n_subs = max(8, n_orgs - n_buyers - n_platforms - n_vendors)

        for n in range(max(20, n_links // 50)):
            self.sources.append(f"src-{n:06d}")
            self.bundle.rows["sources"].append(
                [
                    self.sources[-1],
                    f"{rng.choice(WORDS)} report {n}",
                    rng.choice(
                        [
                            "contract",
                            "audit",
                            "survey",
                            "interview",
                            "news",
                            "research",
                            "self_declaration",
                            "other",
                        ]
                    ),
                    f"https://example.org/evidence/{n}",
                    self.day(),
                ]
            )
        buyers = [self.org("b", n, "buyer", BUYER_COUNTRIES) for n in range(n_buyers)]
        vendors = [self.org("v", n, "vendor", WORK_COUNTRIES) for n in range(n_vendors)]
        platforms = [self.org("p", n, "platform", BUYER_COUNTRIES) for n in range(n_platforms)]
        subs = [self.org("s", n, "subcontractor", WORK_COUNTRIES) for n in range(n_subs)]

        # Subcontractors sit in the cluster of one vendor, at tier 2 to 5 below buyers.
        tiers: dict[tuple[int, int], list[str]] = defaultdict(list)  # (cluster, tier) -> subs
        for sub in subs:
            tier = rng.choices([2, 3, 4, 5], [40, 30, 20, 10])[0]
            tiers[(rng.randrange(n_vendors), tier)].append(sub)
        platform_weights = [1 / (i + 1) for i in range(n_platforms)]
        for cluster, vendor in enumerate(vendors):
            self.subcontract(vendor, tiers[(cluster, 2)], rng.randint(1, 4))
            for tier in (2, 3, 4):
                below = tiers[(cluster, tier + 1)]
                for sub in tiers[(cluster, tier)]:
                    if rng.random() < 0.7:
                        # one in ten picks a subcontractor from another vendor's cluster
                        pool = below if rng.random() < 0.9 else tiers[(rng.randrange(n_vendors), tier + 1)]
                        self.subcontract(sub, pool, rng.randint(1, 3))
            for sub in tiers[(cluster, 4)] + tiers[(cluster, 5)]:
                if rng.random() < 0.02:  # work handed back up: a cycle
                    self.link(sub, vendor, "SUBCONTRACTS")
        for org in vendors + subs:
            if rng.random() < 0.25:
                for platform in dict.fromkeys(rng.choices(platforms, platform_weights, k=rng.randint(1, 2))):
                    if self.link(org, platform, "SOURCES_VIA"):
                        self.platforms_of[org].append(platform)

        vendor_weights = [1 / (i + 1) ** 0.8 for i in range(n_vendors)]  # a few big vendors
        for buyer in buyers:
            self.buyer(buyer, vendors, vendor_weights, platforms)
        for n, vendor in enumerate(vendors):
            if rng.random() < 0.05:  # some vendors steer their own subcontractors
                unit = self.unit(vendor, f"v{n}", 0, UnitFunction.operations)
                for lever in rng.sample([Lever.time_estimate, Lever.deadline, Lever.pricing], 2):
                    targets = self.subs_of[vendor] or [vendor]
                    self.decision(unit, lever, rng.choice(targets), "")
        self.cohorts(buyers, vendors, platforms, subs)
        return self.bundle

    def subcontract(self, org: str, pool: list[str], k: int) -> None:
        for sub in self.rng.sample(pool, min(k, len(pool))):
            if self.link(org, sub, "SUBCONTRACTS"):
                self.subs_of[org].append(sub)

    def unit(self, org: str, tag: str, n: int, function: UnitFunction) -> str:
        unit_id = f"unit-{tag}-{n}"
        self.bundle.rows["units"].append(
            [
                unit_id,
                org,
                f"{function.value.replace('_', ' ').title()} {n}",
                function.value,
                *self.evidence(),
            ]
        )
        return unit_id

    def decision(self, unit: str, lever: Lever, applies_to: str, project: str) -> None:
        rows = self.bundle.rows["decisions"]
        own = self.rng.sample(DIMENSIONS, self.rng.randint(1, 3)) if self.rng.random() < 0.15 else []
        rows.append(
            [
                f"dec-{len(rows):06d}",
                unit,
                lever.value,
                applies_to,
                project,
                "|".join(own),
                self.day(),
                f"{lever.value.replace('_', ' ')} decision for {project or 'all work'}",
                *self.evidence(),
            ]
        )

    def buyer(self, buyer: str, vendors: list[str], weights: list[float], platforms: list[str]) -> None:
        rng, tag = self.rng, buyer.removeprefix("org-")
        functions = [*rng.sample(list(UnitFunction), rng.randint(4, 8)), UnitFunction.procurement]
        units = {f: self.unit(buyer, tag, n, f) for n, f in enumerate(dict.fromkeys(functions))}
        tier1: list[str] = []
        contracted: dict[str, list[str]] = {}  # project -> its tier-1 organizations
        for n in range(rng.randint(2, 8)):
            project = f"prj-{tag}-{n}"
            chosen = set(rng.choices(vendors, weights, k=rng.randint(1, 3)))
            if rng.random() < 0.1:
                chosen.add(rng.choice(platforms))
            contracted[project] = sorted(chosen)
            for org in contracted[project]:
                self.link(buyer, org, "CONTRACTS", project)
                self.project_flows(org, project, tier=1)
            tier1 += contracted[project]
        for org in dict.fromkeys(rng.choices(vendors, weights, k=rng.randint(0, 2))):  # master
            if self.link(buyer, org, "CONTRACTS"):
                tier1.append(org)
        for lever in Lever:
            for _ in range(rng.randint(1, 3)):
                fits = [units[f] for f in LEVER_FUNCTIONS[lever] if f in units]
                unit = rng.choice(fits or list(units.values()))
                if rng.random() < 0.5:
                    project = rng.choice(list(contracted))
                    self.decision(unit, lever, rng.choice(contracted[project]), project)
                else:
                    roll = rng.random()
                    org = rng.choice(tier1)
                    if roll < 0.1:
                        org = buyer  # a policy for all of the buyer's work
                    elif roll < 0.25 and self.subs_of[org]:
                        org = rng.choice(self.subs_of[org])
                    self.decision(unit, lever, org, "")

    def project_flows(self, org: str, project: str, tier: int) -> None:
        """The project's work travels down: some of it subcontracted or sourced, per project."""
        self.projects_at[org].append(project)
        if tier < 5 and self.subs_of[org]:
            share = 1 if tier > 1 else self.rng.randint(0, 2)
            for sub in self.rng.sample(self.subs_of[org], min(share, len(self.subs_of[org]))):
                if (tier == 1 or self.rng.random() < 0.5) and self.link(org, sub, "SUBCONTRACTS", project):
                    self.project_flows(sub, project, tier + 1)
        if self.platforms_of[org] and self.rng.random() < 0.2:
            platform = self.rng.choice(self.platforms_of[org])
            if self.link(org, platform, "SOURCES_VIA", project):
                self.projects_at[platform].append(project)

    def cohorts(self, buyers: list[str], vendors: list[str], platforms: list[str], subs: list[str]) -> None:
        """Fill the rest of the link budget with ENGAGES links to new cohorts (heavy-tailed)."""
        rng = self.rng
        orgs = buyers + vendors + platforms + subs
        base = [0.2] * len(buyers) + [6.0] * len(vendors) + [12.0] * len(platforms) + [1.5] * len(subs)
        weights = [w * rng.paretovariate(1.5) for w in base]
        budget = self.target - self.bundle.link_count()
        platform_set = set(platforms)
        for n, org in enumerate(rng.choices(orgs, weights, k=max(0, budget))):
            if self.bundle.link_count() >= self.target:
                break
            cohort = f"coh-{n:07d}"
            self.cohort(cohort, in_house=org.startswith("org-b"))
            scoped = 0.7 if org in platform_set else 0.4
            project = (
                rng.choice(self.projects_at[org]) if self.projects_at[org] and rng.random() < scoped else ""
            )
            self.link(org, cohort, "ENGAGES", project)
            if self.platforms_of[org] and rng.random() < 0.15 and self.bundle.link_count() < self.target:
                self.link(rng.choice(self.platforms_of[org]), cohort, "ENGAGES", project)

    def cohort(self, cohort: str, in_house: bool) -> None:
        rng = self.rng
        country = rng.choice(WORK_COUNTRIES)
        headcount = "" if rng.random() < 0.1 else str(int(rng.lognormvariate(3.5, 1.2)) + 1)
        self.bundle.rows["cohorts"].append(
            [
                cohort,
                f"{rng.choice(TASKS).replace('_', ' ')} workers {cohort[4:]}",
                country,
                "employee"
                if in_house
                else rng.choice(["employee", "fixed_term", "contractor", "gig", "gig", "unknown"]),
                rng.choice(["office", "home", "mixed", "unknown"]),
                headcount,
                "|".join(rng.sample(TASKS, rng.randint(1, 2))),
                *self.evidence(),
            ]
        )
        k = rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4, 5])  # unrecorded dimensions are gaps
        dims: set[str] = set()
        while len(dims) < k:
            dims.add(rng.choices(DIMENSIONS, cum_weights=DIMENSION_WEIGHTS)[0])
        for dim in sorted(dims):
            status, value, unit, benchmark = (
                rng.choices(STATUSES, cum_weights=STATUS_WEIGHTS)[0],
                "",
                "",
                "",
            )
            if dim == Dimension.pay and rng.random() < 0.75:  # status derived from the numbers
                wage = LIVING_WAGE[country]
                status, unit, benchmark = "", "USD/h", f"{wage:.2f}"
                value = f"{wage * rng.lognormvariate(0, 0.45):.2f}"
            self.bundle.rows["conditions"].append(
                [cohort, dim, status, value, unit, benchmark, self.day(), *self.evidence()]
            )


def generate(links: int, seed: int = 7) -> Bundle:
    """A bundle with exactly ``links`` links (at least a few hundred), the same for a seed."""
    return _Builder(links, seed).build()


def raw_bundle(bundle: Bundle) -> RawBundle:
    """The RawBundle ``read_bundle`` would return for the bundle's CSV folder, without the disk."""
    raw = RawBundle(columns=dict(COLUMNS))
    for section, rows in bundle.rows.items():
        file, header = f"{section}.csv", COLUMNS[section]
        raw.rows[section] = [
            RawRow(file, n, dict(zip(header, row, strict=True))) for n, row in enumerate(rows, 2)
        ]
    return raw


def split(bundle: Bundle, parts: int) -> list[Bundle]:
    """The bundle as ``parts`` bundles to ingest in order, each referring only to itself and the
    parts before it: everything but cohorts first, then cohorts with their conditions and
    ENGAGES links in equal slices."""
    if parts <= 1:
        return [bundle]
    cohorts = bundle.rows["cohorts"]
    size = -(-len(cohorts) // (parts - 1))
    part_of = {row[0]: 1 + n // size for n, row in enumerate(cohorts)}
    out = [Bundle() for _ in range(parts)]
    for section, rows in bundle.rows.items():
        for row in rows:
            if section in ("cohorts", "conditions"):
                out[part_of[row[0]]].rows[section].append(row)
            elif section == "links" and row[2] == "ENGAGES":
                out[part_of[row[1]]].rows[section].append(row)
            else:
                out[0].rows[section].append(row)
    return out


def graph_data(bundle: Bundle) -> GraphData:
    """The bundle parsed and checked as ingest would, for use without a store."""
    checked = validate_bundle(raw_bundle(bundle), NoGraph())
    if checked.errors:
        raise ValueError(f"generated bundle is invalid: {checked.errors[:5]}")
    return checked.data


def write_csv(bundle: Bundle, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for section, rows in bundle.rows.items():
        with open(folder / f"{section}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS[section])
            writer.writerows(rows)


def buyer_reach(view: GraphView, buyer: str, depth: int = 6) -> int:
    """Organizations and cohorts a buyer's decisions reach within ``depth`` links."""
    projects = view.projects_of(buyer)
    reached: set[str] = set()
    for decision in view.decisions.values():
        if view.organization_of(decision.unit_id) == buyer:
            scope = frozenset({decision.project}) if decision.project else projects
            reached |= org_distances(view, decision.applies_to, scope, depth - 1).keys()
            reached |= cohort_distances(view, decision.applies_to, scope, depth).keys()
    return len(reached)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--links", type=int, help="number of links (overrides --size)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write the bundle as a CSV folder here")
    parser.add_argument("--stats", action="store_true", help="print the shape and buyer reach")
    args = parser.parse_args()
    bundle = generate(args.links or SIZES[args.size], args.seed)
    if args.out:
        write_csv(bundle, args.out)
    counts = {section: len(rows) for section, rows in bundle.rows.items()}
    print(" ".join(f"{section}={n}" for section, n in counts.items()), f"rows={bundle.row_count()}")
    if args.stats:
        view = GraphView.of(graph_data(bundle))
        nodes = view.graph.number_of_nodes()
        buyers = [o.id for o in view.organizations() if o.id.startswith("org-b")]
        reach = sorted(100 * buyer_reach(view, b) / nodes for b in buyers)
        print(
            f"buyer reach, % of {nodes} organizations and cohorts: min {reach[0]:.2f}"
            f" median {statistics.median(reach):.2f} max {reach[-1]:.2f}"
        )


if __name__ == "__main__":
    main()
