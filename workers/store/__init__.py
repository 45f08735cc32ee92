"""I/O: Elasticsearch and the Redis-backed failure and progress stores."""
