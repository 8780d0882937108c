#!/usr/bin/env bash
# The table of docs/PERFORMANCE.md (issue 20): every cost figure of fathom
# next to heaptrack, gperftools, `perf record -F 99 -g` and plain runs of the
# same workloads, measured side by side (configurations alternate round by
# round; medians of BENCH_RUNS rounds, 5 by default), printed as Markdown with
# the machine, the date and the load.
#
#   tests/bench/perf-table.sh [BUILD_DIR]       (default: build)
#   ctest --test-dir build -L bench -R perf-table --verbose
#
# A workload or tool that is missing leaves its row with a note, never a
# figure made up. BENCH_ONLY=alloc,sampled,dump,analyzer,stacks,cpu picks rows;
# BENCH_ALLOC ("sqlite cxx micro git gcc") the allocation workloads.
set -u -o pipefail
if [ -z "${FATHOM:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
	b=$(cd "${1:-$SRCDIR/build}" && pwd) || exit 1
	export SRCDIR FATHOM=$b/bin/fathom FATHOM_AGENT=$b/lib/fathom/libfathom.so PROGS=$b/tests/progs
	WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/perf-table.XXXXXX")
	trap 'rm -rf "$WORKDIR"' EXIT
fi
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/bench/timing.sh"
cd "$WORKDIR" || exit 1
RUNS=${BENCH_RUNS:-5}
ONLY=${BENCH_ONLY:-alloc,sampled,dump,analyzer,stacks,cpu}
WL=$SRCDIR/tests/bench/workloads
PROFILER_SO=$(ls /usr/lib/*/libprofiler.so.0 2>/dev/null | head -1)
have() { command -v "$1" >/dev/null; }
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
ROWS=()
NOTES=()
row() { ROWS+=("| $(printf '%s | ' "$@")"); }
skiprow() { row "$1" "$2" "—" "—" "—" "—" "—" "$3" "not measured: $4"; }
x() { awk -v a="$1" 'BEGIN { printf "%.2fx", a }'; }
pct() { awk -v a="$1" 'BEGIN { printf "%+.1f%%", (a - 1) * 100 }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.2f s", a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo yes || echo no; }
over() { awk -v f="$1" -v h="$2" 'BEGIN { printf "%.2f", (h > 1 ? (f - 1) / (h - 1) : 99) }'; }

# ---- exact and sampled allocation tracking against heaptrack ----

# The allocation workloads: NAME|KIND (what prepare builds)|CMD; the same
# command lines as bench-alloc-workloads.sh's (helper perfa's), whose workload
# files these are.
alloc_workloads() {
	echo "sqlite3|sqlite|sqlite3 :memory: .read\\ $WL/sqlite.sql"
	echo "C++ std::string/map|cxx|$WORKDIR/cxx_alloc"
	echo "malloc micro-benchmark (4 M pairs)|micro|$PROGS/bench_alloc 4000000"
	echo "git log -p|git|git -C $SRCDIR log -p -n 3000 --no-color"
	echo "gcc -O2 (cc1), generated C file|gcc|\$CC1 -quiet -O2 $WORKDIR/big.c -o $WORKDIR/big.s"
}

# prepare KIND: builds or finds what the workload needs; prints why not when it cannot.
prepare() {
	case "$1" in
	sqlite) have sqlite3 || echo "sqlite3 is not installed" ;;
	cxx)
		if [ ! -f "$WL/cxx_alloc.cpp" ]; then
			echo "tests/bench/workloads/cxx_alloc.cpp is not there yet"
		elif ! g++ -O2 -g -o cxx_alloc "$WL/cxx_alloc.cpp" 2>cxx.err; then echo "cxx_alloc.cpp does not build"; fi
		;;
	micro) [ -x "$PROGS/bench_alloc" ] || echo "no $PROGS/bench_alloc" ;;
	git) have git && git -C "$SRCDIR" rev-parse -q --verify HEAD >/dev/null || echo "no git repository at $SRCDIR" ;;
	gcc)
		# The compiler proper, not the driver: heaptrack follows no child.
		if [ ! -f "$WL/gen-c.sh" ]; then
			echo "no tests/bench/workloads/gen-c.sh yet"
		elif [ ! -x "$(gcc -print-prog-name=cc1)" ]; then
			echo "no cc1"
		else
			bash "$WL/gen-c.sh" >big.c
		fi
		;;
	esac
}

alloc_cfg() {
	local cfg=$1
	case "$cfg" in
	plain) bench_time plain "${CMD[@]}" ;;
	fathom) bench_time fathom "$FATHOM" record -q --alloc --no-cpu -o "$WORKDIR/a.fdump" -- "${CMD[@]}" ;;
	sampled) bench_time sampled "$FATHOM" record -q --alloc-sample 512k --no-cpu -o "$WORKDIR/s.fdump" -- "${CMD[@]}" ;;
	heaptrack)
		rm -f "$WORKDIR"/ht.*
		bench_time heaptrack heaptrack -o "$WORKDIR/ht" "${CMD[@]}"
		;;
	esac
}

alloc_rows() {
	local line name kind cmd why cfgs
	while IFS='|' read -r name kind cmd; do
		case " ${BENCH_ALLOC:-sqlite cxx micro git gcc} " in
		*" $kind "*) why=$(prepare "$kind") ;;
		*) why="left out of this run (BENCH_ALLOC)" ;;
		esac
		if [ -n "$why" ]; then
			skiprow "exact allocation tracking" "$name" "fathom's overhead <= 1/3 of heaptrack's" "$why"
			continue
		fi
		CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
		eval "CMD=($cmd)"
		h= hc= ov=
		rm -f "$WORKDIR"/results.*
		cfgs="plain fathom heaptrack"
		[ "$kind" = sqlite ] && want sampled && cfgs="$cfgs sampled"
		have heaptrack || cfgs=${cfgs/heaptrack/}
		bench_rounds "$RUNS" alloc_cfg $cfgs
		local pl f h fc hc ov target met
		pl=$(bench_fig plain wall)
		f=$(bench_paired fathom plain wall)
		fc=$(bench_paired fathom plain cpu)
		if have heaptrack; then
			h=$(bench_paired heaptrack plain wall)
			hc=$(bench_paired heaptrack plain cpu)
			ov=$(over "$f" "$h")
		fi
		if [ "$kind" = micro ]; then
			target="<= 2.0x plain"
			met=$(le "$f" 2.0)
		else
			target="fathom's overhead <= 1/3 of heaptrack's"
			met=$([ -n "${ov:-}" ] && le "$ov" 0.3334 || echo "no heaptrack")
		fi
		local ovtext=
		[ -n "${ov:-}" ] && ovtext=" (overhead $(awk -v o="$ov" 'BEGIN { printf "%.2f", o }') of heaptrack's)"
		row "exact allocation tracking (wall; CPU)" "$name" "$(secs "$pl")" "$(x "$f"); $(x "$fc")" \
			"${h:+$(x "$h"); $(x "$hc")}" "—" "—" "$target" \
			"$met$ovtext"
		if [ "$kind" = sqlite ] && want sampled; then
			local s
			s=$(bench_paired sampled plain wall)
			row "sampled allocation tracking (--alloc-sample 512k; wall; CPU)" "$name" "$(secs "$pl")" \
				"$(x "$s"); $(x "$(bench_paired sampled plain cpu)")" "—" "—" "—" "<= 1.05x plain" "$(le "$s" 1.05)"
		fi
		if [ "$kind" = sqlite ]; then
			cp a.fdump sqlite.fdump
			HT_SQLITE=$(ls "$WORKDIR"/ht.* 2>/dev/null | head -1)
			[ -n "$HT_SQLITE" ] && cp "$HT_SQLITE" "sqlite.ht.${HT_SQLITE##*.}" && HT_SQLITE=sqlite.ht.${HT_SQLITE##*.}
		fi
	done < <(alloc_workloads)
}

# ---- the dump's size and the analyzer's time on the sqlite3 recording ----

dump_row() {
	[ -f sqlite.fdump ] || { skiprow "dump size (exact, no CPU)" sqlite3 "<= heaptrack's" "no sqlite3 recording"; return; }
	local fb hb ev
	fb=$(stat -c %s sqlite.fdump)
	ev=$("$FATHOM" mem --json sqlite.fdump | python3 -c 'import json, sys; t = json.load(sys.stdin)["totals"]; print(t["alloc_calls"] + t["frees"])')
	if [ -n "${HT_SQLITE:-}" ]; then
		hb=$(stat -c %s "$HT_SQLITE")
		row "dump size (exact, no CPU)" "sqlite3, $ev events" "—" "$fb B ($(awk -v b="$fb" -v e="$ev" 'BEGIN { printf "%.3f", b / e }') B/event)" \
			"$hb B ($(awk -v b="$hb" -v e="$ev" 'BEGIN { printf "%.3f", b / e }') B/event)" "—" "—" "<= heaptrack's" "$(le "$fb" "$hb")"
	else
		row "dump size (exact, no CPU)" "sqlite3, $ev events" "—" "$fb B" "—" "—" "—" "<= heaptrack's" "heaptrack missing"
	fi
}

an_cfg() {
	case "$1" in
	mem) bench_time mem "$FATHOM" mem sqlite.fdump ;;
	report) bench_time report "$FATHOM" report sqlite.fdump ;;
	htprint) bench_time htprint heaptrack_print "$HT_SQLITE" ;;
	esac
}

analyzer_rows() {
	if [ ! -f sqlite.fdump ] || [ -z "${HT_SQLITE:-}" ]; then
		skiprow "analyzer time" sqlite3 "<= 0.25 of heaptrack_print's" "no sqlite3 recordings of both"
		return
	fi
	rm -f "$WORKDIR"/results.*
	# One untimed run: the debug-file cache (debugcache.c) is made once per machine.
	"$FATHOM" mem sqlite.fdump >/dev/null 2>&1
	bench_rounds "$RUNS" an_cfg mem report htprint
	local c r
	for c in mem report; do
		r=$(bench_paired "$c" htprint wall)
		row "analyzer: fathom $c vs heaptrack_print (wall; CPU), symbols included" sqlite3 "—" \
			"$(secs "$(bench_fig "$c" wall)"); $(awk -v a="$r" 'BEGIN { printf "%.2f", a }') of heaptrack_print; CPU $(awk -v a="$(bench_paired "$c" htprint cpu)" 'BEGIN { printf "%.2f", a }')" \
			"$(secs "$(bench_fig htprint wall)")" "—" "—" "<= 0.25 of heaptrack_print's" "$(le "$r" 0.25)"
	done
}

# ---- the analyzer's memory per distinct stack ----

stacks_row() {
	local gen=$PROGS/stress_gendump n=${BENCH_STACKS:-1000000}
	[ -x "$gen" ] || { skiprow "analyzer memory per distinct stack" "$n stacks" "<= 200 B" "no stress_gendump"; return; }
	"$gen" --events $((n * 3)) --stacks "$n" --live 10000 --addrs 20000 --sample-every 0 stacks.fdump >stacks.facts || fail "stress_gendump failed"
	local defined rss base
	defined=$(sed -n 's/^stacks=//p' stacks.facts)
	/usr/bin/time -f %M -o stacks.rss "$FATHOM" mem stacks.fdump >/dev/null || fail "fathom mem failed on stacks.fdump"
	"$gen" --events 1000 --stacks 10 --live 100 --addrs 20000 --sample-every 0 base.fdump >/dev/null
	/usr/bin/time -f %M -o base.rss "$FATHOM" mem base.fdump >/dev/null
	rss=$(cat stacks.rss) base=$(cat base.rss)
	local per
	per=$(awk -v r="$rss" -v b="$base" -v n="$defined" 'BEGIN { printf "%.0f", (r - b) * 1024 / n }')
	row "analyzer memory per distinct stack (fathom mem, max RSS less a tiny dump's)" \
		"$defined stacks, depth 4-31, 20,000 call sites" "—" "$per B ($((rss / 1024)) MB)" "—" "—" "—" "<= 200 B" "$(le "$per" 200)"
	rm -f stacks.fdump
}

# ---- CPU sampling: fathom, gperftools, perf, plain ----

cpu_cfg() {
	local cfg=$1
	case "$cfg" in
	plain) bench_time plain "$CPUPROG" $CPUN ;;
	f99 | f1000) bench_time "$cfg" env LD_PRELOAD="$FATHOM_AGENT" FATHOM_HZ="${cfg#f}" FATHOM_ALLOC=off FATHOM_OUTPUT="$WORKDIR/c.fdump" "$CPUPROG" $CPUN ;;
	g100 | g1000)
		bench_time "$cfg" env LD_PRELOAD="$PROFILER_SO" CPUPROFILE="$WORKDIR/g.prof" CPUPROFILE_FREQUENCY="${cfg#g}" "$CPUPROG" $CPUN
		;;
	p99 | p1000)
		# perf's cost includes making its report: its samples are raw until then.
		bench_time "$cfg" sh -c 'perf record -q -F "$1" -g -o "$2/p.data" -- $3 >/dev/null 2>&1 &&
			perf report -i "$2/p.data" --stdio >/dev/null 2>&1' sh "${cfg#p}" "$WORKDIR" "$CPUPROG $CPUN"
		;;
	esac
}

cpu_rows() {
	cc -O2 -g -pthread -o cpu_bound "$WL/cpu_bound.c" || fail "cannot build cpu_bound.c"
	CPUPROG=$WORKDIR/cpu_bound
	CPUN=${BENCH_CPU_N:-800000000} # about 2 s of CPU per thread on an idle machine (2026-12)
	rm -f "$WORKDIR"/results.*
	local cfgs="plain f99 f1000" g=1 p=1
	[ -n "$PROFILER_SO" ] && cfgs="$cfgs g100 g1000" || g=
	have perf && perf record -q -o /dev/null -- true >/dev/null 2>&1 && cfgs="$cfgs p99 p1000" || p=
	bench_rounds "$RUNS" cpu_cfg $cfgs
	local hz pl
	pl=$(bench_fig plain wall)
	for hz in 99 1000; do
		local gh=$hz
		[ "$hz" = 99 ] && gh=100
		local f gp pp
		f="$(pct "$(bench_paired f$hz plain wall)") wall, $(pct "$(bench_paired f$hz plain cpu)") CPU"
		gp=${g:+"$(pct "$(bench_paired g$gh plain wall)") wall, $(pct "$(bench_paired g$gh plain cpu)") CPU ($gh Hz)"}
		pp=${p:+"$(pct "$(bench_paired p$hz plain wall)") wall, $(pct "$(bench_paired p$hz plain cpu)") CPU (with perf report)"}
		row "CPU sampling at $hz Hz" "cpu_bound.c, 2 threads" "$(secs "$pl")" "$f" "—" "${gp:-not installed}" "${pp:-not usable here}" \
			"$([ "$hz" = 99 ] && echo "<= +1% wall" || echo "—")" \
			"$([ "$hz" = 99 ] && le "$(bench_paired f99 plain wall)" 1.01 || echo "—")"
	done
}

want alloc && alloc_rows
want dump && dump_row
want analyzer && analyzer_rows
want stacks && stacks_row
want cpu && cpu_rows

# The unwinding figure (issue 20 item 4) comes from its own benchmark.
NOTES+=("Unwinding cost per sample (item 4) is measured inside the agent by its own benchmark, not here.")

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(uname -sr);" \
	"fathom $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?');" \
	"heaptrack $(heaptrack --version 2>/dev/null | awk '{ print $NF }' | head -1); perf $(perf --version 2>/dev/null | awk '{ print $3 }')."
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at the end: $load; medians of $RUNS rounds (ratios: median of each round's ratio)."
echo
echo "| figure | workload | plain | fathom | heaptrack | gperftools | perf -g | target | met |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
for n in "${NOTES[@]}"; do echo "- $n"; done
