"""Risk keys on ENGAGES links, and the ranking that seeks them (the Neo4j store's tracer).

A page of risk paths from a buyer wants its best (cohort, dimension) pairs: by severity and
likelihood (what the scoring configuration gives each risk), then headcount, cohort id and
dimension. A buyer of a million-link graph reaches ten thousand cohorts or more; reading
each of them costs the server 60 to 130 ms. Instead each ENGAGES link keeps, for its
cohort, what ranking needs:

    derived_from    the engaging organization's id
    derived_cohort  the cohort's id
    derived_rank    minus the cohort's headcount (ascending index order = best first)
    derived_<dim>   the status code of the cohort's not-met condition on <dim>, if any:
                    "violates", "at_risk", "unknown", or "violates/low" for pay below half
                    its benchmark (see graph.scoring.pay_below_half)

and one composite index per dimension, (derived_from, derived_<dim>, derived_rank,
derived_cohort), hands the links of one organization with one risk over in rank order. The
ranking seeks each (organization, risk) of the best scoring class and stops when the page is
full (graph.analysis.ranking.ranked_cohorts): a few hundred index entries instead of every
cohort reached.

The keys are refreshed in the transaction that writes a cohort, its conditions or a link
into it; the properties are never part of a record read back (see DERIVED_PREFIX).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from laborgraph.graph.model import GraphData, LinkKey
from laborgraph.graph.scoring import pay_below_half, risk_code
from laborgraph.graph.vocabulary import Dimension, LinkType, Status

DERIVED_PREFIX = "derived_"  # properties the store keeps for itself, never read back

ENGAGES_RISK_INDEXES = tuple(
    f"CREATE INDEX laborgraph_engages_{dimension.value} IF NOT EXISTS FOR ()-[r:{LinkType.ENGAGES}]-()"
    f" ON (r.derived_from, r.derived_{dimension.value}, r.derived_rank, r.derived_cohort)"
    for dimension in Dimension
)

_STATUS_CODE = f"""k.status + CASE
    WHEN k.dimension = "{Dimension.pay.value}" AND k.benchmark <> 0 AND k.value < k.benchmark / 2.0
    THEN "/low" ELSE "" END"""
_SET_DIMENSIONS = ",\n    ".join(
    f'r.derived_{d.value} = head([risk IN risks WHERE risk[0] = "{d.value}" | risk[1]])' for d in Dimension
)
# The keys of every link into each cohort, from what the graph holds once a write is done.
REFRESH_RISKS = f"""
UNWIND $ids AS id
MATCH (c:Cohort {{id: id}})
// Lock the cohort first: a concurrent write to it or its conditions then commits before
// this one reads them, or waits for this one, and the last refresh sees both.
SET c.derived_lock = true
REMOVE c.derived_lock
WITH c, COLLECT {{
    MATCH (k:Condition {{cohort_id: c.id}})
    WHERE k.status <> "{Status.meets.value}"
    RETURN [k.dimension, {_STATUS_CODE}]
}} AS risks
MATCH (o:Entity)-[r:{LinkType.ENGAGES}]->(c)
SET r.derived_from = o.id, r.derived_cohort = c.id, r.derived_rank = -coalesce(c.headcount, 0),
    {_SET_DIMENSIONS}
"""


def _ranked_query(dimension: Dimension) -> str:
    key = f"derived_{dimension.value}"
    return f"""
UNWIND $seeks AS seek
CALL (seek) {{
    MATCH ()-[r:{LinkType.ENGAGES}]->()
    USING INDEX r:{LinkType.ENGAGES}(derived_from, {key}, derived_rank, derived_cohort)
    WHERE r.derived_from = seek.org AND r.{key} = seek.code
      AND r.derived_rank IS NOT NULL AND r.derived_cohort IS NOT NULL
      AND (seek.projects IS NULL OR r.project = "" OR r.project IN seek.projects)
      AND ($country IS NULL OR endNode(r).country = $country)
    // One row per cohort (an organization may engage it under several projects), in the
    // index's own order, which lets the seek stop at $limit.
    WITH DISTINCT
        r.derived_from AS engager, r.{key} AS status, r.derived_rank AS rank, r.derived_cohort AS cohort
    ORDER BY engager, status, rank, cohort
    LIMIT $limit
    RETURN cohort, -rank AS headcount
}}
RETURN collect([seek.tag, cohort, headcount]) AS found
"""


# The best $limit cohorts of each seek (organization, projects its links may carry besides
# none, risk code, tag) on one dimension, as [tag, cohort, headcount]: GraphReader.risk_seek. One
# row, not one per cohort: the driver spends as long on each row as the server on the whole
# query. (One query per dimension: a UNION of all eight ran three times slower.)
RANKED_BY_DIMENSION = {dimension: _ranked_query(dimension) for dimension in Dimension}


# Which of these cohorts have a condition stored: possible for a cohort not stored yet only
# outside a validated ingest, and REFRESH_RISKS then keys its links from the graph.
COHORTS_WITH_CONDITIONS = """
UNWIND $ids AS id
MATCH (k:Condition {cohort_id: id})
RETURN DISTINCT id
"""


def new_link_risks(data: GraphData, new_cohorts: set[str]) -> tuple[dict[LinkKey, dict[str, Any]], set[str]]:
    """The keys REFRESH_RISKS would give each ENGAGES link into ``new_cohorts`` (created by
    this write, named once, no condition stored), and the cohorts so keyed. Such a cohort's
    links and conditions are all in the write, so its keys are known before it is stored:
    sent with the links they are created with, they save the server a query per cohort. A
    condition or link named twice leaves the cohort to REFRESH_RISKS."""
    coded = set(new_cohorts)
    times_named = Counter(c.id for c in data.conditions if c.cohort_id in coded)
    risks: dict[str, dict[str, str]] = defaultdict(dict)
    for condition in data.conditions:
        if condition.cohort_id not in coded:
            continue
        if times_named[condition.id] > 1:
            coded.discard(condition.cohort_id)
        elif condition.status is not Status.meets:
            risks[condition.cohort_id][f"derived_{condition.dimension.value}"] = risk_code(
                condition.status, pay_below_half(condition)
            )
    engages = [link for link in data.links if link.type is LinkType.ENGAGES and link.to_id in coded]
    times_linked = Counter(link.key for link in engages)
    coded -= {link.to_id for link in engages if times_linked[link.key] > 1}
    headcount = {c.id: c.headcount or 0 for c in data.cohorts if c.id in coded}
    keys = {
        link.key: {
            "derived_from": link.from_id,
            "derived_cohort": link.to_id,
            "derived_rank": -headcount[link.to_id],
            **risks[link.to_id],
        }
        for link in engages
        if link.to_id in coded
    }
    return keys, coded
