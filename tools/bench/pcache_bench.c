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
 *   pcache_bench reread DIR ROUNDS	read(2) every file in DIR, 64 KiB at
 *					a time, ROUNDS times: MiB/s
 *   pcache_bench swap MIB PASSES [STATDIR]
 *					fill MIB of anonymous memory with
 *					partly compressible content (the first
 *					3 KiB of a page repeat a 64-byte
 *					block, the rest pseudo-random), then
 *					PASSES times check every page and
 *					dirty one word of it: "MIBS CPUMS",
 *					MiB/s of the passes and the CPU time
 *					(user + system) they took per MiB, in
 *					ms.  With STATDIR, a second line
 *					"STORED TOTAL": STATDIR/stored_pages
 *					and STATDIR/pool_total_size, read
 *					after the last pass while the memory
 *					is still held (zswap's debugfs and
 *					pcache's tmem stats name them alike).
 *					Exit 1 on a wrong byte.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
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

/* CPU time of this process, user and system, in seconds. */
static double cpu_time(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* As pcache_workload's pattern: one 64-bit word per 8 bytes. */
static inline uint64_t pattern_word(uint64_t seed, uint64_t off)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL ^ (off >> 3);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x | 1;
}

/*
 * Partly compressible: the first 3 KiB of a page repeat a 64-byte block of
 * the page, the last 1 KiB is pseudo-random (about 3.5:1 with lz4, near
 * what zswap sees on real workloads; never zero nor same-filled).
 */
static inline uint64_t mixed_word(uint64_t off)
{
	if ((off & 4095) < 3072)
		return pattern_word(0x5bd1e995, (off & ~4095UL) + (off & 63));
	return pattern_word(1, off);
}

static long read_num(const char *dir, const char *name)
{
	char path[4096];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

static int swap_bench(long mib, long passes, const char *statdir)
{
	size_t len = (size_t)mib << 20, off, i;
	uint64_t *p;
	double t0, t, c0;
	long pass;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		fail("mmap");
	for (off = 0; off < len; off += 8)
		p[off / 8] = mixed_word(off);
	/* Word 0 of each page counts the passes; the rest never changes. */
	t0 = now();
	c0 = cpu_time();
	for (pass = 0; pass < passes; pass++) {
		for (off = 0; off < len; off += 4096) {
			uint64_t *w = p + off / 8;

			if (w[0] != (pass ? (uint64_t)pass : mixed_word(off)))
				goto bad;
			for (i = 1; i < 512; i++)
				if (w[i] != mixed_word(off + i * 8))
					goto bad;
			w[0] = pass + 1;
		}
	}
	t = now() - t0;
	/*
	 * MiB/s, and the CPU time the passes cost per MiB, in ms: with the
	 * cgroup at its limit, reclaim (and so compression and swap-out) runs
	 * in this task, so its CPU time is the work a page's round trip took,
	 * without the time it slept.
	 */
	printf("%.1f %.3f\n", (double)mib * passes / t,
	       (cpu_time() - c0) * 1e3 / ((double)mib * passes));
	if (statdir)
		printf("%ld %ld\n", read_num(statdir, "stored_pages"),
		       read_num(statdir, "pool_total_size"));
	munmap(p, len);
	return 0;
bad:
	fprintf(stderr, "pcache_bench: swap: wrong data in the page at %zu, pass %ld\n",
		off, pass);
	return 1;
}

static long long read_file(const char *path, char *buf, size_t size)
{
	long long bytes = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fail(path);
	while ((r = read(fd, buf, size)) > 0)
		bytes += r;
	if (r < 0)
		fail(path);
	close(fd);
	return bytes;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	double t0, t;
	long n, i;

	if (argc == 5 && !strcmp(argv[1], "swap"))
		return swap_bench(atol(argv[2]), atol(argv[3]), argv[4]);
	if (argc != 4)
		return fprintf(stderr, "usage: see pcache_bench.c\n"), 2;
	n = atol(argv[3]);
	if (!strcmp(argv[1], "swap")) {
		return swap_bench(atol(argv[2]), n, NULL);
	} else if (!strcmp(argv[1], "reread")) {
		char path[4096];
		long long bytes = 0;
		struct dirent *de;
		DIR *d;

		t0 = now();
		for (i = 0; i < n; i++) {
			d = opendir(argv[2]);
			if (!d)
				fail(argv[2]);
			while ((de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[2],
					 de->d_name);
				bytes += read_file(path, buf, sizeof(buf));
			}
			closedir(d);
		}
		t = now() - t0;
		printf("%.1f\n", bytes / 1048576.0 / t);
	} else if (!strcmp(argv[1], "read")) {
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
