"""Bundle ingest: read a CSV folder, zip or JSON bundle, validate all of it, then write once."""
