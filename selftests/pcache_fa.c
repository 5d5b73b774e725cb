// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_fa: read faults through a shared mapping of a file, for the
 * fault-around checks (faultaround/, issue 14).  Every byte read through
 * the mapping is checked: word w (8 bytes) of the file holds
 * w * 0x9e3779b97f4a7c15 ^ SEED.
 *
 *   write FILE PAGES SEED		write(2) the content, fsync
 *   cache FILE PAGES SEED		drop the file's pages from the page cache
 *					and read them back in by readahead
 *					(POSIX_FADV_WILLNEED), which does not
 *					mark them accessed as read(2) does;
 *					wait until every page is cached
 *   seq FILE PAGES SEED [ADVICE]	touch every page of a mapping of the
 *					file in order, checking each
 *   rand FILE PAGES SEED N [ADVICE]	touch N pages picked at random
 *					(rand_r, seeded with SEED), checking
 *					each
 *   exec N PROG [ARG...]		run PROG N times, one after the other
 *					(stdout to /dev/null), with address
 *					space randomization off in the
 *					children, so that every run has the
 *					same layout: the benchmark's
 *					exec-heavy load
 *   trunc FILE PAGES SEED ROUNDS	the file (written with SEED) mapped
 *					once; each round r: read(2) every page
 *					(which makes replicas where
 *					replication is on), touch every page,
 *					truncate the file to PAGES / 2 pages
 *					and a half, touch every page below
 *					the new end (the half page's tail must
 *					read zeroes) and the one above it
 *					(must SIGBUS), then rewrite the whole
 *					file with seed SEED + r + 1 and fsync
 *					it; the next
 *					round checks that content through the
 *					same mapping
 *
 * ADVICE is madvise(2)'s on the whole mapping first: normal, random or
 * sequential.  seq and rand print
 *
 *   minflt F pages P rss_kib R ref_kib X wall_ms W bad B
 *
 * F: the minor faults the touches took (getrusage(), around the loop
 * only); P: the pages touched; R: the mapping's Rss after the touches
 * (/proc/self/smaps: the pages fault-around mapped, the touched ones
 * included); X: its Referenced (pages mapped young, or marked accessed
 * in the page cache); B: pages with a wrong byte (the first is described
 * on stderr); W: the wall time of the touches.  exec prints
 *
 *   minflt F execs N wall_ms W
 *
 * F: the minor faults of the N children together.  trunc prints
 *
 *   rounds R sigbus S minflt F bad B
 *
 * S: the touches past the end that raised SIGBUS (R expected).  The exit
 * status is 1 when B > 0 (or S != R), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096UL
#define WORDS	(PAGE / 8)

static uint64_t word(uint64_t w, uint64_t seed)
{
	return w * 0x9e3779b97f4a7c15ULL ^ seed;
}

static void die(const char *what)
{
	fprintf(stderr, "pcache_fa: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int do_write(const char *path, unsigned long pages, uint64_t seed)
{
	uint64_t buf[WORDS];
	unsigned long p, i;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	for (p = 0; p < pages; p++) {
		for (i = 0; i < WORDS; i++)
			buf[i] = word(p * WORDS + i, seed);
		if (write(fd, buf, PAGE) != (ssize_t)PAGE)
			die("write");
	}
	if (fsync(fd) || close(fd))
		die("fsync");
	return 0;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int do_exec(unsigned long n, char **argv)
{
	struct rusage r0, r1;
	unsigned long i;
	double t0;
	int st;

	if (getrusage(RUSAGE_CHILDREN, &r0))
		die("getrusage");
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0)
				dup2(fd, 1);
			/*
			 * With ASLR each exec places the libraries anew, and
			 * which segments cross a 2 MiB boundary (two windows
			 * there) changes from one exec to the next.
			 */
			personality(ADDR_NO_RANDOMIZE);
			execv(argv[0], argv);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "pcache_fa: %s failed (status %#x)\n",
				argv[0], st);
			return 1;
		}
	}
	if (getrusage(RUSAGE_CHILDREN, &r1))
		die("getrusage");
	printf("minflt %ld execs %lu wall_ms %.1f\n",
	       r1.ru_minflt - r0.ru_minflt, n, now_ms() - t0);
	return 0;
}

static long minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	return ru.ru_minflt;
}

/* The Rss and Referenced of the mapping at @addr (/proc/self/smaps), KiB. */
static void smaps_kib(void *addr, long *rss, long *ref)
{
	unsigned long start, end;
	char line[256];
	int mine = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		die("/proc/self/smaps");
	*rss = *ref = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			mine = start == (unsigned long)addr;
		else if (mine && sscanf(line, "Rss: %ld", rss) == 1)
			continue;
		else if (mine && sscanf(line, "Referenced: %ld", ref) == 1)
			break;
	}
	fclose(f);
}

static int do_cache(const char *path, unsigned long pages)
{
	unsigned char vec[256];
	unsigned long p, n, i, in = 0;
	int fd = open(path, O_RDONLY), tries;
	void *m;

	if (fd < 0)
		die(path);
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("posix_fadvise");
	/* WILLNEED reads at most the readahead window a call: 1 MiB each. */
	for (p = 0; p < pages; p += 256)
		if (posix_fadvise(fd, p * PAGE, 256 * PAGE, POSIX_FADV_WILLNEED))
			die("posix_fadvise");
	m = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	for (tries = 0; tries < 600; tries++) {
		for (in = 0, p = 0; p < pages; p += n) {
			n = pages - p < sizeof(vec) ? pages - p : sizeof(vec);
			if (mincore((char *)m + p * PAGE, n * PAGE, vec))
				die("mincore");
			for (i = 0; i < n; i++)
				in += vec[i] & 1;
		}
		if (in == pages)
			break;
		usleep(100000);
	}
	munmap(m, pages * PAGE);
	close(fd);
	if (in != pages) {
		fprintf(stderr, "pcache_fa: %lu of %lu pages cached after 60 s\n",
			in, pages);
		return 1;
	}
	return 0;
}

/*
 * Check @pg, which holds page @p of the file, whose content ends @len
 * bytes into it (the rest reads zero); 1 if a byte is wrong.
 */
static int check_words(const volatile uint64_t *pg, unsigned long p,
		       uint64_t seed, unsigned long *bad, size_t len)
{
	unsigned long i;

	for (i = 0; i < WORDS; i++) {
		uint64_t want = i * 8 < len ? word(p * WORDS + i, seed) : 0;
		uint64_t got = pg[i];

		if (got == want)
			continue;
		if (!(*bad)++)
			fprintf(stderr, "pcache_fa: page %lu word %lu: got %#llx, want %#llx\n",
				p, i, (unsigned long long)got,
				(unsigned long long)want);
		return 1;
	}
	return 0;
}

/* Check page @p of the mapping @m. */
static int check_page(const volatile uint64_t *m, unsigned long p,
		      uint64_t seed, unsigned long *bad)
{
	return check_words(m + p * WORDS, p, seed, bad, PAGE);
}

static sigjmp_buf bus_jmp;

static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Read a word at @p: 1 if it raised SIGBUS. */
static int bus_read(const volatile uint64_t *p)
{
	if (sigsetjmp(bus_jmp, 1))
		return 1;
	(void)*p;
	return 0;
}

static int do_trunc(const char *path, unsigned long pages, uint64_t seed,
		    unsigned long rounds)
{
	unsigned long r, p, half = pages / 2, bad = 0, bus = 0;
	struct sigaction sa = { .sa_handler = on_bus };
	uint64_t buf[WORDS];
	size_t i;
	long f0;
	uint64_t *m;
	int fd = open(path, O_RDWR), rfd = open(path, O_RDONLY);

	if (fd < 0 || rfd < 0)
		die(path);
	/*
	 * Mapped from a read-only file: a shared mapping of a file open for
	 * writing may be made writable, which keeps replication out of it.
	 */
	m = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, rfd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	if (sigaction(SIGBUS, &sa, NULL))
		die("sigaction");
	f0 = minflt();
	for (r = 0; r < rounds; r++, seed++) {
		for (p = 0; p < pages; p++) {
			if (pread(fd, buf, PAGE, p * PAGE) != (ssize_t)PAGE)
				die("pread");
			check_words(buf, p, seed, &bad, PAGE);
		}
		for (p = 0; p < pages; p++)
			check_page(m, p, seed, &bad);
		if (ftruncate(fd, half * PAGE + PAGE / 2))
			die("ftruncate");
		for (p = 0; p < half; p++)
			check_page(m, p, seed, &bad);
		check_words(m + half * WORDS, half, seed, &bad, PAGE / 2);
		bus += bus_read(m + (half + 1) * WORDS);
		/* The next content, over the whole file again. */
		for (p = 0; p < pages; p++) {
			for (i = 0; i < WORDS; i++)
				buf[i] = word(p * WORDS + i, seed + 1);
			if (pwrite(fd, buf, PAGE, p * PAGE) != (ssize_t)PAGE)
				die("pwrite");
		}
		/* Clean again: replication leaves dirty pages alone. */
		if (fsync(fd))
			die("fsync");
	}
	for (p = 0; p < pages; p++)
		check_page(m, p, seed, &bad);
	printf("rounds %lu sigbus %lu minflt %ld bad %lu\n", rounds, bus,
	       minflt() - f0, bad);
	munmap(m, pages * PAGE);
	close(rfd);
	close(fd);
	return bad || bus != rounds ? 1 : 0;
}

static int advice(const char *name)
{
	if (!name || !strcmp(name, "normal"))
		return MADV_NORMAL;
	if (!strcmp(name, "random"))
		return MADV_RANDOM;
	if (!strcmp(name, "sequential"))
		return MADV_SEQUENTIAL;
	fprintf(stderr, "pcache_fa: advice %s: normal, random or sequential\n",
		name);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long pages, n, i, p, bad = 0, touched = 0;
	const char *adv = NULL;
	unsigned int rs;
	uint64_t seed;
	long f0, f1, rss, ref;
	double t0;
	uint64_t *m;
	int fd, rnd;

	if (argc >= 4 && !strcmp(argv[1], "exec"))
		return do_exec(strtoul(argv[2], NULL, 0), argv + 3);
	if (argc < 5)
		goto usage;
	pages = strtoul(argv[3], NULL, 0);
	seed = strtoull(argv[4], NULL, 0);
	if (!strcmp(argv[1], "write"))
		return do_write(argv[2], pages, seed);
	if (!strcmp(argv[1], "cache"))
		return do_cache(argv[2], pages);
	if (!strcmp(argv[1], "trunc") && argc == 6)
		return do_trunc(argv[2], pages, seed, strtoul(argv[5], NULL, 0));
	rnd = !strcmp(argv[1], "rand");
	if (!rnd && strcmp(argv[1], "seq"))
		goto usage;
	if (rnd && argc < 6)
		goto usage;
	n = rnd ? strtoul(argv[5], NULL, 0) : pages;
	if (argc > 5 + rnd)
		adv = argv[5 + rnd];
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		die(argv[2]);
	m = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	if (madvise(m, pages * PAGE, advice(adv)))
		die("madvise");
	rs = seed;
	t0 = now_ms();
	f0 = minflt();
	for (i = 0; i < n; i++) {
		p = rnd ? (unsigned long)rand_r(&rs) % pages : i;
		check_page(m, p, seed, &bad);
		touched++;
	}
	f1 = minflt();
	t0 = now_ms() - t0;
	smaps_kib(m, &rss, &ref);
	printf("minflt %ld pages %lu rss_kib %ld ref_kib %ld wall_ms %.1f bad %lu\n",
	       f1 - f0, touched, rss, ref, t0, bad);
	munmap(m, pages * PAGE);
	close(fd);
	return bad ? 1 : 0;
usage:
	fprintf(stderr, "usage: pcache_fa write|cache FILE PAGES SEED\n"
		"       pcache_fa seq FILE PAGES SEED [ADVICE]\n"
		"       pcache_fa trunc FILE PAGES SEED ROUNDS\n"
		"       pcache_fa exec N PROG [ARG...]\n"
		"       pcache_fa rand FILE PAGES SEED N [ADVICE]\n");
	return 2;
}
