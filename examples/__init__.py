"""Example bundles shipped with laborgraph (`laborgraph demo` loads ``ai-supply-chain``)."""

from pathlib import Path

AI_SUPPLY_CHAIN = Path(__file__).with_name("ai-supply-chain")
