# Gleaner workers, setup service and producer (one image, the command picks the role).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY workers ./workers
COPY schemas ./schemas
COPY ops/kibana ./ops/kibana
COPY ops/compose ./ops/compose
RUN pip install -e '.[dev]' \
    && useradd --create-home --uid 10001 gleaner
USER gleaner
CMD ["gleaner", "--help"]
