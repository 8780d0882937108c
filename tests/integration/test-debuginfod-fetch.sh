# With DEBUGINFOD_URLS set, the symbolizer fetches by build id what is
# nowhere here: a stripped program's debug file (its names and lines), and
# the program itself once deleted. A tiny HTTP server in Python stands in
# for debuginfod (the server package is not installed here; the client's
# protocol is GET /buildid/ID/debuginfo and /buildid/ID/executable). An
# unreachable or silent server costs a warning, never a hang;
# --no-debuginfod asks nothing.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"
command -v python3 >/dev/null || skip "no python3 for the stand-in server"
[ -e /usr/lib/x86_64-linux-gnu/libdebuginfod.so.1 ] || ldconfig -p | grep -q libdebuginfod.so.1 ||
	skip "no libdebuginfod.so.1 (Debian package libdebuginfod1)"

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
mkdir -p "srv/buildid/$id"
run objcopy --only-keep-debug dbgd "srv/buildid/$id/debuginfo"
# The program keeps no symbol table at all: its names can only come from the server.
run strip --strip-all dbgd
run cp dbgd "srv/buildid/$id/executable"
run "$FATHOM" record -q -o a.fdump -- ./dbgd >/dev/null

cat >srv.py <<'P'
import http.server, sys
root, mode = sys.argv[1], sys.argv[2]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def log_message(self, *a):
        with open("requests.log", "a") as f:
            f.write(self.path + "\n")
if mode == "silent":
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)  # connections queue up, nothing ever answers
    print(s.getsockname()[1], flush=True)
    import time
    time.sleep(120)
else:
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
P
start_server() {
	rm -f port.txt
	python3 srv.py srv "$1" >port.txt &
	server=$!
	for _ in $(seq 100); do
		[ -s port.txt ] && break
		sleep 0.1
	done
	port=$(cat port.txt)
	[ -n "$port" ] || fail "the stand-in server did not start"
}
trap '[ -n "${server:-}" ] && kill "$server" 2>/dev/null' EXIT

# Without the variable: no names (what it was before this change).
env -u DEBUGINFOD_URLS "$FATHOM" report a.fdump >plain.txt 2>&1
assert_not_contains "no server, no names" "dbgd_hot_spin" plain.txt

start_server http
export DEBUGINFOD_CACHE_PATH=$PWD/cache
DEBUGINFOD_URLS=http://127.0.0.1:$port "$FATHOM" report --no-debuginfod a.fdump >off.txt 2>&1
assert_not_contains "--no-debuginfod asks nothing" "dbgd_hot_spin" off.txt
[ ! -e requests.log ] || fail "--no-debuginfod sent requests: $(cat requests.log)"

DEBUGINFOD_URLS=http://127.0.0.1:$port "$FATHOM" report a.fdump >on.txt 2>&1
cat on.txt >&2
self=$(awk '/Top functions by self/ { getline; getline; print; exit }' on.txt)
case "$self" in
*"dbgd_hot_spin  dbgd.c:3"*) ;;
*) fail "the hot function is not named from the fetched debug file: $self" ;;
esac
assert_contains "lines from the debug file" "main  dbgd.c:" on.txt
assert_contains "the request" "/buildid/$id/debuginfo" requests.log
[ -s "cache/$id/debuginfo" ] || fail "the client's cache does not hold the debug file"

# The program gone too: the debug file alone names it, from the cache now
# (the server stopped).
kill "$server"
wait "$server" 2>/dev/null
server=
mv dbgd dbgd.moved
DEBUGINFOD_URLS=http://127.0.0.1:$port "$FATHOM" report a.fdump >gone.txt 2>&1
assert_contains "gone program named from the cache" "dbgd_hot_spin  dbgd.c:3" gone.txt
# Nothing in the cache and no debug file on the server: the executable
# alone is fetched (stripped, it names nothing), and the summary says so.
rm -rf cache "srv/buildid/$id/debuginfo" requests.log
start_server http
DEBUGINFOD_URLS=http://127.0.0.1:$port "$FATHOM" report a.fdump >exe.txt 2>&1
cat exe.txt >&2
assert_contains "the executable was asked for" "/buildid/$id/executable" requests.log
assert_contains "summary of what was not found" "no debug info for 1 module (dbgd)" exe.txt
kill "$server"
wait "$server" 2>/dev/null
server=

# Unreachable (connection refused) and silent servers: a warning, the rest
# of the profile, quickly.
rm -rf cache
t0=$(date +%s%N)
DEBUGINFOD_URLS=http://127.0.0.1:1 "$FATHOM" report a.fdump >refused.txt 2>&1 || fail "report failed with a refused server"
assert_contains "refused: one warning" "debuginfod: the servers in DEBUGINFOD_URLS failed" refused.txt
assert_contains "refused: the profile" "Top functions by self time" refused.txt
start_server silent
DEBUGINFOD_TIMEOUT=2 DEBUGINFOD_URLS=http://127.0.0.1:$port "$FATHOM" report a.fdump >silent.txt 2>&1 ||
	fail "report failed with a silent server"
t1=$(date +%s%N)
cat silent.txt >&2
assert_contains "silent: the profile" "Top functions by self time" silent.txt
assert_contains "silent: one warning" "debuginfod:" silent.txt
ms=$(((t1 - t0) / 1000000))
note "refused + silent (timeout 2 s): $ms ms"
assert_le "no hang on a silent server (ms)" 40000 "$ms"
