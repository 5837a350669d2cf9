"""Example bundles shipped with laborgraph: `laborgraph demo` loads ``ai-supply-chain``;
``ai-supply-chain-review-2`` is the same chain's next quarterly review."""

from pathlib import Path

AI_SUPPLY_CHAIN = Path(__file__).with_name("ai-supply-chain")
AI_SUPPLY_CHAIN_REVIEW_2 = Path(__file__).with_name("ai-supply-chain-review-2")  # a later review of it
