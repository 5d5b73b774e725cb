// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_fsx: a random-operation file exerciser after fsx.  It keeps a
 * model of the expected content of every file and checks every byte of the
 * file against it after every operation.  Each worker process owns one
 * file, so its model is exact.  Commands:
 *
 *   run DIR MODELDIR SECONDS NPROC SEED [MAXKIB]
 *		Fork NPROC workers for SECONDS seconds.  Worker i works on
 *		DIR/fsx.i, with its model in MODELDIR/fsx.i.model (meant for a
 *		tmpfs, e.g. /tmp or /dev/shm: it survives drop_caches and a
 *		umount and mount of DIR, not a reboot).  MAXKIB (default 512, a
 *		multiple of 4) is the largest size of a file.  A file whose
 *		model exists (from an earlier run) is continued from it, after
 *		checking that they match (the model's MAXKIB is kept);
 *		otherwise both are made empty.  DIR and MODELDIR are made if
 *		missing.  Prints one line, the sums over all workers:
 *		"fsx: workers=N ops=TOTAL read=.. write=.. mapread=..
 *		mapwrite=.. privwrite=.. truncate=.. punch=.. zero=.. falloc=..
 *		fsync=.. dwrite=.. dread=.. fork=.. mremap=.. bytes_verified=B
 *		bad=0" (ops counts the op of a fork's child too;
 *		bytes_verified, every byte compared with the model, by any
 *		path).  Operations the filesystem does not support (EOPNOTSUPP,
 *		or EINVAL on an O_DIRECT open) are left out, and named on
 *		stderr.
 *   check DIR MODELDIR NPROC
 *		Check every byte of DIR/fsx.0 .. DIR/fsx.<NPROC-1> against its
 *		model, by read(2) and by a fresh shared mapping (for after
 *		drop_caches, or a umount and mount).  Prints
 *		"fsx-check: files=N bytes_verified=B bad=0".
 *
 * Operations (with offsets and lengths up to 64 KiB picked at random:
 * page aligned or not, tiny, near or across end-of-file):
 *   read	pread(2) a range, maybe past end-of-file (a short read)
 *   write	pwrite(2) new data, may extend the file
 *   mapread	read a range of [0, size) through the worker's mapping
 *		(MAP_SHARED, MAXKIB long, kept for the whole run)
 *   mapwrite	write new data into [0, size) through it, sometimes msync
 *   privwrite	write new data into a fresh MAP_PRIVATE mapping (sometimes
 *		read first), check it shows the data and the file does not
 *   truncate	ftruncate(2) to a random size (shrink or extend)
 *   punch	fallocate(PUNCH_HOLE | KEEP_SIZE)
 *   zero	fallocate(ZERO_RANGE), with or without KEEP_SIZE
 *   falloc	fallocate(0) or fallocate(KEEP_SIZE)
 *   fsync	fsync(2) or fdatasync(2), sometimes then
 *		posix_fadvise(DONTNEED) of the whole file
 *   dwrite	O_DIRECT pwrite(2) of whole pages (another fd), may extend
 *   dread	O_DIRECT pread(2) of whole pages, sometimes across
 *		end-of-file
 *   fork	fork a child that does one of the above on the same fds,
 *		mapping and model (MAP_SHARED, so the parent sees the
 *		update), checks the whole file and exits
 *   mremap	move the worker's mapping (MREMAP_FIXED onto a fresh
 *		PROT_NONE reservation) and check it; worker i with i % 3 == 1
 *		does this often
 * Every 32nd op the worker moves to a random CPU, so that on a NUMA
 * machine each file is read and written from every node.
 * After every op the whole file is checked by pread(2) (and its size by
 * fstat(2)), every 16th op also through the worker's mapping.  Written
 * data is pseudo-random, new for every op and never a zero byte, so stale
 * data, holes and zeros all show.
 *
 * The model, MODELDIR/fsx.i.model: a 4096-byte header (magic, the file's
 * size, MAXKIB in bytes, the number of ops done on the file and a log of
 * the last 16 of them), then MAXKIB KiB of the expected content, zeros
 * beyond the size.  On a mismatch, the worker (or check) prints the op
 * number, the first and last bad offsets, the expected and the found
 * bytes there, the file size and the last 16 ops (kind, offset, length,
 * size after).
 *
 * A SIGBUS in a worker prints the address and the op; it is a mismatch,
 * unless the filesystem is full (then an error, ENOSPC in a fault).  The
 * model is updated after each op succeeds, so after a run that ended in an
 * error, or was killed, a file may not match its model any more.
 *
 * Exit status: 0 when every byte checked was right, 1 on a mismatch (bad=
 * above 0; a worker killed by a signal counts as one), 2 on a usage or
 * system error (any unexpected failure of a system call, ENOSPC too: the
 * call and errno are printed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define __noreturn	__attribute__((noreturn))
#define __aligned(x)	__attribute__((aligned(x)))

#define PAGE		4096UL
#define HDR		4096UL		/* model header, before the content */
#define MAXLEN		(64 * 1024UL)	/* longest range of an op */
#define RING		16		/* ops in the model's log */
#define FSX_MAGIC	0x3130305853464350ULL	/* "PCFSX001" */

/*
 * FSX_BREAK_MODEL, a test of the test (never in a normal build): with 1,
 * the model forgets that a shrinking truncate zeros what was cut off;
 * with 2, it gets one byte of every 64th write wrong.  Either must make a
 * run report bad > 0 and exit 1.
 */
#ifndef FSX_BREAK_MODEL
#define FSX_BREAK_MODEL 0
#endif

enum kind {
	K_READ, K_WRITE, K_MAPREAD, K_MAPWRITE, K_PRIVWRITE, K_TRUNCATE,
	K_PUNCH, K_ZERO, K_FALLOC, K_FSYNC, K_DWRITE, K_DREAD, K_FORK,
	K_MREMAP, NKINDS
};

static const char *const kind_name[NKINDS] = {
	"read", "write", "mapread", "mapwrite", "privwrite", "truncate",
	"punch", "zero", "falloc", "fsync", "dwrite", "dread", "fork",
	"mremap",
};

static const unsigned int base_weight[NKINDS] = {
	[K_READ] = 10, [K_WRITE] = 12, [K_MAPREAD] = 6, [K_MAPWRITE] = 6,
	[K_PRIVWRITE] = 3, [K_TRUNCATE] = 5, [K_PUNCH] = 3, [K_ZERO] = 3,
	[K_FALLOC] = 3, [K_FSYNC] = 2, [K_DWRITE] = 4, [K_DREAD] = 4,
	[K_FORK] = 2, [K_MREMAP] = 1,
};

#define MREMAP_OFTEN	8	/* the mremap weight of worker i, i % 3 == 1 */

/* Variants of an op, in the log. */
#define V_KEEP		1	/* FALLOC_FL_KEEP_SIZE */
#define V_MSYNC		2	/* mapwrite: then msync(MS_SYNC) */
#define V_DATASYNC	4	/* fsync: fdatasync */
#define V_DONTNEED	8	/* fsync: then posix_fadvise(DONTNEED) */
#define V_PREFAULT	16	/* privwrite: read the mapping first */
#define V_EOF		32	/* dread: across end-of-file */

/* Operations found unsupported (struct stats.unsup). */
#define U_PUNCH		1
#define U_ZERO		2
#define U_FALLOC	4
#define U_DIRECT	8

struct logent {
	uint64_t opno;
	uint32_t kind;
	uint32_t variant;
	uint64_t off;
	uint64_t len;
	uint64_t size;		/* after the op (before, while it runs) */
};

struct model_hdr {
	uint64_t magic;
	uint64_t size;		/* of the file */
	uint64_t maxsize;	/* bytes of content after the header */
	uint64_t opno;		/* ops done on the file, over all runs */
	struct logent ring[RING];	/* op n in ring[n % RING] */
};

_Static_assert(sizeof(struct model_hdr) <= HDR, "model header too big");

/* Per worker, in a shared anonymous mapping made before the fork. */
struct stats {
	unsigned long ops[NKINDS];
	unsigned long bytes_verified;
	unsigned long bad;
	unsigned int unsup;
} __aligned(64);

struct worker {
	int id;
	int in_child;		/* the child of a fork op */
	int in_op;		/* ring[hdr->opno % RING] is an op running */
	int fd;
	int dfd;		/* O_DIRECT, or -1 */
	size_t maxsize;
	unsigned char *map;	/* MAP_SHARED over maxsize bytes */
	struct model_hdr *hdr;
	unsigned char *model;	/* the expected content, zero beyond size */
	unsigned char *buf;	/* MAXLEN, page aligned: data to write */
	unsigned char *rbuf;	/* maxsize + PAGE, page aligned: reads */
	uint64_t rng;
	unsigned int weight[NKINDS];
	struct stats *st;
	char who[64];
};

enum { OP_SKIP = -1, OP_DONE, OP_LOGGED };

static void die(const char *what)
{
	fprintf(stderr, "pcache_fsx: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline size_t max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* splitmix64 */
static inline uint64_t rnd(struct worker *w)
{
	w->rng += 0x9e3779b97f4a7c15ULL;
	return mix64(w->rng);
}

static inline size_t rnd_below(struct worker *w, size_t n)
{
	return n ? rnd(w) % n : 0;
}

/* New pseudo-random data, never a zero byte. */
static void fill_random(struct worker *w, unsigned char *p, size_t len)
{
	uint64_t s = rnd(w);
	size_t i, b;

	for (i = 0; i < len; i += 8) {
		uint64_t x;

		s += 0x9e3779b97f4a7c15ULL;
		x = mix64(s);
		for (b = 0; b < 8 && i + b < len; b++, x >>= 8)
			p[i + b] = (x & 0xff) ? (x & 0xff) : 0xa5;
	}
}

static const char *variant_str(unsigned int v)
{
	static char s[64];

	snprintf(s, sizeof(s), "%s%s%s%s%s%s",
		 v & V_KEEP ? "+keep" : "", v & V_MSYNC ? "+msync" : "",
		 v & V_DATASYNC ? "+datasync" : "",
		 v & V_DONTNEED ? "+dontneed" : "",
		 v & V_PREFAULT ? "+prefault" : "", v & V_EOF ? "+eof" : "");
	return s;
}

/* The last RING ops of the log, and the running one if @in_op. */
static void print_log(const char *who, const struct model_hdr *h, int in_op)
{
	uint64_t end = h->opno + (in_op ? 1 : 0);
	uint64_t n = end > RING ? end - RING : 0;

	fprintf(stderr, "pcache_fsx: %s: last ops, oldest first:\n", who);
	for (; n < end; n++) {
		const struct logent *e = &h->ring[n % RING];

		if (e->opno != n || e->kind >= NKINDS)
			continue;
		fprintf(stderr,
			"  op %llu %s%s off %#llx len %#llx size %#llx%s\n",
			(unsigned long long)n, kind_name[e->kind],
			variant_str(e->variant), (unsigned long long)e->off,
			(unsigned long long)e->len, (unsigned long long)e->size,
			in_op && n == h->opno ? " (running, size before)" : "");
	}
}

/* "op N" while op N runs, "after op N" when it is done. */
static const char *when(const struct model_hdr *h, int in_op)
{
	static char s[48];

	if (in_op)
		snprintf(s, sizeof(s), "op %llu", (unsigned long long)h->opno);
	else if (h->opno)
		snprintf(s, sizeof(s), "after op %llu",
			 (unsigned long long)h->opno - 1);
	else
		snprintf(s, sizeof(s), "before any op");
	return s;
}

static void dump(const char *who, const char *label, const unsigned char *p,
		 size_t base, size_t from, size_t to)
{
	size_t i;

	fprintf(stderr, "pcache_fsx: %s: %s at %#zx:", who, label, base + from);
	for (i = from; i < to; i++)
		fprintf(stderr, " %02x", p[i]);
	fputc('\n', stderr);
}

/*
 * Compare @got with @want, @len bytes at file offset @base; on a mismatch
 * print where and the log, and return 1.
 */
static int compare(const char *who, const struct model_hdr *h, int in_op,
		   const char *how, size_t base, const unsigned char *want,
		   const unsigned char *got, size_t len)
{
	size_t first, last, nbad = 0, i, from, to;

	if (!memcmp(want, got, len))
		return 0;
	for (first = 0; want[first] == got[first]; first++)
		;
	for (last = len - 1; want[last] == got[last]; last--)
		;
	for (i = first; i <= last; i++)
		nbad += want[i] != got[i];
	fprintf(stderr,
		"pcache_fsx: %s: %s: %s: MISMATCH: %zu bad bytes in [%#zx, %#zx), first bad offset %#zx (%zu): expected 0x%02x, got 0x%02x; last bad %#zx; file size %#llx (%llu)\n",
		who, when(h, in_op), how, nbad, base, base + len,
		base + first, base + first, want[first], got[first],
		base + last, (unsigned long long)h->size,
		(unsigned long long)h->size);
	from = first & ~15UL;
	to = min_sz(from + 16, len);
	dump(who, "expected", want, base, from, to);
	dump(who, "got     ", got, base, from, to);
	print_log(who, h, in_op);
	return 1;
}

/* A size that is not the model's (@what: how it was found). */
static void size_mismatch(const char *who, const struct model_hdr *h,
			  int in_op, const char *how, const char *what,
			  unsigned long long got)
{
	fprintf(stderr,
		"pcache_fsx: %s: %s: %s: MISMATCH: %s %llu (%#llx), expected file size %llu (%#llx)\n",
		who, when(h, in_op), how, what, got, got,
		(unsigned long long)h->size, (unsigned long long)h->size);
	print_log(who, h, in_op);
}

/*
 * pread(2) the whole file, and one page more (must read nothing), into
 * @buf; check the size and every byte against the model.
 */
static int check_file(const char *who, const struct model_hdr *h, int in_op,
		      const char *how, int fd, unsigned char *buf,
		      const unsigned char *model, unsigned long *verified)
{
	size_t size = h->size, done = 0;
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	if ((unsigned long long)st.st_size != size) {
		size_mismatch(who, h, in_op, how, "fstat size",
			      (unsigned long long)st.st_size);
		return 1;
	}
	for (;;) {
		ssize_t r = pread(fd, buf + done, size + PAGE - done, done);

		if (r < 0) {
			fprintf(stderr, "pcache_fsx: %s: %s: pread: %s\n",
				who, how, strerror(errno));
			exit(2);
		}
		if (!r)
			break;
		done += r;
		if (done > size)
			break;
	}
	if (done != size) {
		size_mismatch(who, h, in_op, how, "read(2) got bytes", done);
		return 1;
	}
	if (compare(who, h, in_op, how, 0, model, buf, size))
		return 1;
	*verified += size;
	return 0;
}

/* Worker side: system errors exit 2, mismatches exit 1. */

static void __noreturn fail_sys(struct worker *w, const char *what)
{
	int e = errno;

	fprintf(stderr, "pcache_fsx: %s: %s: %s: %s (errno %d)\n", w->who,
		when(w->hdr, w->in_op), what, strerror(e), e);
	exit(2);
}

/* A short write: the model gets what was written, for a later check. */
static void __noreturn fail_short(struct worker *w, const char *what,
				  size_t off, ssize_t r, size_t len)
{
	memcpy(w->model + off, w->buf, r);
	if (off + r > w->hdr->size)
		w->hdr->size = off + r;
	fprintf(stderr, "pcache_fsx: %s: %s: %s: short: %zd of %zu bytes\n",
		w->who, when(w->hdr, w->in_op), what, r, len);
	exit(2);
}

static void __noreturn fail_bad(struct worker *w)
{
	w->st->bad++;
	exit(1);
}

/* @got, @len bytes of the file at @off, must be the model's. */
static void check_mem(struct worker *w, const char *how, size_t off,
		      const unsigned char *got, size_t len)
{
	if (compare(w->who, w->hdr, w->in_op, how, off, w->model + off, got,
		    len))
		fail_bad(w);
	w->st->bytes_verified += len;
}

static void check_read(struct worker *w, const char *how)
{
	if (check_file(w->who, w->hdr, w->in_op, how, w->fd, w->rbuf,
		       w->model, &w->st->bytes_verified))
		fail_bad(w);
}

static void check_map(struct worker *w, const char *how)
{
	check_mem(w, how, 0, w->map, w->hdr->size);
}

/* A length: tiny, whole pages, or anything up to MAXLEN. */
static size_t pick_len(struct worker *w)
{
	switch (rnd_below(w, 8)) {
	case 0:
		return 1 + rnd_below(w, 16);
	case 1:
	case 2:
		return PAGE * (1 + rnd_below(w, MAXLEN / PAGE));
	default:
		return 1 + rnd_below(w, MAXLEN);
	}
}

/* An offset below @limit (> 0): page aligned, near end-of-file, or any. */
static size_t pick_off(struct worker *w, size_t limit)
{
	long long o;

	switch (rnd_below(w, 8)) {
	case 0:
	case 1:
		o = rnd_below(w, limit) & ~(PAGE - 1);
		break;
	case 2:
	case 3:
		o = (long long)w->hdr->size - 2 * PAGE + rnd_below(w, 4 * PAGE);
		break;
	case 4:
	case 5:			/* not too far past end-of-file */
		o = rnd_below(w, min_sz(limit, w->hdr->size + MAXLEN));
		break;
	default:
		o = rnd_below(w, limit);
		break;
	}
	if (o < 0)
		o = 0;
	if ((size_t)o >= limit)	/* near the end of [0, limit) instead */
		o = limit - 1 - rnd_below(w, min_sz(limit, 2 * PAGE));
	return o;
}

/* A range within [0, @limit), @limit > 0. */
static void pick_range(struct worker *w, size_t limit, size_t *off,
		       size_t *len)
{
	*off = pick_off(w, limit);
	*len = min_sz(pick_len(w), limit - *off);
}

/* A range of whole pages within [0, @limit), @limit >= PAGE. */
static void pick_pages(struct worker *w, size_t limit, size_t *off,
		       size_t *len)
{
	size_t pages = limit / PAGE, p;

	if (rnd_below(w, 4))
		p = rnd_below(w, pages);
	else	/* the last pages */
		p = pages - 1 - rnd_below(w, min_sz(pages, 4));
	*off = p * PAGE;
	*len = min_sz(PAGE * (1 + rnd_below(w, MAXLEN / PAGE)), limit - *off);
}

static void set_size(struct worker *w, size_t size)
{
	w->hdr->size = size;
}

static int op_read(struct worker *w, struct logent *e)
{
	size_t size = w->hdr->size, off, len, want;
	ssize_t r;

	pick_range(w, w->maxsize, &off, &len);
	e->off = off;
	e->len = len;
	r = pread(w->fd, w->rbuf, len, off);
	if (r < 0)
		fail_sys(w, "read: pread");
	want = off >= size ? 0 : min_sz(len, size - off);
	if ((size_t)r != want) {
		size_mismatch(w->who, w->hdr, 1, "read", "pread returned",
			      (unsigned long long)r);
		fail_bad(w);
	}
	check_mem(w, "read", off, w->rbuf, r);
	return OP_DONE;
}

/* pwrite(2) new data over [off, off + len) through @fd, and the model. */
static void write_new(struct worker *w, struct logent *e, int fd,
		      size_t off, size_t len, const char *what)
{
	ssize_t r;

	e->off = off;
	e->len = len;
	fill_random(w, w->buf, len);
	r = pwrite(fd, w->buf, len, off);
	if (r < 0)
		fail_sys(w, what);
	if ((size_t)r != len)
		fail_short(w, what, off, r, len);
	memcpy(w->model + off, w->buf, len);
	set_size(w, max_sz(w->hdr->size, off + len));
}

static int op_write(struct worker *w, struct logent *e)
{
	size_t off, len;

	pick_range(w, w->maxsize, &off, &len);
	write_new(w, e, w->fd, off, len, "write: pwrite");
	if (FSX_BREAK_MODEL == 2 && e->opno % 64 == 0)
		w->model[off] ^= 0x01;
	return OP_DONE;
}

static int op_mapread(struct worker *w, struct logent *e)
{
	size_t off, len;

	if (!w->hdr->size)
		return OP_SKIP;
	pick_range(w, w->hdr->size, &off, &len);
	e->off = off;
	e->len = len;
	check_mem(w, "mapread", off, w->map + off, len);
	return OP_DONE;
}

static int op_mapwrite(struct worker *w, struct logent *e)
{
	size_t off, len, start;

	if (!w->hdr->size)
		return OP_SKIP;
	pick_range(w, w->hdr->size, &off, &len);
	e->off = off;
	e->len = len;
	fill_random(w, w->buf, len);
	memcpy(w->map + off, w->buf, len);
	memcpy(w->model + off, w->buf, len);
	if (rnd_below(w, 2)) {
		e->variant |= V_MSYNC;
		start = off & ~(PAGE - 1);
		if (msync(w->map + start, off + len - start, MS_SYNC))
			fail_sys(w, "mapwrite: msync");
	}
	return OP_DONE;
}

static int op_privwrite(struct worker *w, struct logent *e)
{
	size_t size = w->hdr->size, off, len, plen;
	unsigned char *p;

	if (!size)
		return OP_SKIP;
	plen = (size + PAGE - 1) & ~(PAGE - 1);
	p = mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_PRIVATE, w->fd, 0);
	if (p == MAP_FAILED)
		fail_sys(w, "privwrite: mmap");
	pick_range(w, size, &off, &len);
	e->off = off;
	e->len = len;
	if (rnd_below(w, 2)) {
		e->variant |= V_PREFAULT;
		check_mem(w, "privwrite: private mapping before", 0, p, size);
	}
	fill_random(w, w->buf, len);
	memcpy(p + off, w->buf, len);
	check_mem(w, "privwrite: private mapping before the range", 0, p, off);
	if (compare(w->who, w->hdr, 1, "privwrite: private mapping's new data",
		    off, w->buf, p + off, len))
		fail_bad(w);
	w->st->bytes_verified += len;
	check_mem(w, "privwrite: private mapping after the range", off + len,
		  p + off + len, size - off - len);
	if (munmap(p, plen))
		fail_sys(w, "privwrite: munmap");
	/* the file must not have changed: through the shared mapping */
	check_mem(w, "privwrite: shared mapping", off, w->map + off, len);
	return OP_DONE;
}

static int op_truncate(struct worker *w, struct logent *e)
{
	size_t size = w->hdr->size, max = w->maxsize, ns;

	switch (rnd_below(w, 16)) {
	case 0:
		ns = 0;
		break;
	case 1 ... 4:		/* shrink a little */
		ns = size - rnd_below(w, min_sz(size, 2 * PAGE) + 1);
		break;
	case 5 ... 7:		/* grow a little */
		ns = min_sz(size + rnd_below(w, 2 * PAGE), max);
		break;
	case 8 ... 10:
		ns = rnd_below(w, max / PAGE + 1) * PAGE;
		break;
	default:		/* shrink: writes grow the file often enough */
		ns = rnd_below(w, size + 1);
		break;
	}
	e->off = ns;
	if (ftruncate(w->fd, ns))
		fail_sys(w, "truncate: ftruncate");
	if (ns < size && FSX_BREAK_MODEL != 1)
		memset(w->model + ns, 0, size - ns);
	set_size(w, ns);
	return OP_DONE;
}

/* fallocate(2) @mode over a random range; OP_SKIP if not supported. */
static int do_fallocate(struct worker *w, struct logent *e, int mode,
			unsigned int unsup, const char *what)
{
	size_t off, len;

	if (w->st->unsup & unsup)
		return OP_SKIP;
	pick_range(w, w->maxsize, &off, &len);
	e->off = off;
	e->len = len;
	if (mode & FALLOC_FL_KEEP_SIZE)
		e->variant |= V_KEEP;
	if (fallocate(w->fd, mode, off, len)) {
		if (errno == EOPNOTSUPP) {
			w->st->unsup |= unsup;
			return OP_SKIP;
		}
		fail_sys(w, what);
	}
	/* beyond the size the model is zeros already */
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		memset(w->model + off, 0, len);
	if (!(mode & FALLOC_FL_KEEP_SIZE))
		set_size(w, max_sz(w->hdr->size, off + len));
	return OP_DONE;
}

static int op_punch(struct worker *w, struct logent *e)
{
	return do_fallocate(w, e, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    U_PUNCH, "punch: fallocate(PUNCH_HOLE|KEEP_SIZE)");
}

static int op_zero(struct worker *w, struct logent *e)
{
	if (rnd_below(w, 2))
		return do_fallocate(w, e, FALLOC_FL_ZERO_RANGE, U_ZERO,
				    "zero: fallocate(ZERO_RANGE)");
	return do_fallocate(w, e, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			    U_ZERO, "zero: fallocate(ZERO_RANGE|KEEP_SIZE)");
}

static int op_falloc(struct worker *w, struct logent *e)
{
	if (rnd_below(w, 2))
		return do_fallocate(w, e, 0, U_FALLOC, "falloc: fallocate(0)");
	return do_fallocate(w, e, FALLOC_FL_KEEP_SIZE, U_FALLOC,
			    "falloc: fallocate(KEEP_SIZE)");
}

static int op_fsync(struct worker *w, struct logent *e)
{
	int err;

	if (rnd_below(w, 2)) {
		e->variant |= V_DATASYNC;
		if (fdatasync(w->fd))
			fail_sys(w, "fsync: fdatasync");
	} else if (fsync(w->fd)) {
		fail_sys(w, "fsync: fsync");
	}
	if (rnd_below(w, 2)) {
		e->variant |= V_DONTNEED;
		err = posix_fadvise(w->fd, 0, 0, POSIX_FADV_DONTNEED);
		if (err) {
			errno = err;
			fail_sys(w, "fsync: posix_fadvise(DONTNEED)");
		}
	}
	return OP_DONE;
}

static int op_dwrite(struct worker *w, struct logent *e)
{
	size_t off, len;

	if (w->dfd < 0)
		return OP_SKIP;
	pick_pages(w, w->maxsize, &off, &len);
	write_new(w, e, w->dfd, off, len, "dwrite: O_DIRECT pwrite");
	return OP_DONE;
}

static int op_dread(struct worker *w, struct logent *e)
{
	size_t size = w->hdr->size, off, len, lo, hi;
	ssize_t r;

	if (w->dfd < 0 || size < PAGE)
		return OP_SKIP;
	if (rnd_below(w, 4) || !(size & (PAGE - 1))) {
		pick_pages(w, size & ~(PAGE - 1), &off, &len);
	} else {
		/* from a page at or before the one end-of-file is in */
		e->variant |= V_EOF;
		off = (size & ~(PAGE - 1)) - PAGE * rnd_below(w, 2);
		len = min_sz(PAGE * (1 + rnd_below(w, 4)), w->maxsize - off);
	}
	e->off = off;
	e->len = len;
	r = pread(w->dfd, w->rbuf, len, off);
	if (r < 0)
		fail_sys(w, "dread: O_DIRECT pread");
	/*
	 * Across end-of-file, iomap returns up to end-of-file; allow a
	 * filesystem to return the rest of the page too (the model has zeros
	 * there, as the file must).
	 */
	lo = min_sz(len, size - off);
	hi = min_sz(len, ((size + PAGE - 1) & ~(PAGE - 1)) - off);
	if ((size_t)r < lo || (size_t)r > hi) {
		size_mismatch(w->who, w->hdr, 1, "dread", "O_DIRECT pread returned",
			      (unsigned long long)r);
		fail_bad(w);
	}
	check_mem(w, "dread", off, w->rbuf, r);
	return OP_DONE;
}

static int op_mremap(struct worker *w, struct logent *e)
{
	void *res, *p;

	res = mmap(NULL, w->maxsize, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		fail_sys(w, "mremap: mmap(PROT_NONE) reservation");
	p = mremap(w->map, w->maxsize, w->maxsize,
		   MREMAP_MAYMOVE | MREMAP_FIXED, res);
	if (p == MAP_FAILED)
		fail_sys(w, "mremap");
	if (p == (void *)w->map || p != res) {
		fprintf(stderr, "pcache_fsx: %s: mremap: the mapping did not move\n",
			w->who);
		exit(2);
	}
	w->map = p;
	e->len = w->hdr->size;
	check_map(w, "mremap: moved mapping");
	return OP_DONE;
}

static int op_fork(struct worker *w, struct logent *e);

static int (*const op_fn[NKINDS])(struct worker *, struct logent *) = {
	[K_READ] = op_read, [K_WRITE] = op_write, [K_MAPREAD] = op_mapread,
	[K_MAPWRITE] = op_mapwrite, [K_PRIVWRITE] = op_privwrite,
	[K_TRUNCATE] = op_truncate, [K_PUNCH] = op_punch, [K_ZERO] = op_zero,
	[K_FALLOC] = op_falloc, [K_FSYNC] = op_fsync, [K_DWRITE] = op_dwrite,
	[K_DREAD] = op_dread, [K_FORK] = op_fork, [K_MREMAP] = op_mremap,
};

static int pick_kind(struct worker *w, int allow_fork)
{
	unsigned int sum = 0, wt[NKINDS], u = w->st->unsup, r;
	int k;

	for (k = 0; k < NKINDS; k++) {
		wt[k] = w->weight[k];
		if ((k == K_FORK && !allow_fork) ||
		    (k == K_PUNCH && (u & U_PUNCH)) ||
		    (k == K_ZERO && (u & U_ZERO)) ||
		    (k == K_FALLOC && (u & U_FALLOC)) ||
		    ((k == K_DWRITE || k == K_DREAD) && w->dfd < 0))
			wt[k] = 0;
		sum += wt[k];
	}
	r = rnd_below(w, sum);
	for (k = 0; r >= wt[k]; k++)
		r -= wt[k];
	return k;
}

/* The op in @e is done: its size after, and the next op number. */
static void finish_op(struct worker *w, struct logent *e, int kind)
{
	e->size = w->hdr->size;
	w->hdr->opno++;
	w->in_op = 0;
	w->st->ops[kind]++;
}

/* One random op (a fork only if @allow_fork), logged and counted. */
static void do_op(struct worker *w, int allow_fork)
{
	for (;;) {
		int kind = pick_kind(w, allow_fork), r;
		struct logent *e = &w->hdr->ring[w->hdr->opno % RING];

		memset(e, 0, sizeof(*e));
		e->opno = w->hdr->opno;
		e->kind = kind;
		e->size = w->hdr->size;
		w->in_op = 1;
		r = op_fn[kind](w, e);
		if (r == OP_SKIP)
			continue;
		if (r == OP_DONE)
			finish_op(w, e, kind);
		return;
	}
}

/* The checks after an op. */
static void post_check(struct worker *w)
{
	check_read(w, "check by pread");
	if (w->in_child || !(w->hdr->opno % 16))
		check_map(w, "check by the shared mapping");
}

static int op_fork(struct worker *w, struct logent *e)
{
	uint64_t seed = rnd(w);
	int status;
	pid_t pid;

	finish_op(w, e, K_FORK);	/* before the child's op */
	pid = fork();
	if (pid < 0)
		fail_sys(w, "fork");
	if (!pid) {
		w->in_child = 1;
		w->rng = seed;
		snprintf(w->who, sizeof(w->who), "worker %d (fork child)",
			 w->id);
		do_op(w, 0);
		post_check(w);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail_sys(w, "fork: waitpid");
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return OP_LOGGED;
	if (WIFSIGNALED(status)) {
		fprintf(stderr,
			"pcache_fsx: %s: the child of fork op %llu was killed by signal %d (%s)\n",
			w->who, (unsigned long long)e->opno, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
		print_log(w->who, w->hdr, 1);	/* with the child's op */
		fail_bad(w);
	}
	/* the child said why */
	exit(WIFEXITED(status) && WEXITSTATUS(status) == 1 ? 1 : 2);
}

static struct worker *sigbus_worker;

/*
 * A SIGBUS from a mapping of the file: say where and in which op.  It is
 * a failure (exit 1), unless the filesystem is full: then it is most
 * likely ENOSPC in a fault (exit 2).
 */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct worker *w = sigbus_worker;
	struct statvfs sv;
	int full = !fstatvfs(w->fd, &sv) && !sv.f_bavail;

	(void)sig;
	(void)uc;
	fprintf(stderr,
		"pcache_fsx: %s: %s: SIGBUS at %p (the shared mapping is at %p, %#zx bytes), file size %#llx%s\n",
		w->who, when(w->hdr, w->in_op), si->si_addr, (void *)w->map,
		w->maxsize, (unsigned long long)w->hdr->size,
		full ? ": the filesystem is full (ENOSPC in a fault?)" : "");
	print_log(w->who, w->hdr, w->in_op);
	if (!full)
		w->st->bad++;
	_exit(full ? 2 : 1);
}

/* Open (continue) or make the file and its model. */
static void worker_setup(struct worker *w, const char *dir,
			 const char *mdir, size_t maxsize)
{
	char path[4096], mpath[4096];
	struct model_hdr h;
	struct stat st;
	int mfd, fresh = 0;
	void *p;

	snprintf(path, sizeof(path), "%s/fsx.%d", dir, w->id);
	snprintf(mpath, sizeof(mpath), "%s/fsx.%d.model", mdir, w->id);
	mfd = open(mpath, O_RDWR);
	if (mfd >= 0) {
		if (fstat(mfd, &st))
			die(mpath);
		if (pread(mfd, &h, sizeof(h), 0) != sizeof(h) ||
		    h.magic != FSX_MAGIC || !h.maxsize || h.maxsize % PAGE ||
		    h.size > h.maxsize ||
		    (unsigned long long)st.st_size != HDR + h.maxsize) {
			fprintf(stderr, "pcache_fsx: %s: not a model\n", mpath);
			exit(2);
		}
		if (access(path, F_OK)) {
			if (errno != ENOENT)
				die(path);
			fprintf(stderr,
				"pcache_fsx: %s: no %s: making both empty\n",
				w->who, path);
			close(mfd);
			fresh = 1;
		} else if (h.maxsize != maxsize) {
			fprintf(stderr,
				"pcache_fsx: %s: continuing with the model's MAXKIB %llu\n",
				w->who, (unsigned long long)h.maxsize / 1024);
			maxsize = h.maxsize;
		}
	} else if (errno == ENOENT) {
		fresh = 1;
		if (!access(path, F_OK))
			fprintf(stderr,
				"pcache_fsx: %s: no %s: making both empty\n",
				w->who, mpath);
	} else {
		die(mpath);
	}
	if (fresh) {
		mfd = open(mpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (mfd < 0 || ftruncate(mfd, HDR + maxsize))
			die(mpath);
	}
	w->fd = open(path, O_RDWR | O_CREAT | (fresh ? O_TRUNC : 0), 0644);
	if (w->fd < 0)
		die(path);
	w->maxsize = maxsize;
	p = mmap(NULL, HDR + maxsize, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		 0);
	if (p == MAP_FAILED)
		die("mmap model");
	close(mfd);
	w->hdr = p;
	w->model = (unsigned char *)p + HDR;
	if (fresh) {
		w->hdr->size = 0;
		w->hdr->maxsize = maxsize;
		w->hdr->opno = 0;
		w->hdr->magic = FSX_MAGIC;
	}

	w->dfd = open(path, O_RDWR | O_DIRECT);
	if (w->dfd < 0) {
		if (errno != EINVAL)
			die("open O_DIRECT");
		w->st->unsup |= U_DIRECT;
	}
	w->map = mmap(NULL, maxsize, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
		      0);
	if (w->map == MAP_FAILED)
		die("mmap file");
	if (posix_memalign((void **)&w->buf, PAGE, MAXLEN) ||
	    posix_memalign((void **)&w->rbuf, PAGE, maxsize + PAGE)) {
		errno = ENOMEM;
		die("posix_memalign");
	}
}

/*
 * Every MOVE_EVERY ops the worker moves to a random CPU, so that on a
 * NUMA machine its file's pages, cached on the node that first touched
 * them, are also read and written from the other nodes (what page cache
 * replication acts on).
 */
#define MOVE_EVERY	32

static void move_cpu(struct worker *w)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (n <= 1)
		return;
	CPU_ZERO(&set);
	CPU_SET(rnd_below(w, n), &set);
	/* an offline or forbidden CPU just leaves the worker where it is */
	sched_setaffinity(0, sizeof(set), &set);
}

static int worker_main(int id, const char *dir, const char *mdir,
		       size_t maxsize, uint64_t seed, double deadline,
		       struct stats *st)
{
	struct worker w = { .id = id, .st = st };
	struct sigaction sa = {
		.sa_sigaction = on_sigbus,
		.sa_flags = SA_SIGINFO,
	};
	int k;

	snprintf(w.who, sizeof(w.who), "worker %d", id);
	worker_setup(&w, dir, mdir, maxsize);
	sigbus_worker = &w;
	if (sigaction(SIGBUS, &sa, NULL))
		die("sigaction");
	for (k = 0; k < NKINDS; k++)
		w.weight[k] = base_weight[k];
	if (id % 3 == 1)
		w.weight[K_MREMAP] = MREMAP_OFTEN;
	/* a continued run must not repeat the data of the last one */
	w.rng = mix64(seed ^ mix64(id + 1) ^ mix64(w.hdr->opno << 20));

	check_read(&w, "start: check by pread");
	check_map(&w, "start: check by the shared mapping");
	while (now() < deadline) {
		if (!(w.hdr->opno % MOVE_EVERY))
			move_cpu(&w);
		do_op(&w, 1);
		post_check(&w);
	}
	return 0;
}

static unsigned long long parse_num(const char *s, unsigned long long lo,
				    unsigned long long hi, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "pcache_fsx: bad %s: %s (%llu..%llu)\n", what, s,
			lo, hi);
		exit(2);
	}
	return v;
}

/* mkdir -p */
static void make_dir(const char *dir)
{
	size_t i, n = strlen(dir);
	char path[4096];

	if (!n || n >= sizeof(path)) {
		errno = EINVAL;
		die(dir);
	}
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] && path[i] != '/')
			continue;
		path[i] = 0;
		if (mkdir(path, 0755) && errno != EEXIST)
			die(path);
		path[i] = dir[i];
	}
}

static int cmd_run(int argc, char **argv)
{
	const char *dir = argv[2], *mdir = argv[3];
	unsigned long long seconds = parse_num(argv[4], 0, 1000000, "SECONDS");
	int nproc = parse_num(argv[5], 1, 1024, "NPROC");
	uint64_t seed = parse_num(argv[6], 0, ~0ULL, "SEED");
	size_t maxkib = argc > 7 ? parse_num(argv[7], 4, 1 << 20, "MAXKIB") :
			512;
	unsigned long ops[NKINDS] = { 0 }, total = 0, verified = 0, bad = 0;
	unsigned int unsup = 0;
	int i, k, failed = 0, errors = 0;
	struct stats *st;
	double deadline;
	pid_t *pids;

	if (maxkib % 4) {
		fprintf(stderr, "pcache_fsx: MAXKIB must be a multiple of 4\n");
		return 2;
	}
	make_dir(dir);
	make_dir(mdir);
	st = mmap(NULL, nproc * sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		die("mmap stats");
	pids = calloc(nproc, sizeof(*pids));
	if (!pids)
		die("calloc");
	deadline = now() + seconds;
	fflush(stdout);
	for (i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i])
			exit(worker_main(i, dir, mdir, maxkib * 1024, seed,
					 deadline, &st[i]));
	}
	for (i = 0; i < nproc; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (WIFSIGNALED(status)) {
			fprintf(stderr,
				"pcache_fsx: worker %d (pid %d) was killed by signal %d (%s)\n",
				i, (int)pids[i], WTERMSIG(status),
				strsignal(WTERMSIG(status)));
			bad++;
			failed = 1;
		} else if (WEXITSTATUS(status) == 1) {
			failed = 1;
		} else if (WEXITSTATUS(status)) {
			errors = 1;
		}
	}
	for (i = 0; i < nproc; i++) {
		for (k = 0; k < NKINDS; k++) {
			ops[k] += st[i].ops[k];
			total += st[i].ops[k];
		}
		verified += st[i].bytes_verified;
		bad += st[i].bad;
		unsup |= st[i].unsup;
	}
	free(pids);
	if (failed && !bad)
		bad = 1;
	printf("fsx: workers=%d ops=%lu", nproc, total);
	for (k = 0; k < NKINDS; k++)
		printf(" %s=%lu", kind_name[k], ops[k]);
	printf(" bytes_verified=%lu bad=%lu\n", verified, bad);
	if (unsup)
		fprintf(stderr, "pcache_fsx: not supported here, left out:%s%s%s%s\n",
			unsup & U_PUNCH ? " punch" : "",
			unsup & U_ZERO ? " zero" : "",
			unsup & U_FALLOC ? " falloc" : "",
			unsup & U_DIRECT ? " dwrite dread (O_DIRECT)" : "");
	return bad ? 1 : errors ? 2 : 0;
}

/* Check one file by read(2) and a fresh mapping; the number of bad checks. */
static int check_one(const char *dir, const char *mdir, int id,
		     unsigned long *verified)
{
	char path[4096], mpath[4096], who[64];
	unsigned char *buf, *m = NULL;
	const struct model_hdr *h;
	struct stat st;
	int fd, mfd, bad = 0;
	void *p;

	snprintf(path, sizeof(path), "%s/fsx.%d", dir, id);
	snprintf(mpath, sizeof(mpath), "%s/fsx.%d.model", mdir, id);
	snprintf(who, sizeof(who), "check fsx.%d", id);
	mfd = open(mpath, O_RDONLY);
	if (mfd < 0 || fstat(mfd, &st))
		die(mpath);
	if ((size_t)st.st_size < HDR) {
		fprintf(stderr, "pcache_fsx: %s: not a model\n", mpath);
		exit(2);
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED)
		die("mmap model");
	close(mfd);
	h = p;
	if (h->magic != FSX_MAGIC || !h->maxsize || h->size > h->maxsize ||
	    (unsigned long long)st.st_size != HDR + h->maxsize) {
		fprintf(stderr, "pcache_fsx: %s: not a model\n", mpath);
		exit(2);
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	buf = malloc(h->maxsize + PAGE);
	if (!buf)
		die("malloc");
	if (check_file(who, h, 0, "check by read", fd, buf,
		       (const unsigned char *)p + HDR, verified)) {
		bad++;
	} else if (h->size) {
		m = mmap(NULL, h->size, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			die("mmap file");
		if (compare(who, h, 0, "check by a fresh shared mapping", 0,
			    (const unsigned char *)p + HDR, m, h->size))
			bad++;
		else
			*verified += h->size;
		munmap(m, h->size);
	}
	free(buf);
	close(fd);
	munmap(p, st.st_size);
	return bad;
}

static int cmd_check(char **argv)
{
	int nproc = parse_num(argv[4], 1, 1024, "NPROC"), i;
	unsigned long verified = 0, bad = 0;

	for (i = 0; i < nproc; i++)
		bad += check_one(argv[2], argv[3], i, &verified);
	printf("fsx-check: files=%d bytes_verified=%lu bad=%lu\n", nproc,
	       verified, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "run") && (argc == 7 || argc == 8))
		return cmd_run(argc, argv);
	if (!strcmp(cmd, "check") && argc == 5)
		return cmd_check(argv);
	fprintf(stderr,
		"usage: pcache_fsx run DIR MODELDIR SECONDS NPROC SEED [MAXKIB]\n"
		"       pcache_fsx check DIR MODELDIR NPROC\n"
		"(see the comment at the top of pcache_fsx.c)\n");
	return 2;
}
