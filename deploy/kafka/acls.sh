#!/bin/sh
# A sketch of the cluster's ACLs, one principal per party (run once by the
# cluster admin, e.g. `docker compose run --rm --entrypoint sh kafka-1 /acls.sh`).
# The registry's relay writes every agency topic; each agency reads only its
# own topics and consumer group and writes only its dead-letter topic. Nobody
# but the admin creates topics (`registry publish topics` runs as the admin).
set -eu
ACLS="/opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka-1:9092 --command-config /etc/kafka/admin.properties"

# The relay (User:registry): write and describe the contract's topics.
$ACLS --add --allow-principal User:registry --operation Write --operation Describe \
      --topic bron.vo. --resource-pattern-type prefixed

# CBS, the Inspectorate and SVB: read their topics and group, park in their DLQ.
for agency in cbs inspectie svb; do
  $ACLS --add --allow-principal "User:$agency" --operation Read --operation Describe \
        --topic "bron.vo.$agency." --resource-pattern-type prefixed
  $ACLS --add --allow-principal "User:$agency" --operation Read \
        --group "agency-$agency" --resource-pattern-type literal
  $ACLS --add --allow-principal "User:$agency" --operation Write \
        --topic "bron.vo.$agency.dlq.v1" --resource-pattern-type literal
done

# A municipality (one line per gemeente, e.g. gm0363 Amsterdam): its own topics.
for gemeente in gm0363 gm0518 gm0599; do
  $ACLS --add --allow-principal "User:$gemeente" --operation Read --operation Describe \
        --topic "bron.vo.$gemeente." --resource-pattern-type prefixed
  $ACLS --add --allow-principal "User:$gemeente" --operation Read \
        --group "agency-$gemeente" --resource-pattern-type literal
  $ACLS --add --allow-principal "User:$gemeente" --operation Write \
        --topic "bron.vo.$gemeente.dlq.v1" --resource-pattern-type literal
done
