// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_failnth: do one thing with the Nth allocation of this task
 * failed (/proc/thread-self/fail-nth; the fault_attrs' stack filter picks
 * which allocations count), and say whether it was.
 *
 *   pcache_failnth N insmod FILE [PARAMS]	finit_module(FILE)
 *   pcache_failnth N write FILE VALUE	write VALUE to FILE (sysfs)
 *
 * Prints "counted K failed F err E": K allocations counted (the Nth
 * failed if F is 1, then K is N), E the errno of the thing (0 if it
 * worked).  Exits 0 if the thing worked, 1 if it did not, 2 on a usage
 * or set-up error.  The files are opened before fail-nth is set, so only
 * the thing itself counts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failnth_fd(void)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);

	if (fd < 0) {
		perror("pcache_failnth: /proc/thread-self/fail-nth");
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long n, left;
	char buf[32];
	int fnfd, fd, err = 0;
	ssize_t r;

	if (argc < 4 || (strcmp(argv[2], "insmod") && strcmp(argv[2], "write")) ||
	    (!strcmp(argv[2], "write") && argc != 5)) {
		fprintf(stderr, "usage: %s N insmod FILE [PARAMS] | N write FILE VALUE\n",
			argv[0]);
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	fd = open(argv[3], strcmp(argv[2], "write") ? O_RDONLY | O_CLOEXEC : O_WRONLY);
	if (fd < 0) {
		perror(argv[3]);
		return 2;
	}
	fnfd = failnth_fd();
	snprintf(buf, sizeof(buf), "%lu", n);
	if (write(fnfd, buf, strlen(buf)) < 0) {
		perror("pcache_failnth: set fail-nth");
		return 2;
	}

	if (!strcmp(argv[2], "insmod")) {
		if (syscall(SYS_finit_module, fd, argc > 4 ? argv[4] : "", 0))
			err = errno;
	} else {
		size_t len = strlen(argv[4]);
		char *v = malloc(len + 2);

		if (!v)
			return 2;
		memcpy(v, argv[4], len);
		v[len] = '\n';
		r = write(fd, v, len + 1);
		if (r < 0)
			err = errno;
		free(v);
	}

	/* What is left of N: 0 once the Nth allocation failed. */
	if (pread(fnfd, buf, sizeof(buf) - 1, 0) <= 0) {
		perror("pcache_failnth: read fail-nth");
		return 2;
	}
	left = strtoul(buf, NULL, 10);
	/* Stop counting. */
	if (write(fnfd, "0", 1) < 0 && errno != EINVAL)
		perror("pcache_failnth: clear fail-nth");
	printf("counted %lu failed %d err %d\n", n - left, left == 0, err);
	return err ? 1 : 0;
}
