# With DEBUGINFOD_URLS set, the symbolizer fetches by build id what is
# nowhere here, from a real debuginfod server (elfutils' `debuginfod -F`)
# on 127.0.0.1 serving a directory that holds the only copy of a stripped
# program's debug file: its names and lines, a progress line on a terminal,
# the client's cache (a private DEBUGINFOD_CACHE_PATH), the program itself
# fetched once deleted, one summary line of what was not found. An
# unreachable or silent server costs one warning, never a hang;
# --no-debuginfod asks nothing.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"
command -v debuginfod >/dev/null || skip "no debuginfod server (Debian package debuginfod)"
command -v curl >/dev/null || skip "no curl (to wait for the server's scan)"
command -v python3 >/dev/null || skip "no python3 (a free port, a silent server)"
ldconfig -p | grep -q libdebuginfod.so.1 || skip "no libdebuginfod.so.1 (Debian package libdebuginfod1)"

cat >dbgd.c <<'C'
#include <stdio.h>
static volatile unsigned long sink;
__attribute__((noinline)) static void dbgd_hot_spin(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i * 7;
}
int main(void)
{
	for (int k = 0; k < 60; k++)
		dbgd_hot_spin(5000000);
	printf("%lu\n", sink);
	return 0;
}
C
run cc -g -O1 -Wl,--build-id -o dbgd dbgd.c
id=$(readelf -n dbgd | awk '/Build ID/ { print $3 }')
[ -n "$id" ] || fail "no build id in the test program"
mkdir srv exe
run objcopy --only-keep-debug dbgd srv/dbgd.debug
# The program keeps no symbol table at all: its names can only come from the server.
run strip --strip-all dbgd
run cp dbgd exe/dbgd
run "$FATHOM" record -q -o a.fdump -- ./dbgd >/dev/null
export DEBUGINFOD_CACHE_PATH=$PWD/cache
unset DEBUGINFOD_TIMEOUT DEBUGINFOD_PROGRESS

server=
stop_server() {
	[ -n "$server" ] || return 0
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	server=
}
trap stop_server EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start_server DIR WHAT: debuginfod scanning DIR, once it serves $id's WHAT
# (debuginfo, executable); the port in $port, its log in server.log.
start_server() {
	for _ in 1 2 3; do
		port=$(free_port)
		debuginfod -F -p "$port" -d "$PWD/db-$port.sqlite" -t 0 -g 0 -c 1 "$1" >server.log 2>&1 &
		server=$!
		for _ in $(seq 200); do
			kill -0 "$server" 2>/dev/null || break
			[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/buildid/$id/$2")" = 200 ] &&
				return 0
			sleep 0.1
		done
		stop_server
	done
	sed 's/^/  | /' server.log >&2
	fail "debuginfod did not start or did not index $1"
}
# The client's queries in the server's log (curl's are the test's own).
queries() { grep -F "GET /buildid/" server.log | grep -vF "UA:curl" || true; }

# Without the variable: no names (what it was before this change).
env -u DEBUGINFOD_URLS "$FATHOM" report a.fdump >plain.txt 2>&1
assert_not_contains "no server, no names" "dbgd_hot_spin" plain.txt

start_server srv debuginfo
export DEBUGINFOD_URLS=http://127.0.0.1:$port
"$FATHOM" report --no-debuginfod a.fdump >off.txt 2>&1
assert_not_contains "--no-debuginfod asks nothing" "dbgd_hot_spin" off.txt
[ -z "$(queries)" ] || fail "--no-debuginfod sent requests: $(queries)"

# On a terminal (script(1) gives one), a progress line while it downloads.
if command -v script >/dev/null; then
	script -qec "'$FATHOM' report a.fdump" /dev/null >on.txt 2>&1
else
	"$FATHOM" report a.fdump >on.txt 2>&1
fi
cat on.txt >&2
self=$(awk '/Top functions by self/ { getline; getline; print; exit }' on.txt)
case "$self" in
*"dbgd_hot_spin  dbgd.c:3"*) ;;
*) fail "the hot function is not named from the fetched debug file: $self" ;;
esac
assert_contains "lines from the debug file" "main  dbgd.c:" on.txt
command -v script >/dev/null && assert_contains "a progress line" "debuginfod: downloading dbgd" on.txt
queries | grep -qF "/buildid/$id/debuginfo 200" || fail "the server did not serve the debug file: $(queries)"
[ -s "cache/$id/debuginfo" ] || fail "the client's cache does not hold the debug file"
# Not on a terminal: no progress line.
"$FATHOM" report a.fdump >pipe.txt 2>&1
assert_not_contains "no progress line in a pipe" "downloading" pipe.txt

# The program gone too, the server stopped: the debug file alone names it,
# from the client's cache.
stop_server
mv dbgd dbgd.moved
"$FATHOM" report a.fdump >gone.txt 2>&1
assert_contains "gone program named from the cache" "dbgd_hot_spin  dbgd.c:3" gone.txt

# A server with the executable only (nothing in the cache): the program is
# fetched (stripped, it names nothing), and one summary line says what
# has no debug info.
rm -rf cache
start_server exe executable
export DEBUGINFOD_URLS=http://127.0.0.1:$port
"$FATHOM" report a.fdump >exe.txt 2>&1
cat exe.txt >&2
queries | grep -qF "/buildid/$id/executable 200" || fail "the executable was not fetched: $(queries)"
assert_contains "summary of what was not found" "debuginfod: no debug info for" exe.txt
assert_contains "summary names the program" "dbgd" exe.txt
[ "$(grep -c 'debuginfod:' exe.txt)" = 1 ] || fail "more than one debuginfod line"
assert_not_contains "the executable's addresses are its own" "gone since the recording" exe.txt
stop_server

# Unreachable (connection refused) and silent servers: one warning, the
# rest of the profile, quickly.
rm -rf cache
t0=$(date +%s%N)
DEBUGINFOD_URLS=http://127.0.0.1:$(free_port) "$FATHOM" report a.fdump >refused.txt 2>&1 ||
	fail "report failed with a refused server"
assert_contains "refused: one warning" "debuginfod: the servers in DEBUGINFOD_URLS failed" refused.txt
assert_contains "refused: the profile" "Top functions by self time" refused.txt
note "refused: $((($(date +%s%N) - t0) / 1000000)) ms"
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)  # connections queue up, nothing ever answers
print(s.getsockname()[1], flush=True)
time.sleep(120)' >silent-port.txt &
server=$!
for _ in $(seq 100); do
	[ -s silent-port.txt ] && break
	sleep 0.1
done
t0=$(date +%s%N)
DEBUGINFOD_TIMEOUT=2 DEBUGINFOD_URLS=http://127.0.0.1:$(cat silent-port.txt) "$FATHOM" report a.fdump >silent.txt 2>&1 ||
	fail "report failed with a silent server"
t1=$(date +%s%N)
cat silent.txt >&2
assert_contains "silent: the profile" "Top functions by self time" silent.txt
[ "$(grep -c 'debuginfod:' silent.txt)" = 1 ] || fail "silent: not one debuginfod line"
ms=$(((t1 - t0) / 1000000))
note "silent (timeout 2 s): $ms ms"
assert_le "no hang on a silent server (ms)" 20000 "$ms"
