"""Where ``celery -A workers.celery_app`` finds the app (docker-compose.yml, ops/stack.sh): it is
``workers/delivery/app.py``."""

from workers.delivery.app import app

__all__ = ["app"]
