/*
 * parallel.c - a parallel loop over independent items, for the work that
 * grows with the number of certificates (decoding them and verifying
 * their chains in `gmrenew verify`). Items are handed out one at a time
 * from a shared counter, so a slow one holds up no other; the caller's
 * thread works too, and when a thread cannot be started its share is
 * simply done by the others.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>

#include "gmrenew/common.h"

struct loop {
	size_t n;
	size_t next;	/* the next item to take; atomic */
	void (*fn)(void *ctx, size_t i);
	void *ctx;
};

static void *work(void *arg)
{
	struct loop *l = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED)) < l->n)
		l->fn(l->ctx, i);
	return NULL;
}

/* The CPUs this process may run on (its affinity mask, which taskset and
 * cgroup cpusets narrow), not the machine's. */
static unsigned usable_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

unsigned gm_parallel_threads(size_t n, size_t serial_below)
{
	unsigned t;

	if (n < 2 || n < serial_below)
		return 1;
	t = usable_cpus();
	if (t > GM_PARALLEL_MAX)
		t = GM_PARALLEL_MAX;
	return (size_t)t > n ? (unsigned)n : t;
}

void gm_parallel_for(size_t n, size_t serial_below,
		     void (*fn)(void *ctx, size_t i), void *ctx)
{
	struct loop l = { n, 0, fn, ctx };
	pthread_t tid[GM_PARALLEL_MAX];
	unsigned want = gm_parallel_threads(n, serial_below), started = 0, k;
	sigset_t all, old;

	/* the helpers block every signal: a signal is the main thread's to
	 * take (the renewal's interruption handling lives there) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (started + 1 < want &&
	       pthread_create(&tid[started], NULL, work, &l) == 0)
		started++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	work(&l);
	for (k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
}
