# The two commands the README promises; each sets up what it needs on a fresh machine.
#   make demo   load the example chain into the embedded store and serve it on :8000
#   make test   the whole suite, with a real Neo4j server and headless Chromium

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench system-deps neo4j clean

demo: $(STAMP)
	$(BIN)/laborgraph demo

test: $(STAMP) system-deps neo4j
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	rm -rf build/mypy && mkdir -p build/mypy/laborgraph  # mypy sees app/ as laborgraph.app, ...
	ln -s ../../../laborgraph/__init__.py build/mypy/laborgraph/
	ln -s ../../../app ../../../graph ../../../ingest ../../../visualize ../../../examples build/mypy/laborgraph/
	MYPYPATH=build/mypy $(BIN)/mypy -p laborgraph

bench: $(STAMP) system-deps neo4j
	$(BIN)/python -m bench.run --size small --store both

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Java 17 and Maven assemble Neo4j; Debian's Chromium runs the browser tests.
system-deps:
	@missing=""; \
	command -v java >/dev/null && java -version 2>&1 | grep -q 'version "17' || missing="$$missing openjdk-17-jre-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Neo4j 5.26 Community from Maven Central, cached under ~/.cache/laborgraph.
neo4j: $(STAMP)
	$(BIN)/python -m tests.neo4j_server build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build/mypy
