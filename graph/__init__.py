"""laborgraph's domain: model, store contract, stores and analysis. Imports no web or rendering code."""
