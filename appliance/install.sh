#!/usr/bin/env bash
# Install one Sealgate appliance (inner or outer) on Debian bookworm from a
# release directory: this script beside systemd/, nftables/ and bin/ with
# the binaries. docs/install.md is the installer's step-by-step.
#
#   install.sh --side outer --boundary-if IF --inner-addrs IP[,IP…] [--peer-keys DIR --peer-name N]
#   install.sh --side inner --boundary-if IF --outer-addr IP --cctv-net PREFIX [--peer-keys DIR]
#
# --root DIR installs into a staging root instead (users into DIR/etc/passwd
# through systemd-sysusers --root; no apt-get, no systemctl, no sysctl).
# Re-running is safe: keys and an existing config are kept; --peer-keys
# pairs an installed appliance.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
side="" root="" bin="$here/bin" boundary_if="" outer_addr="" inner_addrs="" cctv_net=""
quic_port=4433 https_port=443 console_port=8443 tcp_ports=22 peer_keys="" peer_name=""

usage() {
	cat <<EOF
usage: $0 --side inner|outer [options]
  --root DIR          install into a staging root (no apt-get, systemctl or sysctl)
  --bin DIR           where sealgate-inner / sealgate-outer are (default $here/bin)
  --boundary-if IF    the interface toward the other appliance (required)
  --quic-port N       the outer's QUIC (UDP) port (default 4433)
  --cctv-net PREFIX   the CCTV network, e.g. 10.20.0.0/16 (required)
  --tcp-ports LIST    TCP ports open on this side's own network, e.g. 22 (default 22; "none")
inner:
  --outer-addr IP     the outer's address across the boundary (required)
  --console-port N    the console's HTTPS port, CCTV side only (default 8443)
  --peer-keys DIR     the outer's license.pub and transfer.crt (pairs this inner)
outer:
  --inner-addrs LIST  the paired inners' addresses, comma-separated (required)
  --https-port N      the officers' portal port (default 443)
  --peer-keys DIR     an inner's signing.pub and transfer.crt; with --peer-name N
EOF
	exit 2
}
die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--side) side=$2 ;;
	--root) root=$2 ;;
	--bin) bin=$2 ;;
	--boundary-if) boundary_if=$2 ;;
	--outer-addr) outer_addr=$2 ;;
	--inner-addrs) inner_addrs=$2 ;;
	--cctv-net) cctv_net=$2 ;;
	--quic-port) quic_port=$2 ;;
	--https-port) https_port=$2 ;;
	--console-port) console_port=$2 ;;
	--tcp-ports) tcp_ports=$2 ;;
	--peer-keys) peer_keys=$2 ;;
	--peer-name) peer_name=$2 ;;
	*) usage ;;
	esac
	shift 2
done

# Every value goes into an nft rule set or a YAML file: check its shape.
ipv4='([0-9]{1,3}\.){3}[0-9]{1,3}'
is() { [[ $2 =~ ^$1$ ]]; }
port() {
	if ! is '[0-9]{1,5}' "$1" || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then die "$2: not a port: $1"; fi
}
[ "$side" = inner ] || [ "$side" = outer ] || usage
[ "$(id -u)" = 0 ] || die "run as root"
is '[A-Za-z0-9_.:-]{1,15}' "$boundary_if" || die "--boundary-if: an interface name is required"
is "$ipv4/[0-9]{1,2}" "$cctv_net" || die "--cctv-net: an IPv4 prefix such as 10.20.0.0/16 is required"
port "$quic_port" --quic-port
[ "$tcp_ports" = none ] || is '[0-9]{1,5}(,[0-9]{1,5})*' "$tcp_ports" || die "--tcp-ports: comma-separated ports or none"
if [ "$side" = inner ]; then
	is "$ipv4" "$outer_addr" || die "--outer-addr: the outer's IPv4 address is required"
	port "$console_port" --console-port
	[ -z "$peer_name" ] || die "--peer-name is for the outer"
else
	is "$ipv4(,$ipv4)*" "$inner_addrs" || die "--inner-addrs: the paired inners' IPv4 addresses are required"
	port "$https_port" --https-port
	[ -z "$peer_keys" ] || is '[a-z0-9][a-z0-9-]{0,62}' "$peer_name" || die "--peer-keys needs --peer-name (lower-case letters, digits, -)"
fi
daemon="$bin/sealgate-$side"
[ -x "$daemon" ] || die "$daemon: no such binary (--bin DIR)"
for f in "$here/systemd/sealgate-$side.service" "$here/systemd/60-sealgate-transfer.conf" "$here/nftables/sealgate-$side.nft"; do
	[ -f "$f" ] || die "$f is missing from the release"
done
if [ -n "$root" ]; then
	mkdir -p "$root"
	root=$(cd "$root" && pwd)
fi
etc="$root/etc/sealgate" data="$root/var/lib/sealgate-$side"
keys="$data/keys" conf="$root/etc/sealgate/$side.yaml"
step() { echo "== $*"; }

# Packages: a fresh bookworm lacks them. The inner's OpenCV and libav
# libraries come with the release's build; ldd names any that are missing.
if [ -z "$root" ]; then
	pkgs="postgresql nftables"
	[ "$side" = outer ] || pkgs="$pkgs ffmpeg opencv-data"
	missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		step "apt-get install$missing"
		apt-get update -qq
		# shellcheck disable=SC2086 # a list of package names
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
	fi
	if libs=$(ldd "$daemon" 2>/dev/null | grep 'not found'); then
		die "$daemon needs libraries that are not installed (apt-get install libopencv-dev libavformat-dev provides them):
$libs"
	fi
fi

step "users"
if [ "$side" = inner ]; then
	install -D -m 0644 "$here/systemd/sealgate.sysusers" "$root/usr/lib/sysusers.d/sealgate.conf"
	if [ -n "$root" ]; then
		mkdir -p "$root/etc"
		systemd-sysusers --root="$root"
	else
		systemd-sysusers /usr/lib/sysusers.d/sealgate.conf
	fi
fi

step "directories and files"
install -d -m 0750 "$etc"
install -d -m 0750 "$etc/peers"
install -d -m 0711 "$data"
# The release layout update apply keeps (docs/updates.md): the unit runs
# /opt/sealgate-<side>/current/sealgate-<side>; the CLI is linked from
# /usr/local/bin. A re-run keeps a release already in place.
version=$("$daemon" version --json | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
[ -n "$version" ] || die "$daemon version: no version"
opt="$root/opt/sealgate-$side"
if [ ! -e "$opt/current" ]; then
	install -D -m 0755 "$daemon" "$opt/releases/$version/sealgate-$side"
	ln -sfn "releases/$version" "$opt/current"
fi
install -d -m 0755 "$root/usr/local/bin"
ln -sfn "/opt/sealgate-$side/current/sealgate-$side" "$root/usr/local/bin/sealgate-$side"
install -D -m 0644 "$here/systemd/sealgate-$side.service" "$root/etc/systemd/system/sealgate-$side.service"
install -D -m 0644 "$here/systemd/60-sealgate-transfer.conf" "$root/etc/sysctl.d/60-sealgate-transfer.conf"
# journald: keep the journal (the daemons' JSON logs and the firewall's
# refusals) on disk across reboots, within bounds.
install -d -m 0755 "$root/etc/systemd/journald.conf.d"
cat > "$root/etc/systemd/journald.conf.d/60-sealgate.conf" <<'EOF'
# Written by Sealgate's install.sh (docs/install.md, "Logs").
[Journal]
Storage=persistent
Compress=yes
# At most 4 GB and a year of logs; always leave 10 GB of the disk free.
SystemMaxUse=4G
SystemKeepFree=10G
MaxRetentionSec=1year
# A daemon logging in a loop is throttled rather than filling the disk.
RateLimitIntervalSec=30s
RateLimitBurst=20000
EOF
chmod 0644 "$root/etc/systemd/journald.conf.d/60-sealgate.conf"

step "firewall"
set_define() { # FILE NAME VALUE: rewrite the line "define NAME = …"
	grep -q "^define $2 = " "$1" || die "$1 has no define $2"
	sed -i "s|^define $2 = .*|define $2 = $3|" "$1"
}
nft_file="$etc/sealgate-$side.nft"
install -m 0640 "$here/nftables/sealgate-$side.nft" "$nft_file.new"
# The inner's set always holds the console; the outer's may be empty, and
# then its rule goes.
tcp_set="${tcp_ports//,/, }"
set_define "$nft_file.new" BOUNDARY_IF "\"$boundary_if\""
set_define "$nft_file.new" QUIC_PORT "$quic_port"
set_define "$nft_file.new" CCTV_NET "$cctv_net"
if [ "$side" = inner ]; then
	set_define "$nft_file.new" OUTER_ADDR "$outer_addr"
	if [ "$tcp_ports" = none ]; then tcp_set="$console_port"; else tcp_set="$tcp_set, $console_port"; fi
	set_define "$nft_file.new" CCTV_TCP_PORTS "{ $tcp_set }"
else
	set_define "$nft_file.new" INNER_ADDRS "{ ${inner_addrs//,/, } }"
	set_define "$nft_file.new" HTTPS_PORT "$https_port"
	if [ "$tcp_ports" = none ]; then
		# shellcheck disable=SC2016 # the nft variable, literally
		sed -i '/tcp dport $POLICE_TCP_PORTS accept/d' "$nft_file.new"
	else
		set_define "$nft_file.new" POLICE_TCP_PORTS "{ $tcp_set }"
	fi
fi
command -v nft >/dev/null || die "nft not found: apt-get install nftables"
nft -c -f "$nft_file.new" || die "$nft_file.new: the filled rule set does not load"
mv "$nft_file.new" "$nft_file"
# nftables.service loads /etc/nftables.conf at boot: ours replaces Debian's
# accept-everything default (kept beside it).
nconf="$root/etc/nftables.conf"
if [ -f "$nconf" ] && ! grep -q sealgate "$nconf"; then
	cp -p "$nconf" "$nconf.sealgate-orig"
fi
cat > "$nconf" <<EOF
#!/usr/sbin/nft -f
# Written by Sealgate's install.sh (docs/install.md, "The firewall");
# the previous file is nftables.conf.sealgate-orig.
flush ruleset
include "/etc/sealgate/sealgate-$side.nft"
EOF
chmod 0755 "$nconf"

step "keys"
if [ -e "$keys/transfer.key" ]; then
	echo "keeping the keys in $keys"
else
	"$daemon" keys init --dir "$keys" > /dev/null
fi
chmod 0700 "$keys"

# Pairing: the peer's public files, carried over, are kept under
# /etc/sealgate/peers/NAME; their fingerprints are read aloud (below).
if [ -n "$peer_keys" ]; then
	step "pairing"
	[ "$side" = inner ] && peer_name=outer
	if [ "$side" = inner ]; then want="license.pub transfer.crt"; else want="signing.pub transfer.crt"; fi
	install -d -m 0750 "$etc/peers/$peer_name"
	for f in $want; do
		[ -f "$peer_keys/$f" ] || die "$peer_keys/$f is missing (the peer's keys show --dir lists its files)"
		install -m 0644 "$peer_keys/$f" "$etc/peers/$peer_name/$f"
	done
	peer_fp=$("$daemon" keys show --dir "$etc/peers/$peer_name" --json |
		sed -E 's/.*"name":"transfer"[^}]*"fingerprint":"([^"]*)".*/\1/')
	is 'sha256:[0-9a-f]{64}' "$peer_fp" || die "$peer_keys/transfer.crt: no transfer fingerprint"
fi

step "config"
if [ ! -f "$conf" ]; then
	if [ "$side" = inner ]; then
		cat > "$conf" <<EOF
# Written by Sealgate's install.sh; configs/inner.example.yaml documents every key.
data_dir: /var/lib/sealgate-inner
console:
  listen: 0.0.0.0:$console_port   # the firewall opens it to $cctv_net only
transfer:
  outer_address: ""     # set by install.sh --peer-keys
  outer_fingerprint: ""
  outer_license: ""
EOF
	else
		cat > "$conf" <<EOF
# Written by Sealgate's install.sh; configs/outer.example.yaml documents every key.
data_dir: /var/lib/sealgate-outer
portal:
  listen: 0.0.0.0:$https_port
transfer:
  listen: 0.0.0.0:$quic_port   # the firewall lets in the paired inners only
  # install.sh --peer-keys appends one entry per paired inner.
  peers:
EOF
	fi
	chmod 0640 "$conf"
fi
if [ -n "$peer_keys" ]; then
	if [ "$side" = inner ]; then
		sed -i -E "s|^  outer_address: .*|  outer_address: $outer_addr:$quic_port|;
			s|^  outer_fingerprint: .*|  outer_fingerprint: $peer_fp|;
			s|^  outer_license: .*|  outer_license: /etc/sealgate/peers/outer/license.pub|" "$conf"
		grep -q "outer_fingerprint: $peer_fp" "$conf" || die "$conf: could not set the outer's keys; edit transfer.* by hand"
	elif grep -q "^    - name: $peer_name$" "$conf"; then
		echo "$conf already pairs $peer_name; keeping it"
	else
		tail -n1 "$conf" | grep -q '^  peers:\|^      signing_pub:' || die "$conf: peers is not its last section; add $peer_name by hand"
		cat >> "$conf" <<EOF
    - name: $peer_name
      transfer_fingerprint: $peer_fp
      signing_pub: /etc/sealgate/peers/$peer_name/signing.pub
EOF
	fi
fi

if [ -z "$root" ]; then
	step "services"
	sysctl -q --system
	systemctl daemon-reload
	systemctl restart systemd-journald
	systemctl enable --now nftables
	systemctl reload-or-restart nftables
	systemctl enable "sealgate-$side"
	systemctl restart "sealgate-$side"
fi

echo
echo "Installed sealgate-$side into ${root:-/}. Read these fingerprints aloud to the other"
echo "appliance's installer, group by group; they must match what its keys show prints:"
echo
"$daemon" keys show --dir "$keys"
if [ -n "$peer_keys" ]; then
	echo "The peer's keys as copied here (they must match what the peer printed):"
	echo
	"$daemon" keys show --dir "$etc/peers/$peer_name"
fi
echo "Next: sealgate-$side admin create --username NAME (docs/install.md)."
