// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_repl: checks for NUMA page cache replication (replication/,
 * issue 4): where the pages a reader gets live, and that a replica never
 * gives a reader older data than a write that has returned.
 *
 * Content: page p of a file written in round r holds 512 64-bit words,
 * each ((uint64_t)r << 32) | p, so every word read tells its page and its
 * round.  Rounds start at 1; a zero word is a hole.  PAGES is the file
 * size in 4 KiB pages.  "On NODE": the process binds itself to the CPUs of
 * NODE (sched_setaffinity, /sys/devices/system/node/nodeN/cpulist) and its
 * memory to NODE (set_mempolicy MPOL_BIND).
 *
 *   fill FILE PAGES ROUND		write(2) the content of ROUND, fsync
 *					(the file truncated first, unless
 *					PCACHE_REPL_NOTRUNC=1: then the
 *					pages are overwritten in place)
 *   check FILE PAGES ROUND		read(2) it, every word of ROUND
 *	(both run on node N first if PCACHE_REPL_NODE=N is in the environment)
 *
 *   locality FILE PAGES NODE PASSES [ROUND]
 *					on NODE: PASSES read(2) passes over the
 *					file, then PASSES passes over a shared
 *					read-only mapping of it, every word
 *					checked (ROUND, default 1); then asks
 *					move_pages(2) where each mapped page is.
 *					Prints "read_mibs X", "mmap_mibs X",
 *					"mapped PAGES on_node N other M" (N: on
 *					NODE) and "mapped_nodes 0:N0 1:N1 ...
 *					absent A"
 *   hold FILE PAGES NODE SECONDS [ROUND]
 *					on NODE: a read(2) pass, then maps the
 *					file and touches every page (checked);
 *					prints the "mapped" lines, then "ready";
 *					sleeps SECONDS (SIGUSR1 ends the sleep
 *					early), then checks every word through
 *					the mapping and by read(2) again and
 *					prints the "mapped" lines again
 *
 *   torture FILE PAGES SECONDS WNODE RNODE MODE
 *					coherence of concurrent writes and reads
 *   trunc FILE PAGES SECONDS RNODE [WNODE]
 *					truncate and hole punch racing reads
 *
 * torture: the file is written with round 1 (on WNODE), then writers on
 * WNODE and four readers on RNODE run for SECONDS.  Shared memory
 * (MAP_SHARED | MAP_ANONYMOUS) holds gen[p]: (round << 1 | 1) of the
 * highest round whose write of page p has returned; a writer stores it
 * (release) after its pwrite(2), or its stores to a mapping and
 * msync(MS_SYNC), returned.  Rounds come from one counter and a page is
 * written by one writer at a time (a lock per page), so gen[p] is also the
 * round the page holds when the writers stop.  MODE:
 *
 *   write	pwrite(2) of whole pages in random order; after half of them
 *		sync_file_range() of the page, so pages become clean (and
 *		replicable) all the time
 *   mmap	bursts of 1-4 pages stored through a MAP_SHARED PROT_WRITE
 *		mapping of the file, each msync(MS_SYNC)ed, then munmap and a
 *		pause of 1-4 ms, so the file is not writably mapped most of
 *		the time
 *   mixed	both writers at once
 *   direct	the pwrite writer and a second one whose pwrite(2)s go
 *		through an O_DIRECT descriptor of the file, to the same pages:
 *		an O_DIRECT write that returned must not leave an older
 *		page, replica or pool copy for a read to find
 *
 * The readers: "pread" (pread(2) of one page, or of 16 pages every 8th
 * time), "mmap" (loads through a MAP_SHARED PROT_READ mapping),
 * "mmap-forked" (fork()ed by "mmap" after it mapped and touched the file;
 * it goes on with the inherited mapping) and "mmap-mremap" (its mapping is
 * moved with mremap(MREMAP_MAYMOVE | MREMAP_FIXED) to another address
 * after it touched the file, and again every 512 reads).  The mapped
 * readers also zap a few pages of their mapping now and then
 * (MADV_DONTNEED), so they fault again.  Half the pages picked by readers
 * and writers are among the first 16 (hot) pages.  Each read of page p:
 * g = gen[p] (acquire), then the read; every word w must have
 * (w & 0xffffffff) == p and (w >> 32) >= g >> 1: never older than a write
 * that had returned before the read began.  A page with words of several
 * rounds (torn by a write in flight) is fine, and counted.  When SECONDS
 * are over the writers stop; then every reader checks every page once
 * more, exactly (each word of the round in gen[p]), and exits; then the
 * process checks the file with read(2) and a new mapping, on RNODE.
 * Prints "writes N reads N violations N", "torn N" and the reads of each
 * reader.  This assumes a word is copied 8 bytes at a time (x86
 * copy_user and copy_page without ERMS/FSRM, as the qemu64 CPU model of
 * the test guest): no byte-level tearing of a word.
 *
 * trunc: the file is written with round 1 on WNODE (default: the lowest
 * node other than RNODE), then a mutator on that node runs operations over and over for SECONDS
 * while the same four readers run on RNODE: truncate to 0 (or, one time
 * in two, to a random size, inside a page or not) and extend back, or
 * fallocate(PUNCH_HOLE | KEEP_SIZE) of a random range (inside pages or
 * not); each followed by a rewrite of the pages it touched with a new
 * round, fdatasync, and a pause of 0-9 ms.  A counter "ops" is odd while a
 * truncate or punch runs; after it returns, gen[p] of a page it cleared
 * gets the new round and of a page it cut partly keeps its round, both
 * without bit 0 (zero words allowed); the rewrite of a page sets gen[p] to
 * (round << 1 | 1).  Reader check of page p: o0 = ops, g = gen[p], the
 * read (a SIGBUS of a mapped read beyond the end of the file is caught
 * with sigsetjmp), o1 = ops: a zero word is right if bit 0 of g is clear
 * or an operation overlapped the read (o0 odd or o1 != o0); any other word
 * must have page index p and round >= g >> 1; a short read or a SIGBUS is
 * right only if an operation overlapped.  At the end the same exact
 * checks as torture (and the file size).  Prints "ops N truncates N
 * punches N reads N zeros N sigbus N short N violations N".
 *
 * Exit status: 0 when every check was right, 1 on a mismatch or violation
 * (the first is printed on stderr: page, word, value seen, round that had
 * completed, reader), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define WORDS		(PAGE / 8)
#define CHUNK_PAGES	16	/* pages per read(2) or write(2) call */
#define HOT_PAGES	16
#define NR_READERS	4
#define MAX_NODES	16

#ifndef noinline
#define noinline	__attribute__((noinline))
#endif
#ifndef MPOL_BIND
#define MPOL_BIND	2
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE	0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE	0x02
#endif

static inline uint64_t word_of(uint64_t round, uint64_t page)
{
	return round << 32 | page;
}

/* State shared by the processes of torture and trunc. */
struct shared {
	int stop;		/* readers: last exact pass, then exit */
	int wstop;		/* writers, mutator: finish and exit */
	int error;		/* a process hit a system error */
	int violation;		/* the first violation is in @first */
	uint64_t ops;		/* trunc: odd while a truncate/punch runs */
	uint64_t round;		/* the last round handed out */
	uint64_t writes;	/* pages written */
	uint64_t direct_writes;	/* of them, through O_DIRECT */
	uint64_t truncates, punches;
	uint64_t reads[NR_READERS];	/* pages read and checked */
	uint64_t torn, zeros, sigbus, shorts;
	char first[512];
};

static struct shared *sh;	/* NULL outside torture and trunc */
static uint64_t *gen;		/* [pages]: round << 1 | filled */
static uint32_t *plock;		/* [pages]: page write locks */

static const char * const reader_names[NR_READERS] = {
	"pread", "mmap", "mmap-forked", "mmap-mremap",
};

static void die(const char *what)
{
	fprintf(stderr, "pcache_repl: %s: %s\n", what, strerror(errno));
	if (sh) {
		__atomic_store_n(&sh->error, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&sh->wstop, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	}
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of pcache_repl.c\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		usage();
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t rnd_seed(void)
{
	uint64_t s = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^
		     (uint64_t)(now() * 1e9);

	return s ? s : 1;
}

/* ---- NUMA binding ---- */

/* The CPUs of @node into @set; their number, or -1 if there is no node. */
static int node_cpus(int node, cpu_set_t *set)
{
	char path[128], line[1024], *s;
	int n = 0;
	FILE *f;

	CPU_ZERO(set);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	for (s = line; *s && *s != '\n';) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			break;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			s = end;
		}
		for (; a <= b && a < CPU_SETSIZE; a++, n++)
			CPU_SET(a, set);
		if (*s == ',')
			s++;
	}
	return n;
}

static void bind_node(int node)
{
	unsigned long mask;
	cpu_set_t set;

	if (node < 0 || node >= MAX_NODES || node_cpus(node, &set) <= 0) {
		fprintf(stderr, "pcache_repl: node %d has no CPUs\n", node);
		exit(2);
	}
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	mask = 1UL << node;
	/* maxnode: the kernel uses maxnode - 1 bits, all in this one long. */
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, 8 * sizeof(mask)))
		die("set_mempolicy");
}

/* PCACHE_REPL_NODE=N: run on node N. */
static void bind_env(void)
{
	const char *s = getenv("PCACHE_REPL_NODE");

	if (s && *s)
		bind_node(num(s));
}

/* A node other than @node with CPUs (the lowest). */
static int other_node(int node)
{
	cpu_set_t set;
	int n;

	for (n = 0; n < MAX_NODES; n++)
		if (n != node && node_cpus(n, &set) > 0)
			return n;
	fprintf(stderr, "pcache_repl: no node other than %d\n", node);
	exit(2);
}

/* ---- plain file I/O ---- */

static void fill_page(uint64_t *dst, uint64_t round, uint64_t page)
{
	size_t i;

	for (i = 0; i < WORDS; i++)
		dst[i] = word_of(round, page);
}

static void xpwrite(int fd, const void *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n <= 0)
			die("pwrite");
		buf = (const char *)buf + n;
		len -= n;
		off += n;
	}
}

/* read(2) up to @len at the file position; bytes read (less at EOF). */
static size_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0)
			die("read");
		if (!n)
			break;
		got += n;
	}
	return got;
}

/* Every word of page @page in @w is of @round. */
static int check_page(const uint64_t *w, uint64_t page, uint64_t round,
		      const char *what)
{
	size_t i;

	for (i = 0; i < WORDS; i++)
		if (w[i] != word_of(round, page)) {
			fprintf(stderr,
				"pcache_repl: %s: page %llu word %zu: 0x%016llx (page %llu round %llu), expected round %llu\n",
				what, (unsigned long long)page, i,
				(unsigned long long)w[i],
				(unsigned long long)(w[i] & 0xffffffff),
				(unsigned long long)(w[i] >> 32),
				(unsigned long long)round);
			return 1;
		}
	return 0;
}

/* Through a mapping: volatile loads, so every pass really touches. */
static int check_mapped(const volatile uint64_t *map, uint64_t page,
			uint64_t round, const char *what)
{
	const volatile uint64_t *w = map + page * WORDS;
	size_t i;

	for (i = 0; i < WORDS; i++) {
		uint64_t v = w[i];

		if (v != word_of(round, page)) {
			fprintf(stderr,
				"pcache_repl: %s: page %llu word %zu: 0x%016llx (page %llu round %llu), expected round %llu\n",
				what, (unsigned long long)page, i,
				(unsigned long long)v,
				(unsigned long long)(v & 0xffffffff),
				(unsigned long long)(v >> 32),
				(unsigned long long)round);
			return 1;
		}
	}
	return 0;
}

/* One read(2) pass over the file: every word of its round. */
static int read_pass(int fd, size_t pages, uint64_t round, const char *what)
{
	uint64_t *buf;
	size_t p, i;

	if (posix_memalign((void **)&buf, PAGE, CHUNK_PAGES * PAGE))
		die("posix_memalign");
	if (lseek(fd, 0, SEEK_SET))
		die("lseek");
	for (p = 0; p < pages; p += CHUNK_PAGES) {
		size_t k = pages - p < CHUNK_PAGES ? pages - p : CHUNK_PAGES;
		size_t got = read_full(fd, buf, k * PAGE);

		if (got != k * PAGE) {
			fprintf(stderr,
				"pcache_repl: %s: short read at page %zu: %zu of %zu bytes\n",
				what, p, got, k * PAGE);
			free(buf);
			return 1;
		}
		for (i = 0; i < k; i++)
			if (check_page(buf + i * WORDS, p + i, round, what)) {
				free(buf);
				return 1;
			}
	}
	free(buf);
	return 0;
}

static int do_fill(const char *path, size_t pages, uint64_t round)
{
	uint64_t *buf;
	size_t p, i;
	int fd;

	bind_env();
	if (posix_memalign((void **)&buf, PAGE, CHUNK_PAGES * PAGE))
		die("posix_memalign");
	fd = open(path, O_WRONLY | O_CREAT |
		  (getenv("PCACHE_REPL_NOTRUNC") ? 0 : O_TRUNC), 0644);
	if (fd < 0)
		die(path);
	for (p = 0; p < pages; p += CHUNK_PAGES) {
		size_t k = pages - p < CHUNK_PAGES ? pages - p : CHUNK_PAGES;
		size_t done = 0;

		for (i = 0; i < k; i++)
			fill_page(buf + i * WORDS, round, p + i);
		while (done < k * PAGE) {
			ssize_t n = write(fd, (char *)buf + done, k * PAGE - done);

			if (n <= 0)
				die("write");
			done += n;
		}
	}
	if (fsync(fd))
		die("fsync");
	close(fd);
	free(buf);
	return 0;
}

static int do_check(const char *path, size_t pages, uint64_t round)
{
	int fd, bad;

	bind_env();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	bad = read_pass(fd, pages, round, path);
	close(fd);
	return bad;
}

/* ---- locality and hold ---- */

static void *map_file(int fd, size_t pages, int prot)
{
	void *map = mmap(NULL, pages * PAGE, prot, MAP_SHARED, fd, 0);

	if (map == MAP_FAILED)
		die("mmap");
	return map;
}

/*
 * Where the pages of a mapping are (move_pages(2) with no target nodes:
 * the node of each page, or a negative errno if none is mapped there).
 * Prints "mapped PAGES on_node N other M" and "mapped_nodes ...".
 */
static void print_mapped(void *map, size_t pages, int node)
{
	size_t i, on = 0, absent = 0, per[MAX_NODES] = { 0 };
	void **addr = malloc(pages * sizeof(*addr));
	int *status = malloc(pages * sizeof(*status));
	int n;

	if (!addr || !status)
		die("malloc");
	for (i = 0; i < pages; i++) {
		addr[i] = (char *)map + i * PAGE;
		status[i] = -1;
	}
	if (syscall(SYS_move_pages, 0, pages, addr, NULL, status, 0))
		die("move_pages");
	for (i = 0; i < pages; i++) {
		if (status[i] == node)
			on++;
		if (status[i] >= 0 && status[i] < MAX_NODES)
			per[status[i]]++;
		else
			absent++;
	}
	printf("mapped %zu on_node %zu other %zu\n", pages, on, pages - on);
	printf("mapped_nodes");
	for (n = 0; n < MAX_NODES; n++)
		if (per[n] || n < 2)
			printf(" %d:%zu", n, per[n]);
	printf(" absent %zu\n", absent);
	fflush(stdout);
	free(addr);
	free(status);
}

static int do_locality(const char *path, size_t pages, int node, int passes,
		       uint64_t round)
{
	volatile uint64_t *map;
	double t0;
	size_t p;
	int fd, i;

	bind_node(node);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	t0 = now();
	for (i = 0; i < passes; i++)
		if (read_pass(fd, pages, round, "locality read"))
			return 1;
	printf("read_mibs %.1f\n",
	       passes * (pages * PAGE / 1048576.0) / (now() - t0));
	map = map_file(fd, pages, PROT_READ);
	t0 = now();
	for (i = 0; i < passes; i++)
		for (p = 0; p < pages; p++)
			if (check_mapped(map, p, round, "locality mmap"))
				return 1;
	printf("mmap_mibs %.1f\n",
	       passes * (pages * PAGE / 1048576.0) / (now() - t0));
	print_mapped((void *)map, pages, node);
	munmap((void *)map, pages * PAGE);
	close(fd);
	return 0;
}

static volatile sig_atomic_t woken;

static void on_usr1(int sig)
{
	(void)sig;
	woken = 1;
}

static int do_hold(const char *path, size_t pages, int node, int seconds,
		   uint64_t round)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	volatile uint64_t *map;
	double end;
	size_t p;
	int fd;

	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");
	bind_node(node);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	if (read_pass(fd, pages, round, "hold read"))
		return 1;
	map = map_file(fd, pages, PROT_READ);
	for (p = 0; p < pages; p++)
		if (check_mapped(map, p, round, "hold mmap"))
			return 1;
	print_mapped((void *)map, pages, node);
	printf("ready\n");
	fflush(stdout);
	end = now() + seconds;
	while (!woken && now() < end)
		sleep_ms(50);
	for (p = 0; p < pages; p++)
		if (check_mapped(map, p, round, "hold mmap (after)"))
			return 1;
	print_mapped((void *)map, pages, node);
	if (read_pass(fd, pages, round, "hold read (after)"))
		return 1;
	printf("held: every word right\n");
	munmap((void *)map, pages * PAGE);
	close(fd);
	return 0;
}

/* ---- torture and trunc: shared state ---- */

static void shared_setup(size_t pages)
{
	size_t len = sizeof(*sh) + pages * (sizeof(*gen) + sizeof(*plock));
	void *m;

	len = (len + PAGE - 1) & ~(PAGE - 1);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED)
		die("mmap shared");
	sh = m;
	gen = (uint64_t *)(sh + 1);
	plock = (uint32_t *)(gen + pages);
}

static int stopped(const int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_SEQ_CST);
}

static void page_lock(size_t p)
{
	while (__atomic_exchange_n(&plock[p], 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void page_unlock(size_t p)
{
	__atomic_store_n(&plock[p], 0, __ATOMIC_RELEASE);
}

static size_t pick_page(uint64_t *rnd, size_t pages)
{
	uint64_t r = rnd_next(rnd);
	size_t hot = pages < HOT_PAGES ? pages : HOT_PAGES;

	return (r & 1) ? (r >> 1) % hot : (r >> 1) % pages;
}

/* Write the whole file with @round (pwrite), fdatasync; gen[] set. */
static void initial_fill(int fd, size_t pages, uint64_t round)
{
	uint64_t *buf;
	size_t p, i;

	if (posix_memalign((void **)&buf, PAGE, CHUNK_PAGES * PAGE))
		die("posix_memalign");
	for (p = 0; p < pages; p += CHUNK_PAGES) {
		size_t k = pages - p < CHUNK_PAGES ? pages - p : CHUNK_PAGES;

		for (i = 0; i < k; i++) {
			fill_page(buf + i * WORDS, round, p + i);
			gen[p + i] = round << 1 | 1;
		}
		xpwrite(fd, buf, k * PAGE, p * PAGE);
	}
	if (fdatasync(fd))
		die("fdatasync");
	sh->round = round;
	free(buf);
}

/* ---- readers ---- */

struct reader {
	int id;
	const char *name;
	int fd;
	size_t pages;
	volatile uint64_t *map;	/* NULL: pread */
	uint64_t rnd;
	uint64_t *buf;		/* CHUNK_PAGES pages */
};

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_bus(int sig)
{
	if (bus_armed)
		siglongjmp(bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static noinline void copy_words(uint64_t *dst, const volatile uint64_t *src,
				size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
}

/* Copy pages [p, p + k) from the mapping; bytes, or -1 on SIGBUS. */
static ssize_t map_copy(struct reader *r, size_t p, size_t k)
{
	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = 0;
		return -1;
	}
	bus_armed = 1;
	copy_words(r->buf, r->map + p * WORDS, k * WORDS);
	bus_armed = 0;
	return k * PAGE;
}

/* Read pages [p, p + k) into r->buf; bytes read, -1 for a SIGBUS. */
static ssize_t reader_read(struct reader *r, size_t p, size_t k)
{
	ssize_t n, got = 0;

	if (r->map)
		return map_copy(r, p, k);
	while ((size_t)got < k * PAGE) {
		n = pread(r->fd, (char *)r->buf + got, k * PAGE - got,
			  (p * PAGE) + got);
		if (n < 0)
			die("pread");
		if (!n)
			break;
		got += n;
	}
	return got;
}

static void violation(struct reader *r, const char *why, size_t p, size_t i,
		      uint64_t w, uint64_t g, int inflight)
{
	if (!__atomic_exchange_n(&sh->violation, 1, __ATOMIC_SEQ_CST)) {
		snprintf(sh->first, sizeof(sh->first),
			 "reader %s: %s: page %zu word %zu: seen 0x%016llx (page %llu round %llu), completed round %llu%s%s",
			 r->name, why, p, i, (unsigned long long)w,
			 (unsigned long long)(w & 0xffffffff),
			 (unsigned long long)(w >> 32),
			 (unsigned long long)(g >> 1),
			 (g & 1) ? "" : " (zeros allowed)",
			 inflight ? ", truncate/punch in flight" : "");
		fprintf(stderr, "pcache_repl: VIOLATION: %s\n", sh->first);
	}
	__atomic_store_n(&sh->wstop, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	exit(1);
}

/*
 * Check @nwords words of page @p read with gen @g loaded before the read;
 * @inflight: a truncate or punch overlapped the read.
 */
static void reader_check(struct reader *r, const uint64_t *w, size_t nwords,
			 size_t p, uint64_t g, int inflight)
{
	uint64_t min = g >> 1, seen = 0;
	int torn = 0, zero = 0;
	size_t i;

	for (i = 0; i < nwords; i++) {
		if (!w[i]) {
			if ((g & 1) && !inflight)
				violation(r, "zero word", p, i, w[i], g, inflight);
			zero = 1;
			continue;
		}
		if ((w[i] & 0xffffffff) != p)
			violation(r, "wrong page index", p, i, w[i], g, inflight);
		if ((w[i] >> 32) < min)
			violation(r, "stale word (older than a completed write)",
				  p, i, w[i], g, inflight);
		if (seen && seen != w[i])
			torn = 1;
		seen = w[i];
	}
	if (torn)
		__atomic_fetch_add(&sh->torn, 1, __ATOMIC_RELAXED);
	if (zero)
		__atomic_fetch_add(&sh->zeros, 1, __ATOMIC_RELAXED);
}

static void reader_step(struct reader *r)
{
	uint64_t g[CHUNK_PAGES], o0, o1;
	size_t p, k = 1, i;
	ssize_t got;
	int inflight;

	p = pick_page(&r->rnd, r->pages);
	if (!r->map && (rnd_next(&r->rnd) & 7) == 0) {
		k = r->pages < CHUNK_PAGES ? r->pages : CHUNK_PAGES;
		if (p + k > r->pages)
			p = r->pages - k;
	}
	o0 = __atomic_load_n(&sh->ops, __ATOMIC_SEQ_CST);
	for (i = 0; i < k; i++)
		g[i] = __atomic_load_n(&gen[p + i], __ATOMIC_ACQUIRE);
	got = reader_read(r, p, k);
	o1 = __atomic_load_n(&sh->ops, __ATOMIC_SEQ_CST);
	inflight = (o0 & 1) || o0 != o1;
	if (got < (ssize_t)(k * PAGE)) {
		if (!inflight)
			violation(r, got < 0 ? "SIGBUS" : "short read",
				  p + (got < 0 ? 0 : got / PAGE), 0, 0, g[0], 0);
		__atomic_fetch_add(got < 0 ? &sh->sigbus : &sh->shorts, 1,
				   __ATOMIC_RELAXED);
		if (got < 0)
			return;
	}
	for (i = 0; i < k && (ssize_t)(i * PAGE) < got; i++) {
		size_t n = got - i * PAGE;

		n = n > PAGE ? WORDS : n / 8;
		reader_check(r, r->buf + i * WORDS, n, p + i, g[i], inflight);
	}
	__atomic_fetch_add(&sh->reads[r->id], k, __ATOMIC_RELAXED);
}

/* After the writers stopped: every page exactly of its round. */
static void reader_final(struct reader *r)
{
	size_t p, i;

	for (p = 0; p < r->pages; p++) {
		uint64_t g = __atomic_load_n(&gen[p], __ATOMIC_ACQUIRE);
		ssize_t got = reader_read(r, p, 1);

		if (got != (ssize_t)PAGE)
			violation(r, got < 0 ? "final pass: SIGBUS" :
				  "final pass: short read", p, 0, 0, g, 0);
		for (i = 0; i < WORDS; i++)
			if (r->buf[i] != word_of(g >> 1, p) || !(g & 1))
				violation(r, "final pass: not the last round written",
					  p, i, r->buf[i], g, 0);
	}
}

/* Touch every page of the mapping (a SIGBUS is fine here). */
static void reader_touch(struct reader *r)
{
	size_t p;

	for (p = 0; p < r->pages; p++)
		map_copy(r, p, 1);
}

/* Move the mapping elsewhere: mremap(MREMAP_MAYMOVE | MREMAP_FIXED). */
static void reader_move(struct reader *r)
{
	size_t len = r->pages * PAGE;
	void *dst, *n;

	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		die("mmap reserve");
	n = mremap((void *)r->map, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (n == MAP_FAILED)
		die("mremap");
	if (n == (void *)r->map) {
		fprintf(stderr, "pcache_repl: mremap did not move the mapping\n");
		die("mremap");
	}
	r->map = n;
}

static void reader_main(int id, const char *path, size_t pages, int node)
{
	struct sigaction sa = { .sa_handler = on_bus, .sa_flags = SA_NODEFER };
	struct reader r = { .id = id, .name = reader_names[id], .pages = pages };
	pid_t child = 0;
	unsigned long n;
	int status;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	bind_node(node);
	if (sigaction(SIGBUS, &sa, NULL))
		die("sigaction");
	if (posix_memalign((void **)&r.buf, PAGE, CHUNK_PAGES * PAGE))
		die("posix_memalign");
	r.fd = open(path, O_RDONLY);
	if (r.fd < 0)
		die(path);
	r.rnd = rnd_seed();
	if (id) {
		r.map = map_file(r.fd, pages, PROT_READ);
		reader_touch(&r);
	}
	if (id == 1) {
		/* The child goes on with the mapping its parent made. */
		fflush(NULL);
		child = fork();
		if (child < 0)
			die("fork");
		if (!child) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			id = 2;
			r.id = id;
			r.name = reader_names[id];
			r.rnd = rnd_seed();
		}
	}
	if (id == 3)
		reader_move(&r);
	for (n = 1; !stopped(&sh->stop); n++) {
		reader_step(&r);
		if (r.map && n % 64 == 0) {
			size_t p = pick_page(&r.rnd, pages);
			size_t k = 1 + rnd_next(&r.rnd) % 8;

			if (p + k > pages)
				k = pages - p;
			if (madvise((void *)(r.map + p * WORDS), k * PAGE,
				    MADV_DONTNEED))
				die("madvise");
		}
		if (id == 3 && n % 512 == 0)
			reader_move(&r);
	}
	if (!stopped(&sh->violation) && !stopped(&sh->error))
		reader_final(&r);
	if (child > 0) {
		if (waitpid(child, &status, 0) != child)
			die("waitpid");
		exit(WIFEXITED(status) ? WEXITSTATUS(status) : 2);
	}
	exit(0);
}

/* ---- writers (torture) ---- */

/* @sync: sync_file_range() half the pages written (buffered writes). */
static void writer_pwrite(int fd, size_t pages, int sync)
{
	uint64_t *buf, rnd = rnd_seed();

	if (posix_memalign((void **)&buf, PAGE, PAGE))
		die("posix_memalign");
	while (!stopped(&sh->wstop)) {
		size_t p = pick_page(&rnd, pages);
		uint64_t r;

		page_lock(p);
		r = __atomic_add_fetch(&sh->round, 1, __ATOMIC_SEQ_CST);
		fill_page(buf, r, p);
		xpwrite(fd, buf, PAGE, p * PAGE);
		__atomic_store_n(&gen[p], r << 1 | 1, __ATOMIC_RELEASE);
		page_unlock(p);
		__atomic_fetch_add(&sh->writes, 1, __ATOMIC_RELAXED);
		if (!sync)
			__atomic_fetch_add(&sh->direct_writes, 1,
					   __ATOMIC_RELAXED);
		/* Clean again soon: a clean page can be replicated. */
		if (sync && (rnd_next(&rnd) & 1) &&
		    sync_file_range(fd, p * PAGE, PAGE,
				    SYNC_FILE_RANGE_WAIT_BEFORE |
				    SYNC_FILE_RANGE_WRITE |
				    SYNC_FILE_RANGE_WAIT_AFTER))
			die("sync_file_range");
	}
	exit(0);
}

static void writer_mmap(int fd, size_t pages)
{
	uint64_t rnd = rnd_seed();

	while (!stopped(&sh->wstop)) {
		volatile uint64_t *map = map_file(fd, pages, PROT_READ | PROT_WRITE);
		int n = 1 + rnd_next(&rnd) % 4;

		while (n--) {
			size_t p = pick_page(&rnd, pages), i;
			volatile uint64_t *w = map + p * WORDS;
			uint64_t r;

			page_lock(p);
			r = __atomic_add_fetch(&sh->round, 1, __ATOMIC_SEQ_CST);
			for (i = 0; i < WORDS; i++)
				w[i] = word_of(r, p);
			if (msync((void *)w, PAGE, MS_SYNC))
				die("msync");
			__atomic_store_n(&gen[p], r << 1 | 1, __ATOMIC_RELEASE);
			page_unlock(p);
			__atomic_fetch_add(&sh->writes, 1, __ATOMIC_RELAXED);
		}
		munmap((void *)map, pages * PAGE);
		/* Not writably mapped for a while: replicas can be made. */
		sleep_ms(1 + rnd_next(&rnd) % 4);
	}
	exit(0);
}

/* ---- trunc: the mutator ---- */

/* Rewrite pages [first, last] with @round, each then marked filled. */
static void refill(int fd, size_t first, size_t last, uint64_t round,
		   uint64_t *buf)
{
	size_t p;

	for (p = first; p <= last; p++) {
		fill_page(buf, round, p);
		xpwrite(fd, buf, PAGE, p * PAGE);
		__atomic_store_n(&gen[p], round << 1 | 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&sh->writes, 1, __ATOMIC_RELAXED);
	}
	if (fdatasync(fd))
		die("fdatasync");
}

/* Bytes [start, end) were zeroed: gen of each page they touched. */
static void zeroed(uint64_t start, uint64_t end, uint64_t round)
{
	size_t p;

	for (p = start / PAGE; p * PAGE < end; p++) {
		uint64_t g = __atomic_load_n(&gen[p], __ATOMIC_RELAXED);

		if (start <= p * PAGE && (p + 1) * PAGE <= end)
			g = round << 1;		/* all zero now */
		else
			g &= ~1ULL;		/* partly: old round or zero */
		__atomic_store_n(&gen[p], g, __ATOMIC_RELEASE);
	}
}

static void mutator_main(int fd, size_t pages, int node)
{
	uint64_t len = pages * PAGE, rnd = rnd_seed(), *buf;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	bind_node(node);
	if (posix_memalign((void **)&buf, PAGE, PAGE))
		die("posix_memalign");
	while (!stopped(&sh->wstop)) {
		uint64_t r = __atomic_add_fetch(&sh->round, 1, __ATOMIC_SEQ_CST);
		uint64_t x = rnd_next(&rnd), start, end;

		__atomic_add_fetch(&sh->ops, 1, __ATOMIC_SEQ_CST);	/* odd */
		if (x % 3 == 0) {
			/* Truncate to 0 or inside the file, extend back. */
			start = (x & 8) ? 0 : ((x >> 8) % len) & ~7ULL;
			if ((x & 16) && start)
				start &= ~(PAGE - 1);
			end = len;
			if (ftruncate(fd, start))
				die("ftruncate");
			zeroed(start, end, r);
			if (ftruncate(fd, len))
				die("ftruncate");
			__atomic_fetch_add(&sh->truncates, 1, __ATOMIC_RELAXED);
		} else {
			/* Punch a hole of 8 bytes to 8 pages, anywhere. */
			start = ((x >> 8) % len) & ~7ULL;
			if (x & 16)
				start &= ~(PAGE - 1);
			end = start + 8 + ((rnd_next(&rnd) % (8 * PAGE)) & ~7ULL);
			if (end > len)
				end = len;
			if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      start, end - start))
				die("fallocate(PUNCH_HOLE)");
			zeroed(start, end, r);
			__atomic_fetch_add(&sh->punches, 1, __ATOMIC_RELAXED);
		}
		__atomic_add_fetch(&sh->ops, 1, __ATOMIC_SEQ_CST);	/* even */
		refill(fd, start / PAGE, (end - 1) / PAGE, r, buf);
		sleep_ms(rnd_next(&rnd) % 10);
	}
	exit(0);
}

/* ---- torture and trunc: the parent ---- */

struct child {
	pid_t pid;
	int status;
	int done;
	const char *name;
};

static int child_code(const struct child *c)
{
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	fprintf(stderr, "pcache_repl: %s (pid %d) killed by signal %d\n",
		c->name, (int)c->pid, WTERMSIG(c->status));
	return 2;
}

static pid_t spawn(struct child *c, const char *name)
{
	fflush(NULL);
	c->name = name;
	c->done = 0;
	c->pid = fork();
	if (c->pid < 0)
		die("fork");
	return c->pid;
}

/* Reap children that exited already; true if one did. */
static int poll_children(struct child *c, int n)
{
	int status, i, any = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < n; i++)
			if (c[i].pid == pid) {
				c[i].status = status;
				c[i].done = 1;
				any = 1;
			}
	return any;
}

/* Wait for children [from, to); the worst exit code. */
static int wait_children(struct child *c, int from, int to)
{
	int i, worst = 0;

	for (i = from; i < to; i++) {
		int code;

		if (!c[i].done) {
			if (waitpid(c[i].pid, &c[i].status, 0) != c[i].pid)
				die("waitpid");
			c[i].done = 1;
		}
		code = child_code(&c[i]);
		if (code > worst)
			worst = code;
	}
	return worst;
}

/*
 * Run for @seconds, stop the writers (children [nr_readers, n)), then the
 * readers (children [0, nr_readers)); then the last check of the file on
 * @rnode.  Returns the exit status.
 */
static int run_and_stop(const char *path, int fd, size_t pages, int seconds,
			int rnode, struct child *c, int nr_readers, int n)
{
	double end = now() + seconds;
	int worst, w, early = 0, bad = 0, i;
	uint64_t reads = 0;
	struct stat st;

	while (now() < end && !stopped(&sh->stop)) {
		if (poll_children(c, n)) {
			early = 1;
			break;
		}
		sleep_ms(100);
	}
	__atomic_store_n(&sh->wstop, 1, __ATOMIC_SEQ_CST);
	worst = wait_children(c, nr_readers, n);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	w = wait_children(c, 0, nr_readers);
	if (w > worst)
		worst = w;
	if (early && !sh->violation && !sh->error) {
		fprintf(stderr, "pcache_repl: a process exited early\n");
		if (worst < 2)
			worst = 2;
	}

	if (!sh->violation && worst == 0) {
		volatile uint64_t *map;
		uint64_t *buf;
		size_t p;

		/* The last check, where the readers were. */
		bind_node(rnode);
		if (fstat(fd, &st))
			die("fstat");
		if ((uint64_t)st.st_size != pages * PAGE) {
			fprintf(stderr, "pcache_repl: %s: size %lld, expected %llu\n",
				path, (long long)st.st_size,
				(unsigned long long)(pages * PAGE));
			bad = 1;
		}
		if (posix_memalign((void **)&buf, PAGE, PAGE))
			die("posix_memalign");
		if (lseek(fd, 0, SEEK_SET))
			die("lseek");
		for (p = 0; p < pages && !bad; p++) {
			uint64_t g = gen[p];

			if (read_full(fd, buf, PAGE) != PAGE || !(g & 1)) {
				fprintf(stderr,
					"pcache_repl: final check: page %zu: short read or not filled\n",
					p);
				bad = 1;
			} else {
				bad = check_page(buf, p, g >> 1, "final check (read)");
			}
		}
		map = map_file(fd, pages, PROT_READ);
		for (p = 0; p < pages && !bad; p++)
			bad = check_mapped(map, p, gen[p] >> 1, "final check (mmap)");
		munmap((void *)map, pages * PAGE);
		free(buf);
	}

	for (i = 0; i < NR_READERS; i++)
		reads += sh->reads[i];
	printf("writes %llu reads %llu violations %d\n",
	       (unsigned long long)sh->writes, (unsigned long long)reads,
	       sh->violation);
	printf("torn %llu rounds %llu direct_writes %llu\n",
	       (unsigned long long)sh->torn, (unsigned long long)sh->round,
	       (unsigned long long)sh->direct_writes);
	printf("reads_by");
	for (i = 0; i < NR_READERS; i++)
		printf(" %s %llu", reader_names[i],
		       (unsigned long long)sh->reads[i]);
	printf("\n");
	if (sh->violation) {
		printf("first violation: %s\n", sh->first);
		return 1;
	}
	if (worst)
		return worst;
	if (bad)
		return 1;
	if (!sh->writes || !reads) {
		fprintf(stderr, "pcache_repl: nothing was written or read\n");
		return 2;
	}
	printf("final check: every word of the last round written\n");
	return 0;
}

/* Fork the readers into c[0..2] ("mmap" forks "mmap-forked" itself). */
static void spawn_readers(struct child *c, const char *path, size_t pages,
			  int rnode)
{
	if (!spawn(&c[0], "reader pread"))
		reader_main(0, path, pages, rnode);
	if (!spawn(&c[1], "reader mmap (+ mmap-forked)"))
		reader_main(1, path, pages, rnode);
	if (!spawn(&c[2], "reader mmap-mremap"))
		reader_main(3, path, pages, rnode);
}

static int do_torture(const char *path, size_t pages, int seconds, int wnode,
		      int rnode, const char *mode)
{
	int mw = !strcmp(mode, "mmap") || !strcmp(mode, "mixed");
	int dw = !strcmp(mode, "direct");
	int pw = !strcmp(mode, "write") || !strcmp(mode, "mixed") || dw;
	struct child c[5];
	int fd, n = 3;

	if (!mw && !pw)
		usage();
	if (!pages)
		usage();
	shared_setup(pages);
	bind_node(wnode);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	initial_fill(fd, pages, 1);
	spawn_readers(c, path, pages, rnode);
	if (pw && !spawn(&c[n++], "writer pwrite")) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		writer_pwrite(fd, pages, 1);
	}
	if (dw && !spawn(&c[n++], "writer direct")) {
		int dfd = open(path, O_RDWR | O_DIRECT);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dfd < 0)
			die("open O_DIRECT");
		writer_pwrite(dfd, pages, 0);
	}
	if (mw && !spawn(&c[n++], "writer mmap")) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		writer_mmap(fd, pages);
	}
	return run_and_stop(path, fd, pages, seconds, rnode, c, 3, n);
}

static int do_trunc(const char *path, size_t pages, int seconds, int rnode,
		    int wnode)
{
	int ret, fd;
	struct child c[4];

	if (!pages)
		usage();
	shared_setup(pages);
	bind_node(wnode);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	initial_fill(fd, pages, 1);
	spawn_readers(c, path, pages, rnode);
	if (!spawn(&c[3], "mutator"))
		mutator_main(fd, pages, wnode);
	ret = run_and_stop(path, fd, pages, seconds, rnode, c, 3, 4);
	printf("ops %llu truncates %llu punches %llu zeros %llu sigbus %llu short %llu (mutator on node %d)\n",
	       (unsigned long long)(sh->truncates + sh->punches),
	       (unsigned long long)sh->truncates,
	       (unsigned long long)sh->punches,
	       (unsigned long long)sh->zeros, (unsigned long long)sh->sigbus,
	       (unsigned long long)sh->shorts, wnode);
	if (!ret && !(sh->truncates + sh->punches)) {
		fprintf(stderr, "pcache_repl: no truncate or punch ran\n");
		ret = 2;
	}
	return ret;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "fill") && argc == 5)
		return do_fill(argv[2], num(argv[3]), num(argv[4]));
	if (!strcmp(cmd, "check") && argc == 5)
		return do_check(argv[2], num(argv[3]), num(argv[4]));
	if (!strcmp(cmd, "locality") && (argc == 6 || argc == 7))
		return do_locality(argv[2], num(argv[3]), num(argv[4]),
				   num(argv[5]), argc == 7 ? num(argv[6]) : 1);
	if (!strcmp(cmd, "hold") && (argc == 6 || argc == 7))
		return do_hold(argv[2], num(argv[3]), num(argv[4]),
			       num(argv[5]), argc == 7 ? num(argv[6]) : 1);
	if (!strcmp(cmd, "torture") && argc == 8)
		return do_torture(argv[2], num(argv[3]), num(argv[4]),
				  num(argv[5]), num(argv[6]), argv[7]);
	if (!strcmp(cmd, "trunc") && (argc == 6 || argc == 7))
		return do_trunc(argv[2], num(argv[3]), num(argv[4]),
				num(argv[5]), argc == 7 ? (int)num(argv[6]) :
				other_node(num(argv[5])));
	usage();
	return 2;
}
