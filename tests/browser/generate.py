"""A large made-up supply chain for scale tests: thousands of organizations and cohorts."""

from __future__ import annotations

import random

from laborgraph.graph.model import Cohort, Condition, Decision, GraphData, Link, Organization, Unit
from laborgraph.graph.vocabulary import Dimension, Lever, LinkType, OrgKind, Status

COUNTRIES = ("KE", "UG", "IN", "PH", "VE", "CO", "NG", "US", "DE", "GH")


def large_chain(cohorts: int = 4300, seed: int = 5) -> GraphData:
    """About ``cohorts`` + 700 nodes: 5 buyers, 60 vendors, 30 platforms, 600 subcontractors."""
    rng = random.Random(seed)
    buyers = [f"org-buyer-{i}" for i in range(5)]
    vendors = [f"org-vendor-{i}" for i in range(60)]
    platforms = [f"org-platform-{i}" for i in range(30)]
    subs = [f"org-sub-{i}" for i in range(600)]

    def org(org_id: str, kind: OrgKind) -> Organization:
        name = org_id.removeprefix("org-").replace("-", " ").title()
        return Organization(id=org_id, name=name, kinds=(kind,), country=rng.choice(COUNTRIES))

    orgs = [org(o, OrgKind.buyer) for o in buyers] + [org(o, OrgKind.vendor) for o in vendors]
    orgs += [org(o, OrgKind.platform) for o in platforms] + [org(o, OrgKind.subcontractor) for o in subs]
    links: set[tuple[str, str, LinkType]] = set()
    for buyer in buyers:
        links |= {(buyer, v, LinkType.CONTRACTS) for v in rng.sample(vendors, 15)}
        links |= {(buyer, p, LinkType.CONTRACTS) for p in rng.sample(platforms, 3)}
    for index, sub in enumerate(subs):
        links.add((vendors[index % len(vendors)], sub, LinkType.SUBCONTRACTS))
        if index % 4 == 0:
            links.add((sub, rng.choice(subs), LinkType.SUBCONTRACTS))
    for vendor in vendors:
        links.add((vendor, rng.choice(platforms), LinkType.SOURCES_VIA))
    employers = vendors + platforms + subs
    people = []
    conditions = []
    for i in range(cohorts):
        cohort_id = f"coh-{i}"
        people.append(
            Cohort(
                id=cohort_id,
                name=f"Cohort {i}",
                country=rng.choice(COUNTRIES),
                headcount=rng.randint(2, 900),
            )
        )
        links.add((rng.choice(employers), cohort_id, LinkType.ENGAGES))
        for dim in rng.sample(list(Dimension), 2):
            status = rng.choice([Status.violates, Status.at_risk, Status.meets, Status.unknown])
            conditions.append(Condition(cohort_id=cohort_id, dimension=dim, status=status))
    units = [Unit(id=f"unit-{b}", organization_id=b, name=f"Procurement of {b}") for b in buyers]
    decisions = [
        Decision(id=f"dec-{b}", unit_id=f"unit-{b}", lever=Lever.pricing, applies_to=v)
        for b in buyers
        for v in sorted(a for (s, a, t) in links if s == b and a in vendors)[:2]
    ]
    return GraphData(
        organizations=orgs,
        cohorts=people,
        conditions=conditions,
        units=units,
        decisions=decisions,
        links=[Link(from_id=a, to_id=b, type=t) for a, b, t in sorted(links)],
    )
