#!/usr/bin/env bash
# The compose stack's one-shot `certs` step, run in the Elasticsearch image as root, as Elastic's
# own compose example does: a CA and the certificate of the `elasticsearch` service (DNS names
# elasticsearch and localhost, IP 127.0.0.1), made once with elasticsearch-certutil into the `certs`
# volume and kept there (a second run changes nothing). Elasticsearch serves HTTPS with them; Kibana
# and the Gleaner containers verify it against ca/ca.crt.
set -euo pipefail
ES_HOME="${ES_HOME:-/usr/share/elasticsearch}"
CERTS="${CERTS_DIR:-$ES_HOME/config/certs}"
cd "$ES_HOME"
mkdir -p "$CERTS"

if [ ! -f "$CERTS/ca/ca.crt" ]; then
  echo "certs: creating the CA"
  bin/elasticsearch-certutil ca --silent --pem --days "${CERTS_DAYS:-1095}" -out "$CERTS/ca.zip"
  unzip -q -o "$CERTS/ca.zip" -d "$CERTS"
  rm -f "$CERTS/ca.zip"
fi
if [ ! -f "$CERTS/elasticsearch/elasticsearch.crt" ]; then
  echo "certs: creating the certificate of elasticsearch"
  printf '%s\n' 'instances:' '  - name: elasticsearch' '    dns: [elasticsearch, localhost]' '    ip: [127.0.0.1]' \
    > "$CERTS/instances.yml"
  bin/elasticsearch-certutil cert --silent --pem --days "${CERTS_DAYS:-1095}" --in "$CERTS/instances.yml" \
    --ca-cert "$CERTS/ca/ca.crt" --ca-key "$CERTS/ca/ca.key" -out "$CERTS/certs.zip"
  unzip -q -o "$CERTS/certs.zip" -d "$CERTS"
  rm -f "$CERTS/certs.zip"
fi

# Elasticsearch and Kibana run as uid 1000, group 0; the Gleaner image as uid 10001. The CA
# certificate is public (everyone verifies with it); the keys are not.
chown -R root:root "$CERTS"
chmod 755 "$CERTS" "$CERTS/ca"
chmod 644 "$CERTS/ca/ca.crt" "$CERTS/instances.yml"
chmod 600 "$CERTS/ca/ca.key"
chmod 750 "$CERTS/elasticsearch"
chmod 640 "$CERTS/elasticsearch/elasticsearch.crt" "$CERTS/elasticsearch/elasticsearch.key"
echo "certs: ready in $CERTS"
