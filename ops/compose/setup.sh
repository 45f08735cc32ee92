#!/usr/bin/env bash
# One-shot setup of the compose stack: Kibana's system user, a least-privilege writer for the
# workers, the index template and alias, and the Kibana saved objects.
set -euo pipefail
ES="${SETUP_ES_URL:-http://elasticsearch:9200}"
auth=(-u "elastic:${ELASTIC_PASSWORD:?}")

until curl -fsS "${auth[@]}" "$ES/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do
  echo "waiting for elasticsearch..."; sleep 3
done
curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X POST "$ES/_security/user/kibana_system/_password" \
  -d "{\"password\":\"${KIBANA_PASSWORD:?}\"}" >/dev/null
# The workers may only write and read the pages indices (and create them through the template).
curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X PUT "$ES/_security/role/gleaner_writer" -d '{
  "cluster": ["monitor"],
  "indices": [{"names": ["pages", "pages-*", "gleaner-failures"], "privileges": ["create_index", "index", "read", "view_index_metadata"]}]
}' >/dev/null
curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X PUT "$ES/_security/user/gleaner_writer" \
  -d "{\"password\":\"${GLEANER_ES_WRITER_PASSWORD:?}\",\"roles\":[\"gleaner_writer\"]}" >/dev/null
# Template, alias and Kibana objects need more than the writer may do: run as elastic.
GLEANER_ES_USERNAME=elastic GLEANER_ES_PASSWORD="$ELASTIC_PASSWORD" \
GLEANER_KIBANA_USERNAME=elastic GLEANER_KIBANA_PASSWORD="$ELASTIC_PASSWORD" gleaner setup
echo "setup done"
