"""Pure pipeline stages: plain data in, plain data out; no Celery, Redis or Elasticsearch."""
