#!/usr/bin/env bash
# `make run`: both daemons on this machine, each with its own private
# PostgreSQL, keys and config under var/demo. Stays in the foreground;
# Ctrl-C (or SIGTERM) stops both daemons, which stop their databases.
# Data survives: the next run starts from where this one stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
demo=var/demo
mkdir -p "$demo"
# postgres runs unprivileged under root and must traverse to its directories.
chmod 0711 var "$demo"

config() { # side listen metrics
	cat <<YAML
# Demo config written by make run; see configs/$1.example.yaml for every key.
data_dir: $1
key_dir: $1/keys
$([ "$1" = inner ] && echo console || echo portal):
  listen: $2
metrics:
  listen: $3
YAML
}
[ -f "$demo/inner.yaml" ] || config inner 127.0.0.1:8443 127.0.0.1:9101 > "$demo/inner.yaml"
[ -f "$demo/outer.yaml" ] || config outer 127.0.0.1:9443 127.0.0.1:9102 > "$demo/outer.yaml"
[ -f "$demo/inner/keys/signing.key" ] || bin/sealgate-inner keys init --dir "$demo/inner/keys" > /dev/null
[ -f "$demo/outer/keys/license.key" ] || bin/sealgate-outer keys init --dir "$demo/outer/keys" > /dev/null

# First run only: one admin per daemon, its password shown once.
passwords=""
for side in inner outer; do
	if [ ! -f "$demo/$side/.admin-created" ]; then
		out=$(bin/sealgate-$side admin create --config "$demo/$side.yaml" --username admin --json)
		pw=$(sed -E 's/.*"password":"([^"]*)".*/\1/' <<<"$out")
		passwords+="  sealgate-$side  user admin  password $pw   (shown once; change it at first sign-in)"$'\n'
		touch "$demo/$side/.admin-created"
	fi
done

pids=()
stop() {
	trap - INT TERM
	echo; echo "stopping…"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	echo "stopped; data kept in $demo"
	exit 0
}
trap stop INT TERM

bin/sealgate-inner serve --config "$demo/inner.yaml" > "$demo/inner.out" 2> "$demo/inner.log" & pids+=($!)
bin/sealgate-outer serve --config "$demo/outer.yaml" > "$demo/outer.out" 2> "$demo/outer.log" & pids+=($!)

for url in https://127.0.0.1:8443/readyz https://127.0.0.1:9443/readyz; do
	for _ in $(seq 300); do
		curl -skf "$url" > /dev/null && break
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || { echo "a daemon exited during start-up:"; tail -5 "$demo"/*.log; stop; exit 1; }
		done
		sleep 0.2
	done
done

fp() { bin/sealgate-$1 keys show --dir "$demo/$1/keys" --json | sed -E 's/.*"name":"'"$2"'"[^}]*"fingerprint":"([^"]*)".*/\1/'; }
cat <<SUMMARY

Sealgate demo is running (data, keys and databases in $demo/).

  Inner console   https://127.0.0.1:8443/   metrics http://127.0.0.1:9101/metrics
  Outer portal    https://127.0.0.1:9443/   metrics http://127.0.0.1:9102/metrics
  TLS certificates are self-signed; their fingerprints:
    inner $(sed -E 's/.*certificate (sha256:[0-9a-f]+).*/\1/' "$demo/inner.out")
    outer $(sed -E 's/.*certificate (sha256:[0-9a-f]+).*/\1/' "$demo/outer.out")

  Pairing fingerprints (compare out of band):
    inner signing key   $(fp inner signing)
    inner transfer key  $(fp inner transfer)
    outer license key   $(fp outer license)
    outer transfer key  $(fp outer transfer)

$(if [ -n "$passwords" ]; then printf 'Admin accounts created now:\n%s' "$passwords"; else echo "  Admin accounts were created on the first run (their passwords were shown then)."; fi)
  Logs: $demo/inner.log, $demo/outer.log (JSON). Admin commands take --config $demo/inner.yaml.
  Ctrl-C stops both daemons and their databases.
SUMMARY
wait "${pids[@]}"
