/*
 * rusage.c - runs a command and prints its CPU and peak RSS, as wait4(2)
 * gives them, and the time it waited for a CPU while it could run (the
 * machine's load, from /proc/PID/schedstat of its main thread, read
 * before it is reaped): "user_us sys_us maxrss_kib exit_status
 * run_delay_us" (-1 when unknown). Forked from this
 * small process, the command's peak RSS is its own (Linux keeps the peak of
 * the process image an exec replaced, so a child forked from a large
 * interpreter would report the interpreter's). Built by bench/perf.py.
 */
#include <stdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The main thread's run delay in microseconds, -1 when unknown. */
static long run_delay_us(pid_t pid)
{
	char path[64];
	unsigned long long on_cpu, delay;
	FILE *f;
	long us = -1;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%llu %llu", &on_cpu, &delay) == 2)
		us = (long)(delay / 1000ULL);
	fclose(f);
	return us;
}

int main(int argc, char **argv)
{
	siginfo_t info;
	long delay = -1;
	struct rusage ru;
	int status = 0;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: rusage COMMAND [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	/* exited but not reaped: its /proc entry is still there */
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) == 0)
		delay = run_delay_us(pid);
	if (wait4(pid, &status, 0, &ru) != pid)
		return 2;
	fprintf(stderr, "rusage: %ld %ld %ld %d %ld\n",
		(long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
		(long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec,
		ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		delay);
	return 0;
}
