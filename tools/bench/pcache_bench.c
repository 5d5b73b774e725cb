// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_bench: fixed amounts of page cache work, timed; prints one rate.
 *
 *   pcache_bench read FILE ROUNDS	read(2) a cached file ROUNDS times,
 *					64 KiB at a time: MiB/s
 *   pcache_bench fault FILE ROUNDS	mmap a cached file, touch every page,
 *					munmap, ROUNDS times: faults/s
 *   pcache_bench files DIR COUNT	create, write 4 KiB, close, unlink
 *					COUNT files: files/s
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	perror(what);
	exit(2);
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	double t0, t;
	long n, i;

	if (argc != 4)
		return fprintf(stderr, "usage: see pcache_bench.c\n"), 2;
	n = atol(argv[3]);
	if (!strcmp(argv[1], "read")) {
		int fd = open(argv[2], O_RDONLY);
		long long bytes = 0;
		ssize_t r;

		if (fd < 0)
			fail(argv[2]);
		t0 = now();
		for (i = 0; i < n; i++) {
			lseek(fd, 0, SEEK_SET);
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				bytes += r;
		}
		t = now() - t0;
		printf("%.1f\n", bytes / 1048576.0 / t);
	} else if (!strcmp(argv[1], "fault")) {
		int fd = open(argv[2], O_RDONLY);
		struct stat st;
		long f0, sum = 0, off;

		if (fd < 0 || fstat(fd, &st))
			fail(argv[2]);
		f0 = minflt();
		t0 = now();
		for (i = 0; i < n; i++) {
			volatile char *p = mmap(NULL, st.st_size, PROT_READ,
						MAP_SHARED, fd, 0);

			if (p == MAP_FAILED)
				fail("mmap");
			for (off = 0; off < st.st_size; off += 4096)
				sum += p[off];
			munmap((void *)p, st.st_size);
		}
		t = now() - t0;
		printf("%.0f\n", (minflt() - f0) / t);
	} else if (!strcmp(argv[1], "files")) {
		char path[4096];

		memset(buf, 0x5a, 4096);
		t0 = now();
		for (i = 0; i < n; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/f%ld", argv[2], i);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, buf, 4096) != 4096)
				fail(path);
			close(fd);
			unlink(path);
		}
		t = now() - t0;
		printf("%.0f\n", n / t);
	} else {
		return fprintf(stderr, "unknown workload %s\n", argv[1]), 2;
	}
	return 0;
}
