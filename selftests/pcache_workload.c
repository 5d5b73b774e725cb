// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_workload: drives the page cache paths pcache hooks, with content
 * that can be checked byte for byte.
 *
 * Every byte written is a function of (seed, file offset), so any read
 * can be verified without keeping a copy.  Commands:
 *
 *   write FILE KIB SEED		write(2) the pattern, fsync
 *   verify FILE KIB SEED		read(2) and check every byte
 *   mmap-read FILE KIB SEED		fault every page in (shared), check
 *   mmap-random FILE KIB SEED		same with MADV_RANDOM (no readahead)
 *   mmap-write FILE KIB SEED		rewrite through a shared mapping, msync
 *   odirect-write FILE KIB SEED	O_DIRECT write of the pattern
 *   dontneed FILE			fadvise(DONTNEED) the whole file
 *   anon MIB SEED			fill anonymous memory, read it back twice
 *   mix DIR SECONDS			all of the above in a loop on DIR
 *
 * Exit status: 0 when every byte checked was right, 1 on a mismatch (the
 * first bad offset is printed), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static void die(const char *what)
{
	fprintf(stderr, "pcache_workload: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* The pattern: one 64-bit word per 8 bytes, mixed from seed and offset. */
static inline uint64_t pattern_word(uint64_t seed, uint64_t off)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL ^ (off >> 3);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x | 1;	/* never a zero word, so no page is zero-filled */
}

static void fill(unsigned char *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, off + i);

		memcpy(buf + i, &w, 8);
	}
}

static int check(const unsigned char *buf, size_t len, uint64_t seed,
		 uint64_t off, const char *what)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, off + i);

		if (memcmp(buf + i, &w, 8)) {
			size_t b;

			for (b = 0; b < 8 && buf[i + b] == ((unsigned char *)&w)[b]; b++)
				;
			fprintf(stderr,
				"pcache_workload: %s: wrong byte at offset %llu: 0x%02x, expected 0x%02x\n",
				what, (unsigned long long)(off + i + b),
				buf[i + b], ((unsigned char *)&w)[b]);
			return 1;
		}
	}
	return 0;
}

static int do_write(const char *path, size_t kib, uint64_t seed, int flags)
{
	size_t len = kib * 1024, chunk = 64 * 1024, off;
	unsigned char *buf;
	int fd;

	if (posix_memalign((void **)&buf, PAGE, chunk))
		die("posix_memalign");
	fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
	if (fd < 0)
		die(path);
	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		fill(buf, n, seed, off);
		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			die("pwrite");
	}
	if (fsync(fd))
		die("fsync");
	close(fd);
	free(buf);
	return 0;
}

static int do_verify(const char *path, size_t kib, uint64_t seed)
{
	size_t len = kib * 1024, chunk = 64 * 1024, off;
	unsigned char *buf = malloc(chunk);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		die(path);
	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (pread(fd, buf, n, off) != (ssize_t)n)
			die("pread");
		if (check(buf, n, seed, off, path))
			return 1;
	}
	close(fd);
	free(buf);
	return 0;
}

static int do_mmap(const char *path, size_t kib, uint64_t seed, int advice,
		   int write)
{
	size_t len = kib * 1024, off;
	unsigned char *p;
	int fd = open(path, write ? O_RDWR : O_RDONLY);
	int bad = 0;

	if (fd < 0)
		die(path);
	p = mmap(NULL, len, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (advice && madvise(p, len, advice))
		die("madvise");
	for (off = 0; off < len && !bad; off += PAGE) {
		size_t n = len - off < PAGE ? len - off : PAGE;

		if (write)
			fill(p + off, n, seed, off);
		else
			bad = check(p + off, n, seed, off, path);
	}
	if (write && msync(p, len, MS_SYNC))
		die("msync");
	munmap(p, len);
	close(fd);
	return bad;
}

static int do_dontneed(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (errno)
		die("posix_fadvise");
	close(fd);
	return 0;
}

static int do_anon(size_t mib, uint64_t seed)
{
	size_t len = mib << 20, off;
	unsigned char *p;
	int pass;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		die("mmap anon");
	for (off = 0; off < len; off += PAGE)
		fill(p + off, PAGE, seed, off);
	for (pass = 0; pass < 2; pass++)
		for (off = 0; off < len; off += PAGE)
			if (check(p + off, PAGE, seed, off, "anon"))
				return 1;
	munmap(p, len);
	return 0;
}

/* One round of every path on two files in @dir. */
static int mix_round(const char *dir, uint64_t seed)
{
	char a[4096], b[4096];
	size_t kib = 512;
	int fd, bad = 0;

	snprintf(a, sizeof(a), "%s/mix-a", dir);
	snprintf(b, sizeof(b), "%s/mix-b", dir);
	do_write(a, kib, seed, O_TRUNC);
	bad |= do_verify(a, kib, seed);
	bad |= do_mmap(a, kib, seed, 0, 0);
	bad |= do_mmap(a, kib, seed, MADV_RANDOM, 0);
	bad |= do_mmap(a, kib, seed + 1, 0, 1);
	bad |= do_verify(a, kib, seed + 1);
	do_dontneed(a);
	bad |= do_verify(a, kib, seed + 1);
	do_write(b, kib, seed + 2, O_TRUNC | O_DIRECT);
	bad |= do_verify(b, kib, seed + 2);
	fd = open(a, O_WRONLY);
	if (fd < 0 || ftruncate(fd, kib * 512))
		die("ftruncate");
	close(fd);
	bad |= do_verify(a, kib / 2, seed + 1);
	unlink(b);
	bad |= do_anon(4, seed + 3);
	return bad;
}

static int do_mix(const char *dir, int seconds)
{
	time_t end = time(NULL) + seconds;
	uint64_t seed = getpid();
	unsigned long rounds = 0;

	while (time(NULL) < end) {
		if (mix_round(dir, seed++))
			return 1;
		rounds++;
	}
	printf("mix: %lu rounds, every byte checked\n", rounds);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	size_t n = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;

	if (!strcmp(cmd, "write") && argc == 5)
		return do_write(argv[2], n, seed, O_TRUNC);
	if (!strcmp(cmd, "verify") && argc == 5)
		return do_verify(argv[2], n, seed);
	if (!strcmp(cmd, "mmap-read") && argc == 5)
		return do_mmap(argv[2], n, seed, 0, 0);
	if (!strcmp(cmd, "mmap-random") && argc == 5)
		return do_mmap(argv[2], n, seed, MADV_RANDOM, 0);
	if (!strcmp(cmd, "mmap-write") && argc == 5)
		return do_mmap(argv[2], n, seed, 0, 1);
	if (!strcmp(cmd, "odirect-write") && argc == 5)
		return do_write(argv[2], n, seed, O_DIRECT);
	if (!strcmp(cmd, "dontneed") && argc == 3)
		return do_dontneed(argv[2]);
	if (!strcmp(cmd, "anon") && argc == 4)
		return do_anon(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "mix") && argc == 4)
		return do_mix(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of pcache_workload.c\n");
	return 2;
}
