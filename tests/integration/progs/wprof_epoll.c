/* A server thread blocked in epoll_wait, for test-wait-e2e: it waits on one
 * end of a socket pair in serve_one, which the main thread writes to after
 * a 300 ms nanosleep that starts once the server sleeps in its wait. Prints
 * what the server read, and on stderr how long its epoll_wait took by its
 * own clock ("epoll_wait NS"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "asleep.h"

static int sv[2];
static atomic_int server_tid;
static long long wait_ns;

__attribute__((noinline)) int serve_one(int ep)
{
	struct epoll_event ev;
	atomic_store(&server_tid, gettid());
	long long t0 = now_ns();
	int n = epoll_wait(ep, &ev, 1, 5000);
	wait_ns = now_ns() - t0;
	__asm__ volatile("" ::: "memory");
	return n;
}

static void *server(void *arg)
{
	(void)arg;
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[1]};
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
	char buf[16] = {0};
	if (serve_one(ep) == 1 && read(sv[1], buf, sizeof(buf) - 1) > 0)
		printf("wprof_epoll: server read '%s'\n", buf);
	fprintf(stderr, "epoll_wait %lld\n", wait_ns);
	close(ep);
	return NULL;
}

int main(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, server, NULL);
	pthread_setname_np(t, "server");
	while (!atomic_load(&server_tid))
		sched_yield();
	thread_asleep(atomic_load(&server_tid));
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	if (write(sv[0], "ping", 4) != 4)
		perror("write");
	pthread_join(t, NULL);
	return 0;
}
