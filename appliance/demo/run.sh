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

[ -f "$demo/inner/keys/signing.key" ] || bin/sealgate-inner keys init --dir "$demo/inner/keys" > /dev/null
[ -f "$demo/outer/keys/license.key" ] || bin/sealgate-outer keys init --dir "$demo/outer/keys" > /dev/null

fp() { bin/sealgate-$1 keys show --dir "$demo/$1/keys" --json | sed -E 's/.*"name":"'"$2"'"[^}]*"fingerprint":"([^"]*)".*/\1/'; }

# Pairing: each side pins the other's keys, as an operator would after
# comparing the fingerprints of `keys show` out of band.
[ -f "$demo/inner.yaml" ] || cat > "$demo/inner.yaml" <<YAML
# Demo config written by make run; see configs/inner.example.yaml for every key.
data_dir: inner
key_dir: inner/keys
console:
  listen: 127.0.0.1:8443
metrics:
  listen: 127.0.0.1:9101
transfer:
  outer_address: 127.0.0.1:4433
  outer_fingerprint: $(fp outer transfer)
  outer_license: outer/keys/license.pub
YAML
# A demo written before online exports were sealed to the outer's key.
grep -q outer_license "$demo/inner.yaml" || sed -i '/outer_fingerprint:/a\  outer_license: outer/keys/license.pub' "$demo/inner.yaml"
[ -f "$demo/outer.yaml" ] || cat > "$demo/outer.yaml" <<YAML
# Demo config written by make run; see configs/outer.example.yaml for every key.
data_dir: outer
key_dir: outer/keys
portal:
  listen: 127.0.0.1:9443
metrics:
  listen: 127.0.0.1:9102
transfer:
  listen: 127.0.0.1:4433
  peers:
    - name: demo-city
      transfer_fingerprint: $(fp inner transfer)
      signing_pub: inner/keys/signing.pub
YAML

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
# stop ends both daemons; it also runs when a step below fails, so a failed
# start never leaves daemons behind holding the ports.
stop() {
	local code=${1:-0}
	trap - INT TERM EXIT
	echo; echo "stopping…"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	echo "stopped; data kept in $demo"
	exit "$code"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

bin/sealgate-inner serve --config "$demo/inner.yaml" > "$demo/inner.out" 2> "$demo/inner.log" & pids+=($!)
bin/sealgate-outer serve --config "$demo/outer.yaml" > "$demo/outer.out" 2> "$demo/outer.log" & pids+=($!)

for url in https://127.0.0.1:8443/readyz https://127.0.0.1:9443/readyz; do
	for _ in $(seq 300); do
		curl -skf "$url" > /dev/null && break
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || { echo "a daemon exited during start-up:"; tail -5 "$demo"/*.log; stop 1; }
		done
		sleep 0.2
	done
done

# First run only: a demo export — a 10 s test pattern, watermarked with the
# next serial of the export ledger, sealed to the outer and queued, so the
# outer receives a package over QUIC and the console's trace page and ledger
# have something to show.
demo_pkg=""
if [ ! -f "$demo/inner/.demo-queued" ]; then
	ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 10 -c:v libx264 -pix_fmt yuv420p "$demo/demo-source.mp4"
	rm -f "$demo/demo-clip.mp4"
	mark=$(bin/sealgate-inner watermark --config "$demo/inner.yaml" --in "$demo/demo-source.mp4" --out "$demo/demo-clip.mp4" \
		--requester "Demo police station" --reason "DEMO" --json | sed -E 's/.*"payload":"([0-9a-f]{16})".*/\1/')
	cat > "$demo/demo-manifest.json" <<JSON
{"export_code": "SG-DEMO-000001", "camera": {"name": "CAM-DEMO", "location": "테스트 패턴"},
 "reason_code": "DEMO", "recipient": {"agency": "Demo police station"}, "media_type": "video/mp4", "watermark": "$mark"}
JSON
	bin/sealgate-inner seal --in "$demo/demo-clip.mp4" --out "$demo/demo-clip.sgpkg" --to "$demo/outer/keys/license.pub" \
		--key-dir "$demo/inner/keys" --manifest "$demo/demo-manifest.json" > /dev/null
	bin/sealgate-inner outbox add --config "$demo/inner.yaml" "$demo/demo-clip.sgpkg" > /dev/null
	touch "$demo/inner/.demo-queued"
	demo_pkg="  A demo export (SG-DEMO-000001, watermark $mark in the export ledger) was sealed and queued;
  see it arrive with
    bin/sealgate-outer store list --config $demo/outer.yaml
  and trace the marked copy $demo/demo-clip.mp4 on the console's trace page.
"
fi

# First run only: the export workflow with demo people. A camera and a
# clip (root may keep the registry and ingest), a demo operator files a
# request and a demo approver approves it; the daemon's pipeline masks,
# marks and leak-checks it, and the approver releases it on the console.
demo_flow=""
if [ ! -f "$demo/inner/.demo-export-filed" ]; then
	for who in operator approver; do
		pw="Dm-$(head -c 15 /dev/urandom | base64 | tr -d '/+=')-7!"
		printf '%s\n' "$pw" > "$demo/.pw" && chmod 600 "$demo/.pw"
		bin/sealgate-inner user add --config "$demo/inner.yaml" --username "demo.$who" --role "$who" --password-file "$demo/.pw" > /dev/null
		rm -f "$demo/.pw"
		passwords+="  sealgate-inner  user demo.$who  password $pw   (shown once; change it at first sign-in)"$'\n'
	done
	cam=$(bin/sealgate-inner camera add --config "$demo/inner.yaml" --name "역삼역 4번 출구" --location "서울 강남구 역삼동 823" --vms-id NVR2-CH12 --json |
		sed -E 's/.*"id":([0-9]+).*/\1/')
	ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 8 -c:v libx264 -pix_fmt yuv420p "$demo/cam12-demo.mp4"
	foot=$(bin/sealgate-inner footage import --config "$demo/inner.yaml" --camera "$cam" --file "$demo/cam12-demo.mp4" --json |
		sed -E 's/.*"id":([0-9]+),.*/\1/')
	rm -f "$demo/cam12-demo.mp4"
	ex=$(bin/sealgate-inner export request --config "$demo/inner.yaml" --as demo.operator --footage "$foot" --reason assault \
		--detail "데모: 폭행 사건 수사" --requester-name "경위 김민수" --agency "강남경찰서" --document-no "강남-2026-DEMO" \
		--recipient officer.kim --viewing-days 7 --json | sed -E 's/.*"id":([0-9]+),.*/\1/')
	bin/sealgate-inner export approve --config "$demo/inner.yaml" --as demo.approver "$ex" --reason "데모 승인" > /dev/null
	touch "$demo/inner/.demo-export-filed"
	demo_flow="  A demo export request (camera 역삼역 4번 출구) was filed by demo.operator and approved by
  demo.approver; follow its stages at https://127.0.0.1:8443/exports/$ex — when its leak check lists
  frames to confirm, demo.approver releases it there and it is sealed and sent to the outer.
"
fi

cat <<SUMMARY

Sealgate demo is running (data, keys and databases in $demo/).

  Inner console   https://127.0.0.1:8443/   metrics http://127.0.0.1:9101/metrics
  Outer portal    https://127.0.0.1:9443/   metrics http://127.0.0.1:9102/metrics
  Outer receiver  127.0.0.1:4433/udp (QUIC; the inner dials it with the packages in its outbox)
  TLS certificates are self-signed; their fingerprints:
    inner $(sed -E 's/.*certificate (sha256:[0-9a-f]+).*/\1/' "$demo/inner.out")
    outer $(sed -E 's/.*certificate (sha256:[0-9a-f]+).*/\1/' "$demo/outer.out")

  Pairing fingerprints (compare out of band):
    inner signing key   $(fp inner signing)
    inner transfer key  $(fp inner transfer)
    outer license key   $(fp outer license)
    outer transfer key  $(fp outer transfer)

$(if [ -n "$passwords" ]; then printf 'Accounts created now:\n%s' "$passwords"; else echo "  The accounts were created on the first run (their passwords were shown then)."; fi)
${demo_pkg}${demo_flow}  Logs: $demo/inner.log, $demo/outer.log (JSON). Admin commands take --config $demo/inner.yaml.
  Ctrl-C stops both daemons and their databases.
SUMMARY
wait "${pids[@]}"
