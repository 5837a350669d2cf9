"""Outputs for people: interactive maps and CSV exports."""
