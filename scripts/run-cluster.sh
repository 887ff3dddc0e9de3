#!/usr/bin/env bash
# make run-cluster: one NATS server (natsbridge/cmd/natsdemo, in-process
# nats-server) and two weir nodes (natsbridge/cmd/weir serve -nats URL) on two
# ports, so that two browser tabs, one on each node, chat through the
# cluster. Ctrl-C stops all three. docs/pubsub.md#cluster says what crosses
# the wire.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
NATS_ADDR=${NATS_ADDR:-127.0.0.1:4222}
NODE_A=${NODE_A:-127.0.0.1:8081}
NODE_B=${NODE_B:-127.0.0.1:8082}

bin=$(mktemp -d)
cleanup() {
	for p in $(jobs -p); do kill -INT "$p" 2>/dev/null || true; done
	wait || true
	rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd natsbridge && "$GO" build -o "$bin/" ./cmd/weir ./cmd/natsdemo)

"$bin/natsdemo" -addr "$NATS_ADDR" >"$bin/nats.url" &
for _ in $(seq 100); do
	[ -s "$bin/nats.url" ] && break
	kill -0 $! 2>/dev/null || { echo "run-cluster: natsdemo failed (is $NATS_ADDR taken? NATS_ADDR=127.0.0.1:0 picks a port)" >&2; exit 1; }
	sleep 0.1
done
url=$(head -n 1 "$bin/nats.url")
echo "NATS server at $url"

"$bin/weir" serve -addr "$NODE_A" -nats "$url" &
"$bin/weir" serve -addr "$NODE_B" -nats "$url" &
for addr in "$NODE_A" "$NODE_B"; do
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null && break
		sleep 0.1
	done
done
echo
echo "Two weir nodes, one NATS server. Open one tab on each node and chat:"
echo "  node A: http://$NODE_A/"
echo "  node B: http://$NODE_B/"
echo "(Ctrl-C stops all three)"
wait
