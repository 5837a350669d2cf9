"""Small chains for tests: a terse builder and a random generator for property-based runs."""

from __future__ import annotations

from hypothesis import strategies as st

from laborgraph.graph.model import (
    Cohort,
    Condition,
    Decision,
    GraphData,
    Link,
    Organization,
    Unit,
    derive_pay_status,
)
from laborgraph.graph.vocabulary import Dimension, EvidenceGrade, Lever, LinkType, OrgKind, Status


class Chain:
    """Builds GraphData: ``c = Chain(); c.org("b", "buyer"); c.link("b", "v", "CONTRACTS")``."""

    def __init__(self) -> None:
        self.orgs: list[Organization] = []
        self.units: list[Unit] = []
        self.cohorts: list[Cohort] = []
        self.conditions: list[Condition] = []
        self.decisions: list[Decision] = []
        self.links: list[Link] = []

    def org(self, org_id: str, *kinds: str, country: str = "KE") -> Chain:
        self.orgs.append(
            Organization(id=org_id, name=org_id.title(), kinds=kinds or ("vendor",), country=country)
        )
        return self

    def unit(self, unit_id: str, org_id: str) -> Chain:
        self.units.append(Unit(id=unit_id, organization_id=org_id, name=unit_id.title()))
        return self

    def cohort(
        self, cohort_id: str, headcount: int | None = 100, country: str = "KE", **conditions: str
    ) -> Chain:
        self.cohorts.append(
            Cohort(id=cohort_id, name=cohort_id.title(), country=country, headcount=headcount)
        )
        for dim, status in conditions.items():
            self.conditions.append(Condition(cohort_id=cohort_id, dimension=dim, status=status))
        return self

    def condition(self, cohort_id: str, dimension: str, **fields: object) -> Chain:
        self.conditions.append(Condition(cohort_id=cohort_id, dimension=dimension, **fields))
        return self

    def link(
        self, from_id: str, to_id: str, type: str, project: str | None = None, **fields: object
    ) -> Chain:
        self.links.append(Link(from_id=from_id, to_id=to_id, type=type, project=project, **fields))
        return self

    def decision(
        self, decision_id: str, unit_id: str, lever: str, applies_to: str, **fields: object
    ) -> Chain:
        self.decisions.append(
            Decision(id=decision_id, unit_id=unit_id, lever=lever, applies_to=applies_to, **fields)
        )
        return self

    def data(self) -> GraphData:
        return GraphData(
            organizations=self.orgs,
            units=self.units,
            cohorts=self.cohorts,
            conditions=self.conditions,
            decisions=self.decisions,
            links=self.links,
        )


SUPPLY = [LinkType.SUBCONTRACTS, LinkType.SOURCES_VIA]


@st.composite
def random_chains(draw: st.DrawFn) -> GraphData:
    """Random tiers, fan-out, cycles, projects, shared vendors and unknown conditions."""
    n_buyers = draw(st.integers(1, 3))
    n_orgs = draw(st.integers(2, 9))
    n_cohorts = draw(st.integers(1, 8))
    grades = st.sampled_from(list(EvidenceGrade) + [None])
    chain = Chain()
    buyers = [f"b{i}" for i in range(n_buyers)]
    orgs = [f"o{i}" for i in range(n_orgs)]
    projects = {b: [f"{b}-p{j}" for j in range(draw(st.integers(0, 2)))] for b in buyers}
    for b in buyers:
        chain.org(b, "buyer", country="US")
        chain.unit(f"{b}-u0", b).unit(f"{b}-u1", b)
    for o in orgs:
        chain.org(o, draw(st.sampled_from(["vendor", "subcontractor", "platform"])))
    chain.unit("o0-u", "o0")
    for b in buyers:
        for o in draw(st.lists(st.sampled_from(orgs), min_size=1, max_size=3, unique=True)):
            project = draw(st.sampled_from([None, *projects[b]]))
            chain.link(b, o, "CONTRACTS", project, evidence_grade=draw(grades))
    all_projects = [p for ps in projects.values() for p in ps]
    # Org-to-org links in any direction: cycles and long chains both happen.
    for a, b in draw(
        st.lists(st.tuples(st.sampled_from(orgs), st.sampled_from(orgs)), max_size=14, unique=True)
    ):
        if a != b:
            chain.link(
                a,
                b,
                draw(st.sampled_from(SUPPLY)),
                draw(st.sampled_from([None, None, *all_projects])),
                evidence_grade=draw(grades),
            )
    for i in range(n_cohorts):
        cohort_id = f"c{i}"
        # Few distinct headcounts and countries, so that ranking often falls through to ids.
        headcount = draw(st.one_of(st.sampled_from([None, 5, 40]), st.integers(1, 3000)))
        chain.cohort(cohort_id, headcount=headcount, country=draw(st.sampled_from(["KE", "PH"])))
        for dim in draw(st.lists(st.sampled_from(list(Dimension)), max_size=4, unique=True)):
            if dim is Dimension.pay and draw(st.booleans()):  # below half the benchmark is worse
                value, benchmark = draw(st.sampled_from([0.9, 2.5, 4.2, 9.0])), 4.0
                chain.condition(
                    cohort_id,
                    dim,
                    status=derive_pay_status(value, benchmark),
                    value=value,
                    benchmark=benchmark,
                    value_unit="USD/h",
                )
                continue
            chain.condition(
                cohort_id, dim, status=draw(st.sampled_from(list(Status))), evidence_grade=draw(grades)
            )
        for o in draw(st.lists(st.sampled_from([*orgs, *buyers]), min_size=1, max_size=2, unique=True)):
            chain.link(o, cohort_id, "ENGAGES", draw(st.sampled_from([None, None, *all_projects])))
    units = [u.id for u in chain.units]
    for i in range(draw(st.integers(1, 6))):
        chain.decision(
            f"d{i}",
            draw(st.sampled_from(units)),
            draw(st.sampled_from(list(Lever))),
            draw(st.sampled_from([*orgs, *buyers])),
            project=draw(st.sampled_from([None, None, *all_projects])),
            evidence_grade=draw(grades),
        )
    # A project has one buyer: drop CONTRACTS links that would give one project two owners.
    owners: dict[str, str] = {}
    kept = []
    for link in chain.links:
        owned_elsewhere = (
            link.type is LinkType.CONTRACTS
            and link.project
            and (owners.setdefault(link.project, link.from_id) != link.from_id)
        )
        if owned_elsewhere:
            continue
        kept.append(link)
    chain.links = kept
    return chain.data()


__all__ = ["Chain", "random_chains", "OrgKind"]
