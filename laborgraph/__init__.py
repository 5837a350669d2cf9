"""laborgraph: map AI data-work supply chains and trace which decisions affect which worker
conditions.

Everything installs under this one name while the code keeps the repository's folders
(pyproject.toml, [tool.setuptools] package-dir): laborgraph.app is app/, laborgraph.graph
is graph/, laborgraph.ingest is ingest/, laborgraph.visualize is visualize/ and
laborgraph.examples is examples/.
"""
