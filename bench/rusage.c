/*
 * rusage.c - runs a command and prints its CPU and peak RSS, as wait4(2)
 * gives them: "user_us sys_us maxrss_kib exit_status". Forked from this
 * small process, the command's peak RSS is its own (Linux keeps the peak of
 * the process image an exec replaced, so a child forked from a large
 * interpreter would report the interpreter's). Built by bench/perf.py.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
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
	if (wait4(pid, &status, 0, &ru) != pid)
		return 2;
	fprintf(stderr, "rusage: %ld %ld %ld %d\n",
		(long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
		(long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec,
		ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
