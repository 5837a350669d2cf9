# The laborgraph API. Configure it with environment variables (see README.md).
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 laborgraph
WORKDIR /srv/laborgraph
COPY pyproject.toml README.md ./
COPY laborgraph ./laborgraph
COPY app ./app
COPY graph ./graph
COPY ingest ./ingest
COPY visualize ./visualize
COPY examples ./examples
RUN pip install --no-cache-dir . \
    && rm -rf ./* \
    && python -c "import laborgraph.app.main, laborgraph.graph.neo4j_store"

USER laborgraph
ENV LABORGRAPH_DATA_DIR=/home/laborgraph/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["laborgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
