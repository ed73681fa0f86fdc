#!/bin/sh
# tools/demo.sh --vm: a VM's network served by ioasid-netd.
#
# The daemon gets a vhost-user port (vm0, offering VIRTIO_F_IOMMU_PLATFORM)
# cross-connected to a net_tap uplink (a TAP interface on the host). An
# unmodified QEMU (TCG) boots Debian's Linux 6.12 behind QEMU's intel-iommu
# with device IOTLB, so every guest DMA address reaches the daemon as IOTLB
# updates and misses and is translated by the fast path. The host pings the
# guest through the TAP interface, then the guest streams numbered frames
# of 64 to 1,514 bytes which tap-reflect sends straight back: each frame
# crosses the daemon both ways and is checked at both ends.
#
# Live progress once a second from the daemon's control socket, then a
# table, a chart (gnuplot, in the terminal and as a PNG) and the figures as
# JSON in OUT (default build/demo-vm). Needs root (the DPDK EAL, a TAP
# interface). Exit status 0 only when every frame came back intact.
#
# For ioasid-bench netd (bench/netd.sh): --device testpmd serves the same
# guest with DPDK's own vhost-user backend instead (dpdk-testpmd, net_vhost
# and the same net_tap uplink, io forwarding; no live counters: testpmd
# has no control socket), --no-iommu boots without the vIOMMU, --quiet
# prints no progress or chart.
#
# Usage: tools/demo_vm.sh BUILD SRCDIR [--frames N] [--out DIR] [--lazy]
#        [--no-iommu] [--device ioasid|testpmd] [--quiet]
set -u
build=$1 src=$2
shift 2
frames=20000 out=$build/demo-vm strict=1 viommu=1 device=ioasid quiet=
while [ $# -gt 0 ]; do
	case $1 in
	--frames) frames=${2:-}; shift 2 ;;
	--out) out=${2:-}; shift 2 ;;
	--lazy) strict=0; shift ;;
	--no-iommu) viommu=0; shift ;;
	--device) device=${2:-}; shift 2 ;;
	--quiet) quiet=1; shift ;;
	*) echo "demo --vm: unknown argument $1 (known: --frames N, --out DIR, --lazy, --no-iommu, --device ioasid|testpmd, --quiet)" >&2; exit 2 ;;
	esac
done
case $device in ioasid|testpmd) ;; *) echo "demo --vm: --device takes ioasid or testpmd" >&2; exit 2 ;; esac
[ -n "$out" ] || { echo "demo --vm: --out takes a directory" >&2; exit 2; }
case $frames in ''|*[!0-9]*) echo "demo --vm: --frames takes a number" >&2; exit 2 ;; esac

die() { echo "demo --vm: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (the DPDK EAL and a TAP interface)"
command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64 (tools/setup.sh --kernel)"
kver=$(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | grep '^6\.12\.' | sort -V | tail -1)
[ -n "$kver" ] && [ -r "/boot/vmlinuz-$kver" ] || die "no Linux 6.12 image in /boot (tools/setup.sh --kernel)"
[ -x /bin/busybox ] || die "no static /bin/busybox (busybox-static)"
netd=$build/netd/ioasid-netd ctl=$build/tools/ioasidctl reflect=$build/tests/tap-reflect
for p in "$netd" "$ctl" "$reflect"; do
	[ -x "$p" ] || die "$p was not built (needs DPDK: libdpdk-dev)"
done
[ $device = ioasid ] || command -v dpdk-testpmd >/dev/null || die "no dpdk-testpmd (Debian's dpdk package)"
say() { [ -n "$quiet" ] || echo "$@"; }

# As root: never remove a directory this demo did not make (its marker
# says so), and make a fresh one without -p, so that nobody can put a
# directory or a link in its place between the two.
if [ -e "$out" ] || [ -L "$out" ]; then
	[ -d "$out" ] && [ ! -L "$out" ] && [ -f "$out/.ioasid-demo-vm" ] ||
		die "--out $out exists and is not a directory this demo made; give another"
	rm -rf "$out"
fi
mkdir -m 755 "$out" || die "cannot make $out (its parent must exist)"
: > "$out/.ioasid-demo-vm"
skip() { die "$1"; }
. "$src/tests/vm/vnet_initramfs.sh"
vnet_initramfs "$out" "$src" "$kver"

tap=iodemo$$
sock=$out/vm0.sock control=$out/ctl
host_ip=10.0.99.1 guest_ip=10.0.99.2
if [ $device = ioasid ]; then
	say "demo --vm: ioasid-netd with vhost-user port vm0 ($sock) and net_tap uplink $tap"
	"$netd" -l 0,1 --no-huge -m 128 --no-pci --file-prefix="iodemo-$$" \
		--vdev "net_tap0,iface=$tap" -- --vhost "vm0=$sock,iommu" \
		--xconnect vm0,net_tap0 --control "$control" > "$out/netd.log" 2>&1 &
	npid=$!
else
	say "demo --vm: dpdk-testpmd with net_vhost ($sock) and net_tap uplink $tap, io forwarding"
	# testpmd without -i stops at a line on stdin: give it one that
	# never comes (a pipe from a sleeper), and it runs until SIGTERM.
	mkfifo "$out/stdin"
	sleep 100000 > "$out/stdin" &
	ppid=$!
	dpdk-testpmd -l 0,1 --no-huge -m 256 --no-pci --file-prefix="iodemo-$$" \
		--vdev "net_vhost0,iface=$sock,queues=1$([ $viommu = 1 ] && echo ,iommu-support=1)" \
		--vdev "net_tap0,iface=$tap" -- --forward-mode=io --auto-start \
		--nb-cores=1 --total-num-mbufs=16384 --record-core-cycles \
		< "$out/stdin" > "$out/netd.log" 2>&1 &
	npid=$!
	control=$sock		# what the wait below looks for
fi
rpid= qpid=
cleanup() {
	for p in $qpid $rpid; do kill "$p" 2>/dev/null; done
	if kill -0 "$npid" 2>/dev/null; then
		kill -TERM "$npid"
		w=0
		while kill -0 "$npid" 2>/dev/null && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
		kill -KILL "$npid" 2>/dev/null
	fi
	[ -n "$ppid" ] && kill "$ppid" 2>/dev/null
	wait 2>/dev/null
}
ppid=${ppid:-}
trap cleanup EXIT
trap 'exit 130' INT TERM
w=0
while [ ! -S "$control" ] && [ $w -lt 300 ] && kill -0 "$npid" 2>/dev/null; do
	sleep 0.1; w=$((w + 1))
done
if [ ! -S "$control" ] || ! ip link show "$tap" >/dev/null 2>&1; then
	sed 's/^/netd: /' "$out/netd.log" >&2
	die "$device did not start (its log above)"
fi
echo 1 > "/proc/sys/net/ipv6/conf/$tap/disable_ipv6" 2>/dev/null
ip addr add "$host_ip/24" dev "$tap"
ip link set "$tap" up
"$reflect" "$tap" "$out/reflect.stats" > "$out/reflect.log" 2>&1 &
rpid=$!

iommu="-device intel-iommu,intremap=on,device-iotlb=on"
nopt=",iommu_platform=on,ats=on"
append="intel_iommu=on iommu.strict=$strict"
[ $viommu = 1 ] || iommu= nopt= append=
say "demo --vm: booting Linux $kver under QEMU $(qemu-system-x86_64 --version | head -1 | sed 's/.*version //') (TCG) $([ $viommu = 1 ] && echo "behind intel-iommu, guest IOMMU $([ $strict = 1 ] && echo strict || echo lazy)" || echo "without a vIOMMU")"
t0=$(date +%s)
# shellcheck disable=SC2086
timeout -k 10 600 sh "$src/tests/vm/vnet_qemu.sh" "$kver" "$out/initrd.gz" \
	"$sock" 1 "" "" "$nopt" \
	"$append vnet.frames=$frames vnet.ip=$guest_ip vnet.wait=4" $iommu \
	> "$out/serial.raw" 2>&1 &
qpid=$!

# One sample a second: the daemon's counters as JSON, one line each.
sample() {
	[ $device = ioasid ] && "$ctl" netd stats --control "$control" 2>/dev/null
}
# The fields of a stats line the demo shows, as "name value" words.
fields() {
	python3 -c 'import json,sys
try:
    r=json.loads(sys.argv[1])
except Exception:
    sys.exit(1)
p={x["name"]:x for x in r["ports"]}
v,t=p["vm0"],p["net_tap0"]
print(v["rx_packets"],v["tx_packets"],t["rx_packets"],t["tx_packets"],
      v.get("iotlb_updates",0),v.get("iotlb_misses",0),v.get("iotlb_invalidates",0),
      v["rx_drops"]+v["tx_drops"]+t["rx_drops"]+t["tx_drops"])' "$1"
}

pinged=
[ $device = ioasid ] &&
	say "   time  guest->host  host->guest  IOTLB updates  misses  invalidations  frames/s  updates/s"
: > "$out/samples.txt"
prev=0 prev_upd=0 s=0
while kill -0 "$qpid" 2>/dev/null; do
	sleep 1
	s=$((s + 1))
	if [ -z "$pinged" ] && grep -q '^VNET-VM: address' "$out/serial.raw" 2>/dev/null; then
		# busybox's ping: busybox-static is here for the initramfs.
		pinged=$(/bin/busybox ping -c 3 -W 2 "$guest_ip" 2>&1 | tail -2 | tr '\n' ' ')
		say "  ping $guest_ip from the host: ${pinged:-no answer}"
		pinged=${pinged:-none}
	fi
	line=$(sample) || continue
	f=$(fields "$line") || continue
	# shellcheck disable=SC2086
	set -- $f
	rate=$(( $1 - prev )) urate=$(( $5 - prev_upd ))
	prev=$1 prev_upd=$5
	[ -n "$quiet" ] ||
		printf '%6ss  %11s  %11s  %13s  %6s  %13s  %8s  %9s\n' "$s" "$1" "$2" "$5" "$6" "$7" "$rate" "$urate"
	echo "$s $1 $2 $5 $6 $7 $rate $urate" >> "$out/samples.txt"
done
wait "$qpid"
qrc=$?
t1=$(date +%s)
sleep 1
tr -d '\r' < "$out/serial.raw" > "$out/serial.log"
line=$(sample)
f=$(fields "$line" 2>/dev/null) || f="0 0 0 0 0 0 0 0"
# shellcheck disable=SC2086
set -- $f
ok=$(sed -n 's/^VNET: ok \([0-9]*\) \([0-9]*\) \([0-9]*\)$/\2 \3/p' "$out/serial.log")
faults=$(sed -n 's/^VNET-VM: dmar faults \([0-9]*\)$/\1/p' "$out/serial.log")
intact=$(sed -n 's/^intact //p' "$out/reflect.stats" 2>/dev/null)
bad=$(sed -n 's/^bad //p' "$out/reflect.stats" 2>/dev/null)
panic=$(grep -c 'Kernel panic\|BUG:\|Oops' "$out/serial.log")
ms=${ok#* } back=0
[ -n "$ok" ] && back=${ok% *}
pps=0
[ -n "$ok" ] && [ "${ms:-0}" -gt 0 ] && pps=$(( ${ok% *} * 1000 / ms ))
lost=$(sed -n 's/^VNET: fail \([0-9]*\) of [0-9]* frames lost$/\1/p' "$out/serial.log")
[ -n "$ok" ] && lost=0
# The device's own cost: TSC cycles in its passes that moved frames, per
# frame it received (both ways), as testpmd's --record-core-cycles counts:
# ioasid-netd's forwarding lcore plus its vhost-user worker; testpmd's one
# forwarding lcore (net_vhost's rings are served there), printed at exit.
if [ $device = ioasid ]; then
	cpf=$(python3 -c 'import json,sys
try:
    r=json.loads(sys.argv[1])
    f=r["fwd"]
    busy=f["busy_cycles"]+sum(p.get("worker_busy_ns",0) for p in r["ports"])*f["tsc_hz"]/1e9
    n=sum(p["rx_packets"] for p in r["ports"])
    print(round(busy/n) if n else "null")
except Exception:
    print("null")' "$line")
else
	kill -TERM "$npid" 2>/dev/null
	w=0
	while kill -0 "$npid" 2>/dev/null && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
	cpf=$(sed -n 's/^ *CPU cycles\/packet=\([0-9.]*\) .*/\1/p' "$out/netd.log" | tail -1)
	cpf=${cpf%.*}
fi

cat > "$out/demo.json" <<EOF
{"device":"$device","viommu":$([ $viommu = 1 ] && echo true || echo false),
 "frames":$frames,"back_intact":$back,"lost":${lost:-null},"ms":${ms:-0},"frames_per_s":$pps,
 "reflected_intact":${intact:-0},"reflected_bad":${bad:-0},
 "vm0_rx":$1,"vm0_tx":$2,"tap_rx":$3,"tap_tx":$4,"drops":$8,
 "iotlb_updates":$5,"iotlb_misses":$6,"iotlb_invalidates":$7,
 "cycles_per_frame":${cpf:-null},
 "dmar_faults":${faults:-null},"guest_errors":$panic,"seconds":$((t1 - t0))}
EOF
if [ -z "$quiet" ]; then
echo
echo "| what | value |"
echo "|---|---|"
echo "| frames sent by the guest, back intact | $back of $frames $([ -n "$ok" ] && echo "in $ms ms, $pps frames/s each way" || echo "(not all: see $out/serial.log)") |"
echo "| checked by tap-reflect on the host | ${intact:-0} intact, ${bad:-0} damaged |"
echo "| vm0 (vhost-user) rx / tx | $1 / $2 |"
echo "| net_tap0 rx / tx | $3 / $4 |"
echo "| drops, all ports | $8 |"
echo "| IOTLB updates / misses / invalidations | $5 / $6 / $7 |"
echo "| $device's own TSC cycles per frame (busy passes) | ${cpf:-?} |"
echo "| DMAR faults in the guest | ${faults:-?} |"
echo "| ping from the host | ${pinged:-not reached} |"
echo "| boot to power-off | $((t1 - t0)) s |"

if command -v gnuplot >/dev/null && [ -s "$out/samples.txt" ]; then
	# Relative names in gnuplot's commands: no path pasted into them.
	plot='plot "samples.txt" using 1:7 with lines title "frames/s guest->host", "" using 1:8 with lines title "IOTLB updates/s"'
	(cd "$out" && gnuplot -e "set terminal dumb 79 22; set xlabel 's'; $plot") 2>/dev/null
	(cd "$out" && gnuplot -e "set terminal png size 900,500; set output 'demo.png'; set xlabel 'seconds'; set grid; $plot") 2>/dev/null &&
		echo "chart: $out/demo.png"
fi
echo "figures: $out/demo.json"
fi

if [ "$panic" != 0 ]; then
	# The guest's words, printable characters only (no escapes).
	grep -m 5 'Kernel panic\|BUG:\|Oops' "$out/serial.log" | tr -cd '[:print:]\n' | sed 's/^/guest: /'
	echo "demo --vm: the guest kernel reported an error (the defect open in issue 11?); see $out/serial.log"
	exit 1
fi
[ -n "$ok" ] && [ "${bad:-0}" = 0 ] && [ "${faults:-0}" = 0 ] && [ "$qrc" = 0 ] || {
	echo "demo --vm: not every frame came back intact; see $out/serial.log and $out/netd.log"
	exit 1
}
say "demo --vm: every frame crossed $([ $device = ioasid ] && echo ioasid-netd || echo dpdk-testpmd) both ways intact"
