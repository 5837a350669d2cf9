"""laborgraph's surfaces: settings, the HTTP API and the CLI."""
