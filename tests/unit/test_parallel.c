/* test_parallel.c - gm_parallel_for: every item once, on the caller's
 * thread below the threshold and on one CPU, on more threads above it,
 * and signals kept away from the helper threads. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gmrenew/common.h"

#define ITEMS 5000

struct seen {
	unsigned visits[ITEMS];
	pthread_t who[ITEMS];
	int signals_blocked[ITEMS];	/* SIGTERM blocked where it ran */
};

static void visit(void *ctx, size_t i)
{
	struct seen *s = ctx;
	sigset_t now;

	__atomic_fetch_add(&s->visits[i], 1, __ATOMIC_RELAXED);
	s->who[i] = pthread_self();
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	s->signals_blocked[i] = sigismember(&now, SIGTERM);
	if (i % 97 == 0)
		usleep(100);	/* uneven items: the counter shares them out */
}

static size_t threads_seen(const struct seen *s, size_t n)
{
	pthread_t distinct[GM_PARALLEL_MAX + 1];
	size_t k = 0, i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < k && !pthread_equal(distinct[j], s->who[i]); j++)
			;
		if (j == k && k <= GM_PARALLEL_MAX)
			distinct[k++] = s->who[i];
	}
	return k;
}

static void every_item_once(void **state)
{
	static struct seen s;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	gm_parallel_for(ITEMS, 16, visit, &s);
	for (i = 0; i < ITEMS; i++)
		assert_int_equal(s.visits[i], 1);
	/* this suite runs on machines with 2 CPUs or more */
	assert_true(sysconf(_SC_NPROCESSORS_ONLN) >= 2);
	assert_true(threads_seen(&s, ITEMS) >= 2);
	assert_true(threads_seen(&s, ITEMS) <= GM_PARALLEL_MAX);
}

static void below_threshold_on_the_caller(void **state)
{
	static struct seen s;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	gm_parallel_for(15, 16, visit, &s);
	for (i = 0; i < 15; i++) {
		assert_int_equal(s.visits[i], 1);
		assert_true(pthread_equal(s.who[i], pthread_self()));
	}
	assert_int_equal(s.visits[15], 0);
	gm_parallel_for(0, 0, visit, &s);	/* nothing, no thread */
	assert_int_equal(s.visits[0], 1);
	assert_int_equal(gm_parallel_threads(1, 0), 1);
	assert_int_equal(gm_parallel_threads(15, 16), 1);
}

static void one_cpu_one_thread(void **state)
{
	static struct seen s;
	cpu_set_t all, one;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	for (i = 0; i < CPU_SETSIZE && !CPU_ISSET(i, &all); i++)
		;
	CPU_SET(i, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(gm_parallel_threads(ITEMS, 16), 1);
	gm_parallel_for(ITEMS, 16, visit, &s);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	for (i = 0; i < ITEMS; i++) {
		assert_int_equal(s.visits[i], 1);
		assert_true(pthread_equal(s.who[i], pthread_self()));
	}
}

static void helpers_block_signals(void **state)
{
	static struct seen s;
	sigset_t none;
	size_t i, helpers = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	gm_parallel_for(ITEMS, 16, visit, &s);
	for (i = 0; i < ITEMS; i++) {
		if (pthread_equal(s.who[i], pthread_self())) {
			assert_false(s.signals_blocked[i]);
		} else {
			assert_true(s.signals_blocked[i]);
			helpers++;
		}
	}
	assert_true(helpers > 0);
	/* the caller's mask is as it was */
	pthread_sigmask(SIG_SETMASK, NULL, &none);
	assert_false(sigismember(&none, SIGTERM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_item_once),
		cmocka_unit_test(below_threshold_on_the_caller),
		cmocka_unit_test(one_cpu_one_thread),
		cmocka_unit_test(helpers_block_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
