"""Celery and Redis: the app, the broker transport, the message codec, delivering bundles through a
stage, broker waits, queues, the producer's publisher, resubmission."""
