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
 * Byte ranges (OFF and LEN in bytes, multiples of 8; O_DIRECT: of 4096):
 *
 *   write-at FILE OFF LEN SEED		pwrite(2) the pattern over a range, no
 *					truncate, fsync
 *   odirect-at FILE OFF LEN SEED	the same with O_DIRECT
 *   verify-at FILE OFF LEN SEED	read(2) a range and check every byte
 *   zeros FILE OFF LEN			read(2) a range, every byte must be 0
 *
 * Swap (anonymous memory, content "mixed" always):
 *
 *   anon-hold MIB SEED DIR		fill MIB of anonymous memory, check it
 *					once, write its pid to DIR/ready, wait for
 *					signals: SIGUSR1 checks every byte (and
 *					dirties every page, unchanged) and
 *					appends "ok N" or "bad N" to DIR/status;
 *					SIGUSR2 or SIGTERM checks every byte
 *					and exits.  Prints the MiB/s of each pass.
 *
 * Racing truncate against reads (for stale data in a cache below the page
 * cache):
 *
 *   trunc-race FILE KIB SECONDS	a writer thread rewrites FILE in rounds
 *					(round k: truncate to a random size,
 *					extend, rewrite with seed k, fdatasync)
 *					while two reader threads read it: every
 *					byte read must be 0 or the byte of a
 *					seed the file could hold during that
 *					read (never of a round already
 *					overwritten).
 *
 * Content: the pattern is pseudo-random (incompressible).  With
 * PCACHE_WL_CONTENT=mixed in the environment, every page is half
 * compressible (the first 2 KiB repeat a 64-byte block of the page) and
 * half pseudo-random, as real memory is; never zero nor same-filled.
 * anon-hold always uses mixed content.  Every command uses the same
 * definition, so a file written mixed must be checked mixed.
 *
 * Exit status: 0 when every byte checked was right, 1 on a mismatch (the
 * first bad offset is printed), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

/* PCACHE_WL_CONTENT=mixed: half of each page compressible. */
static int content_mixed;

/*
 * The word at file offset @off (a multiple of 8).  Mixed: the first half
 * of each page repeats the page's own 64-byte block (compressible, not
 * same-filled: the 8 words differ), the second half is the pattern.
 */
static inline uint64_t content_word(uint64_t seed, uint64_t off)
{
	if (content_mixed && (off & (PAGE - 1)) < PAGE / 2)
		return pattern_word(seed ^ 0x5bd1e9955bd1e995ULL,
				    (off & ~(PAGE - 1)) + (off & 63));
	return pattern_word(seed, off);
}

static void fill(unsigned char *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = content_word(seed, off + i);

		memcpy(buf + i, &w, 8);
	}
}

static int check(const unsigned char *buf, size_t len, uint64_t seed,
		 uint64_t off, const char *what)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = content_word(seed, off + i);

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

/* pwrite(2) the content over [off, off + len), no truncate, then fsync. */
static int do_write_at(const char *path, uint64_t off0, size_t len,
		       uint64_t seed, int flags)
{
	size_t chunk = 64 * 1024, done;
	unsigned char *buf;
	int fd;

	if (posix_memalign((void **)&buf, PAGE, chunk))
		die("posix_memalign");
	fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
	if (fd < 0)
		die(path);
	for (done = 0; done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;

		fill(buf, n, seed, off0 + done);
		if (pwrite(fd, buf, n, off0 + done) != (ssize_t)n)
			die("pwrite");
	}
	if (fsync(fd))
		die("fsync");
	close(fd);
	free(buf);
	return 0;
}

/* read(2) [off, off + len): the content of @seed, or zeros if @zeros. */
static int do_verify_at(const char *path, uint64_t off0, size_t len,
			uint64_t seed, int zeros)
{
	size_t chunk = 64 * 1024, done, i;
	unsigned char *buf = malloc(chunk);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		die(path);
	for (done = 0; done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;
		ssize_t r = pread(fd, buf, n, off0 + done);

		if (r != (ssize_t)n) {
			fprintf(stderr,
				"pcache_workload: %s: short read at %llu: %zd of %zu\n",
				path, (unsigned long long)(off0 + done), r, n);
			return 1;
		}
		if (!zeros) {
			if (check(buf, n, seed, off0 + done, path))
				return 1;
			continue;
		}
		for (i = 0; i < n; i++)
			if (buf[i]) {
				fprintf(stderr,
					"pcache_workload: %s: wrong byte at offset %llu: 0x%02x, expected 0x00\n",
					path, (unsigned long long)(off0 + done + i),
					buf[i]);
				return 1;
			}
	}
	close(fd);
	free(buf);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One pass over anonymous memory: check every page (faults it back in),
 * then store its first word again, unchanged: the page is dirty, so the
 * next swap-out must store it again (a clean page in the swap cache would
 * just be dropped).
 */
static int anon_pass(unsigned char *p, size_t len, uint64_t seed,
		     const char *what)
{
	double t0 = now();
	size_t off;

	for (off = 0; off < len; off += PAGE) {
		volatile uint64_t *w = (volatile uint64_t *)(p + off);

		if (check(p + off, PAGE, seed, off, what))
			return 1;
		*w = *w;
	}
	printf("%s: %.1f MiB/s\n", what, (len >> 20) / (now() - t0));
	fflush(stdout);
	return 0;
}

/* Write (atomically, by rename) or append a line to @dir/@name. */
static void put_file(const char *dir, const char *name, const char *text,
		     int append)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(append ? path : tmp, append ? "a" : "w");
	if (!f)
		die(path);
	fputs(text, f);
	if (fclose(f))
		die(path);
	if (!append && rename(tmp, path))
		die(path);
}

static int do_anon_hold(size_t mib, uint64_t seed, const char *dir)
{
	size_t len = mib << 20, off;
	unsigned long passes = 0;
	unsigned char *p;
	char line[64];
	sigset_t set;
	double t0;
	int sig, bad;

	content_mixed = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		die("sigprocmask");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		die("mmap anon");
	t0 = now();
	for (off = 0; off < len; off += PAGE)
		fill(p + off, PAGE, seed, off);
	printf("fill: %.1f MiB/s\n", mib / (now() - t0));
	if (anon_pass(p, len, seed, "check"))
		return 1;
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	put_file(dir, "ready", line, 0);
	for (;;) {
		if (sigwait(&set, &sig))
			die("sigwait");
		bad = anon_pass(p, len, seed, "check");
		passes++;
		if (sig != SIGUSR1)
			return bad;
		snprintf(line, sizeof(line), "%s %lu\n", bad ? "bad" : "ok",
			 passes);
		put_file(dir, "status", line, 1);
	}
}

/*
 * trunc-race: the writer publishes its round in @state: 2k - 1 before it
 * truncates for round k, 2k after.  A reader that saw state s0 before a
 * pread and s1 after may see the seed of round (s0 + 1) / 2 - 1 (pages the
 * writer has not rewritten yet) up to round (s1 + 1) / 2, or zeros (the
 * truncated tail before it is rewritten).  Anything else, in particular
 * a round older than that, is stale.
 */
struct race {
	const char *path;
	size_t len;
	double end;
	unsigned long state;	/* __atomic */
	unsigned long rounds, reads;
	int stop, bad;
};

static int race_byte_ok(unsigned char b, uint64_t lo, uint64_t hi, uint64_t off)
{
	uint64_t k;

	if (!b)
		return 1;
	for (k = lo; k <= hi; k++) {
		uint64_t w = content_word(k, off & ~7ULL);

		if (((unsigned char *)&w)[off & 7] == b)
			return 1;
	}
	return 0;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	size_t chunk = 64 * 1024, i;
	unsigned char *buf = malloc(chunk);
	int fd = open(r->path, O_RDONLY);

	if (fd < 0 || !buf)
		die(r->path);
	while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
		uint64_t off;

		for (off = 0; off < r->len; off += chunk) {
			unsigned long s0, s1;
			uint64_t lo, hi;
			ssize_t n;

			s0 = __atomic_load_n(&r->state, __ATOMIC_SEQ_CST);
			n = pread(fd, buf, chunk, off);
			s1 = __atomic_load_n(&r->state, __ATOMIC_SEQ_CST);
			if (n < 0)
				die("pread");
			if (n == 0)
				break;
			lo = (s0 + 1) / 2;
			lo = lo > 1 ? lo - 1 : 1;
			hi = (s1 + 1) / 2;
			for (i = 0; i < (size_t)n; i += 8) {
				uint64_t k, w;
				size_t b;
				int ok = 0;

				memcpy(&w, buf + i, 8);
				if (!w)
					continue;
				for (k = lo; k <= hi && !ok; k++)
					ok = w == content_word(k, off + i);
				if (ok)
					continue;
				/* A word copied while the writer copied it. */
				for (b = 0; b < 8 && i + b < (size_t)n; b++)
					if (!race_byte_ok(buf[i + b], lo, hi, off + i + b))
						break;
				if (b < 8 && i + b < (size_t)n) {
					fprintf(stderr,
						"pcache_workload: %s: stale byte at offset %llu: 0x%02x, not of rounds %llu..%llu nor zero\n",
						r->path,
						(unsigned long long)(off + i + b),
						buf[i + b], (unsigned long long)lo,
						(unsigned long long)hi);
					__atomic_store_n(&r->bad, 1, __ATOMIC_SEQ_CST);
					__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
					goto out;
				}
			}
			__atomic_fetch_add(&r->reads, 1, __ATOMIC_SEQ_CST);
		}
	}
out:
	close(fd);
	free(buf);
	return NULL;
}

static int do_trunc_race(const char *path, size_t kib, int seconds)
{
	struct race r = { .path = path, .len = kib * 1024 };
	size_t chunk = 64 * 1024, done;
	pthread_t readers[2];
	unsigned char *buf;
	uint64_t k, rnd = 88172645463325252ULL;
	int fd, i;

	if (posix_memalign((void **)&buf, PAGE, chunk))
		die("posix_memalign");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	/* Round 1 before the readers start, so the file is never older. */
	r.state = 2;
	for (done = 0; done < r.len; done += chunk) {
		fill(buf, chunk, 1, done);
		if (pwrite(fd, buf, chunk, done) != (ssize_t)chunk)
			die("pwrite");
	}
	if (fdatasync(fd))
		die("fdatasync");
	r.end = now() + seconds;
	for (i = 0; i < 2; i++)
		if (pthread_create(&readers[i], NULL, race_reader, &r))
			die("pthread_create");
	for (k = 2; now() < r.end && !__atomic_load_n(&r.stop, __ATOMIC_SEQ_CST); k++) {
		off_t cut;

		rnd ^= rnd << 13; rnd ^= rnd >> 7; rnd ^= rnd << 17;
		/* Half on a page boundary, half inside a page. */
		cut = (rnd >> 8) % r.len;
		cut &= (rnd & 1) ? ~(off_t)(PAGE - 1) : ~(off_t)7;
		__atomic_store_n(&r.state, 2 * k - 1, __ATOMIC_SEQ_CST);
		if (ftruncate(fd, cut))
			die("ftruncate");
		__atomic_store_n(&r.state, 2 * k, __ATOMIC_SEQ_CST);
		if (ftruncate(fd, r.len))
			die("ftruncate");
		for (done = 0; done < r.len; done += chunk) {
			fill(buf, chunk, k, done);
			if (pwrite(fd, buf, chunk, done) != (ssize_t)chunk)
				die("pwrite");
		}
		if (fdatasync(fd))
			die("fdatasync");
		r.rounds++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 2; i++)
		pthread_join(readers[i], NULL);
	close(fd);
	free(buf);
	printf("trunc-race: %lu rounds, %lu chunk reads, %s\n", r.rounds,
	       r.reads, r.bad ? "STALE DATA" : "every byte checked");
	if (!r.rounds || !r.reads) {
		fprintf(stderr, "pcache_workload: trunc-race did not run\n");
		return 2;
	}
	return r.bad;
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
	uint64_t off = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	size_t len = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
	const char *content = getenv("PCACHE_WL_CONTENT");

	content_mixed = content && !strcmp(content, "mixed");
	if (argc == 6)
		seed = strtoull(argv[5], NULL, 0);

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
	if ((!strcmp(cmd, "write-at") || !strcmp(cmd, "odirect-at") ||
	     !strcmp(cmd, "verify-at") || !strcmp(cmd, "zeros")) &&
	    ((off | len) & 7)) {
		fprintf(stderr, "pcache_workload: OFF and LEN must be multiples of 8\n");
		return 2;
	}
	if (!strcmp(cmd, "write-at") && argc == 6)
		return do_write_at(argv[2], off, len, seed, 0);
	if (!strcmp(cmd, "odirect-at") && argc == 6)
		return do_write_at(argv[2], off, len, seed, O_DIRECT);
	if (!strcmp(cmd, "verify-at") && argc == 6)
		return do_verify_at(argv[2], off, len, seed, 0);
	if (!strcmp(cmd, "zeros") && argc == 5)
		return do_verify_at(argv[2], off, len, 0, 1);
	if (!strcmp(cmd, "anon-hold") && argc == 5)
		return do_anon_hold(strtoull(argv[2], NULL, 0),
				    strtoull(argv[3], NULL, 0), argv[4]);
	if (!strcmp(cmd, "trunc-race") && argc == 5)
		return do_trunc_race(argv[2], strtoull(argv[3], NULL, 0),
				     atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of pcache_workload.c\n");
	return 2;
}
