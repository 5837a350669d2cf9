"""A mesh of vendors that all subcontract to each other has millions of chains within the
deepest depth: answers stay bounded, the first chains in id order, on both stores."""

from __future__ import annotations

import itertools

from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.analysis.traverse import MAX_CHAINS
from laborgraph.graph.store import GraphStore
from tests.chains import Chain

VENDORS = [f"v{n:02d}" for n in range(12)]


def mesh() -> Chain:
    chain = Chain().org("b", "buyer").unit("u", "b").decision("d", "u", "pricing", "b")
    for vendor in VENDORS:
        chain.org(vendor).link("b", vendor, "CONTRACTS")
    for start, end in itertools.permutations(VENDORS, 2):
        chain.link(start, end, "SUBCONTRACTS")
    return chain.cohort("c", pay="violates").link(VENDORS[-1], "c", "ENGAGES")


def test_a_mesh_answers_with_at_most_max_chains_per_decision_and_cohort(store: GraphStore) -> None:
    store.write(mesh().data())
    ask = Questions(store, Settings.model_validate({"min_headcount": 0}))

    every = list(ask.risk_paths(PathQuery(depth=10, limit=None)))
    assert len(every) == MAX_CHAINS
    chains = [tuple(p.organizations) for p in every]
    assert chains == sorted(chains)
    lengths = [len(chain) for chain in chains]  # the shortest ones: b>v11, then b>vNN>v11, ...
    assert ("b", "v11") in chains and lengths.count(3) == 11 and max(lengths) == 4
    routes = ask.influencers("c", depth=10).influencers[0].routes
    assert sum(len(route.chains) for route in routes) == MAX_CHAINS
