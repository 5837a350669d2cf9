"""Benchmarks: a seeded chain generator and a harness timing ingest and risk tracing."""
