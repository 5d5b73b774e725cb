// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_fork: checks for pcache fork-on-write (a write to a page under
 * writeback gets a copy of the page instead of waiting for the I/O, as
 * stable writes make it do): no data is ever lost, stale, torn or
 * reordered, and how long such writes take.  "sfr" below is
 * sync_file_range(SYNC_FILE_RANGE_WRITE): it starts the writeback of the
 * dirty pages of a range without waiting, which is how pages are put under
 * writeback on purpose.
 *
 * Blocks are 4096 bytes.  A written block is a 32-byte header, then
 * payload:
 *	u32 magic 0x504b4657 ("PKFW"), u32 file_id, u32 block (index in its
 *	file), u32 seq (strictly increasing per writer process, from 1),
 *	u32 writer, u32 crc32 (standard reflected CRC-32, poly 0xEDB88320, of
 *	the 4096 bytes with this field taken as 0), u64 reserved 0;
 *	payload: xorshift64 output seeded from (file_id, block, seq, writer),
 *	so every block can be made again.
 * A block never written (a hole, truncated away, punched) reads as zeros.
 * file_id: torture DIR/f<w> w + 1, DIR/shared 1000 (written first by the
 * parent as writer 0); stable 3000; pin-* A 3001, B 3002; fsync-raw 3003;
 * hot 3004; inflight 3005.  Modes other than torture write as writer 1.
 *
 *   stable FILE N
 *		Write block 0, fsync; N times: pwrite block 0, sfr it, pwrite
 *		it again at once (only this pwrite is timed), fsync (untimed);
 *		then check that block 0 is the last write.  Prints
 *		"stable_p50_us X", "stable_max_us X", "stable_min_us X"
 *		(integers).  With PCACHE_FORK_MAKE_IT_FAIL set in the
 *		environment, the loop runs with /proc/self/make-it-fail 1
 *		(fail_page_alloc's task filter).
 *   torture DIR NPROC ITERS SEED MODELDIR
 *		Integrity torture with NPROC forked workers, ITERS ops each;
 *		MODELDIR (on another filesystem, made if missing) gets the
 *		expected content of the files in DIR.  See below.
 *   verify DIR MODELDIR
 *		Every MODELDIR/f<w> and MODELDIR/shared must equal
 *		DIR/<same name>: size and bytes, by read(2).  Prints
 *		"verify_files N", "verify_blocks N", "verify_mismatches M" and
 *		the first 10 bad blocks.
 *   fiemap FILE OUT
 *		Write to OUT "logical_block physical_byte_offset" for each
 *		4 KiB block of FILE that is wholly mapped on disk,
 *		contiguously: FS_IOC_FIEMAP with FIEMAP_FLAG_SYNC, or FIBMAP
 *		(fs block size from st_blksize, needs root) where there is no
 *		FIEMAP.  Extents flagged unknown, delalloc or unwritten (or
 *		encoded, encrypted, not aligned, inline, tail) are skipped,
 *		with a "# skipped" line.  Prints "fiemap_blocks N",
 *		"fiemap_skipped N".
 *   rawcheck DEV MAPFILE MODELFILE
 *		After the filesystem is unmounted: for each line of MAPFILE
 *		(from fiemap) whose block of MODELFILE has the magic (others
 *		are skipped: holes, never written), read the block at its
 *		physical offset of DEV with O_DIRECT.  It is "same"; "stale"
 *		(valid header and crc, same file_id and block, and the same
 *		writer with a lower seq, or writer 0, the first content of
 *		DIR/shared, where the model's writer is not 0); "torn" (the
 *		magic but a wrong crc); or "other".  Prints "raw_checked N",
 *		"raw_same N", "raw_stale N", "raw_torn N", "raw_other N",
 *		"raw_skipped N".
 *   pin-dio DIR ROUNDS
 *		DIR/pinA and DIR/pinB, one block each, written and fsynced; A
 *		is mapped shared.  Each round: pwrite A = X; a thread does an
 *		O_DIRECT pwrite to B from A's mapping (A's page is pinned
 *		while it runs); 500 us after it started, sfr A and pwrite
 *		A = Y at once; join.  A must read Y, B (read with O_DIRECT)
 *		X, Y or bytes of both
 *		(the DIO reads the page while the writer fills it).  Prints
 *		"pin_rounds N", "pin_a_bad N", "pin_b_bad N".
 *   pin-vmsplice DIR ROUNDS
 *		The same A.  Each round: pwrite A = X; sfr A; vmsplice A's
 *		mapping into a pipe (no SPLICE_F_GIFT: the pipe holds A's
 *		page); pwrite A = Y; the pipe must give X or Y, and A must
 *		read Y.  Prints "vmsplice_rounds N", "vmsplice_a_bad N",
 *		"vmsplice_pipe_bad N".
 *   fsync-raw DIR DEV ROUNDS
 *		DIR/fs: 8 blocks, written and fsynced; their physical offsets
 *		found as fiemap does.  Round r, block r % 8: pwrite A_r; sfr;
 *		pwrite B_r; make it durable by method r % 5: fsync, fdatasync,
 *		osync (the B_r pwrite itself goes through an O_SYNC fd),
 *		sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER), syncfs.
 *		Then the block read from DEV with O_DIRECT must be B_r.
 *		Prints "fsync_rounds N", "fsync_bad N" and
 *		"fsync_bad_<method> N" for each method.
 *   hot FILE NPAGES ITERS EVERY MODE
 *		FILE: NPAGES blocks, fsynced.  ITERS times: 64 random bytes at
 *		a random offset of page i % NPAGES, by pwrite (MODE "write")
 *		or by a store to a shared mapping (MODE "mmap"), each timed;
 *		after every EVERY writes (0: never) an sfr of the whole file,
 *		untimed.  Then fsync, and every page must hold what was
 *		written last.  Prints "hot_p50_us X.X", "hot_p99_us X.X",
 *		"hot_max_us X.X", "hot_total_ms X.X" (the timed ops),
 *		"hot_ops_per_s X" (ITERS / wall time of the loop),
 *		"hot_bad N".  With PCACHE_FORK_HOT_CDF=PATH in the
 *		environment, also writes every timed op's latency to PATH,
 *		sorted, as "us fraction" lines (a CDF).
 *   inflight FILE NPAGES MODEL
 *		Write NPAGES blocks, fsync; write the final content to MODEL;
 *		pwrite all the blocks again, sfr the file, pwrite them all a
 *		third time (each write hits a page under writeback) and exit
 *		at once, without fsync.  Prints "inflight_written NPAGES".
 *   cmp FILE MODEL
 *		Compare FILE with MODEL block by block.  Prints
 *		"cmp_blocks N", "cmp_mismatch_blocks N"; a mismatch if the
 *		sizes differ.
 *
 * torture: the parent writes DIR/shared (NPROC * 16 blocks, write(2),
 * fsync), maps it shared and forks NPROC workers, which inherit the
 * mapping.  Worker w (writer w + 1) owns DIR/f<w> (file_id w + 1, empty at
 * first, at most 64 blocks; mapped shared once, 64 blocks long, stores
 * only below its size) and blocks [16w, 16w + 16) of DIR/shared, and keeps
 * their expected content.  An odd worker moves its mapping of f<w> with
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) at op ITERS / 4 and every 512 ops.
 * ITERS ops, picked at random (seeded from SEED and w):
 *	30% pwrite 1-3 whole blocks anywhere in [0, 64) (a gap reads as zeros)
 *	20% pwrite a block, sfr it, pwrite it again at once (the forked case)
 *	10% store a whole block through the mapping below the size (a write
 *	    if the file is empty), half of the time right after an sfr of it
 *	 5% msync(MS_SYNC) of the mapping
 *	 8% pwrite or store one block of its region of DIR/shared, half of
 *	    the time right after an sfr of it
 *	 7% ftruncate to [0, 64] blocks
 *	 7% fallocate of 1-4 blocks below the size: one in five
 *	    COLLAPSE_RANGE (the tail moves down; not to the end of the file),
 *	    one in five ZERO_RANGE | KEEP_SIZE, else (or where those fail)
 *	    PUNCH_HOLE | KEEP_SIZE (a write if the file is empty; zeros
 *	    written by pwrite instead where punching is EOPNOTSUPP: ext2)
 *	 5% fsync, 3% fdatasync, 5% sfr of the whole file
 * Every 64 ops a random block of f<w> is checked by pread.  At the end each
 * worker checks all of f<w> (and its size) and its region of DIR/shared by
 * pread and through the mappings, prints "worker W ops N mismatches M" and
 * saves what it expects in MODELDIR/f<w> (the expected size) and
 * MODELDIR/shared.<w> (its 16 blocks).  The parent prints "torture_ops N",
 * "torture_mismatches N", "torture_punch_zero_writes N" and writes
 * MODELDIR/shared, the whole expected DIR/shared.  A bad block is shown
 * as "# mismatch file F block B: expected seq S writer W, found magic M
 * seq S2 writer W2" (the first 10 of each process).
 *
 * Exit status: 0 when every check was right, 1 when a data check failed,
 * 2 on a usage or system error (printed on stderr).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BS		4096UL
#define MAGIC		0x504b4657U
#define FILE_BLOCKS	64	/* torture: the most blocks of f<w> */
#define REGION		16	/* torture: DIR/shared blocks per worker */
#define MAX_NPROC	256
#define MAX_PRINT	10	/* "# mismatch" lines printed per process */
#define FSYNC_BLOCKS	8

#define FID_SHARED	1000
#define FID_STABLE	3000
#define FID_PIN_A	3001
#define FID_PIN_B	3002
#define FID_FSYNC	3003
#define FID_HOT		3004
#define FID_INFLIGHT	3005

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE	0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE	0x02
#endif
#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE	0x08
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE	0x10
#endif

struct bhdr {
	uint32_t magic;
	uint32_t file_id;
	uint32_t block;
	uint32_t seq;
	uint32_t writer;
	uint32_t crc;
	uint64_t reserved;
};

_Static_assert(sizeof(struct bhdr) == 32, "block header is 32 bytes");

static int printed;	/* "# mismatch" lines printed so far */

static void die(const char *what)
{
	fprintf(stderr, "pcache_fork: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("pcache_fork: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pcache_fork stable FILE N\n"
		"       pcache_fork torture DIR NPROC ITERS SEED MODELDIR\n"
		"       pcache_fork verify DIR MODELDIR\n"
		"       pcache_fork fiemap FILE OUT\n"
		"       pcache_fork rawcheck DEV MAPFILE MODELFILE\n"
		"       pcache_fork pin-dio DIR ROUNDS\n"
		"       pcache_fork pin-vmsplice DIR ROUNDS\n"
		"       pcache_fork fsync-raw DIR DEV ROUNDS\n"
		"       pcache_fork hot FILE NPAGES ITERS EVERY write|mmap\n"
		"       pcache_fork inflight FILE NPAGES MODEL\n"
		"       pcache_fork cmp FILE MODEL\n"
		"(see the comment at the top of pcache_fork.c)\n");
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- random numbers ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd_next(s) % n;
}

static uint64_t rnd_seed(uint64_t a, uint64_t b)
{
	uint64_t s = mix64(a ^ mix64(b));

	return s ? s : 1;
}

/* ---- blocks ---- */

static uint32_t crc_tab[256];

static void crc_init(void)
{
	uint32_t c, i, k;

	for (i = 0; i < 256; i++) {
		for (c = i, k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320U : c >> 1;
		crc_tab[i] = c;
	}
}

static uint32_t crc_update(uint32_t c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--)
		c = crc_tab[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

/* CRC-32 of a block with its crc field taken as 0. */
static uint32_t block_crc(const void *blk)
{
	static const uint8_t zero[4];
	const uint8_t *b = blk;
	size_t o = offsetof(struct bhdr, crc);
	uint32_t c = 0xffffffffU;

	c = crc_update(c, b, o);
	c = crc_update(c, zero, sizeof(zero));
	c = crc_update(c, b + o + 4, BS - o - 4);
	return ~c;
}

static void make_block(void *blk, uint32_t file_id, uint32_t block,
		       uint32_t seq, uint32_t writer)
{
	struct bhdr h = {
		.magic = MAGIC, .file_id = file_id, .block = block,
		.seq = seq, .writer = writer,
	};
	uint64_t s = rnd_seed((uint64_t)file_id << 32 | block,
			      (uint64_t)seq << 32 | writer);
	uint8_t *b = blk;
	size_t i;

	memcpy(b, &h, sizeof(h));
	for (i = sizeof(h); i < BS; i += 8) {
		uint64_t x = rnd_next(&s);

		memcpy(b + i, &x, 8);
	}
	h.crc = block_crc(b);
	memcpy(b + offsetof(struct bhdr, crc), &h.crc, sizeof(h.crc));
}

static struct bhdr header_of(const void *blk)
{
	struct bhdr h;

	if (blk)
		memcpy(&h, blk, sizeof(h));
	else
		memset(&h, 0, sizeof(h));
	return h;
}

/* "# mismatch" line; @expect and @found are blocks (NULL: zeros). */
static void print_mismatch(const char *file, uint64_t block,
			   const void *expect, const void *found)
{
	struct bhdr e = header_of(expect), f = header_of(found);

	if (printed++ >= MAX_PRINT)
		return;
	printf("# mismatch file %s block %" PRIu64 ": expected seq %u writer %u, found magic 0x%08x seq %u writer %u\n",
	       file, block, e.seq, e.writer, f.magic, f.seq, f.writer);
}

static void *xalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, BS, len ? len : BS))
		fail("out of memory (%zu bytes)", len);
	memset(p, 0, len);
	return p;
}

/* ---- plain file I/O ---- */

static int xopen(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags, mode);

	if (fd < 0)
		die(path);
	return fd;
}

static void xpwrite(int fd, const void *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0)
			die("pwrite");
		if (!n)
			fail("pwrite: wrote nothing");
		buf = (const char *)buf + n;
		len -= n;
		off += n;
	}
}

/* pread up to @len at @off; bytes read (less at EOF). */
static size_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + got);

		if (n < 0)
			die("pread");
		if (!n)
			break;
		got += n;
	}
	return got;
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

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = xopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	xpwrite(fd, buf, len, 0);
	if (close(fd))
		die(path);
}

static void sfr(int fd, uint64_t off, uint64_t len)
{
	if (sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE))
		die("sync_file_range");
}

static void xfsync(int fd)
{
	if (fsync(fd))
		die("fsync");
}

/*
 * Create @path with @nblocks blocks of @file_id (writer 1, seqs from
 * *@seq), a copy in @model if not NULL; fsync.  The fd, open O_RDWR.
 */
static int create_blocks(const char *path, uint32_t file_id, size_t nblocks,
			 uint32_t *seq, uint8_t *model)
{
	uint8_t *buf = xalloc(16 * BS);
	size_t b, i;
	int fd = xopen(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	for (b = 0; b < nblocks; b += 16) {
		size_t k = nblocks - b < 16 ? nblocks - b : 16;

		for (i = 0; i < k; i++)
			make_block(buf + i * BS, file_id, b + i, ++*seq, 1);
		xpwrite(fd, buf, k * BS, b * BS);
		if (model)
			memcpy(model + b * BS, buf, k * BS);
	}
	xfsync(fd);
	free(buf);
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile @p (nearest rank) of the sorted @v[@n]. */
static uint64_t pct(const uint64_t *v, size_t n, unsigned int p)
{
	size_t rank = (n * p + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

/* ---- stable ---- */

static int do_stable(const char *path, uint64_t n)
{
	uint8_t *buf = xalloc(BS), *got = xalloc(BS);
	uint64_t *t, i;
	uint32_t seq = 0;
	int fd, bad = 0;

	if (!n)
		usage();
	t = calloc(n, sizeof(*t));
	if (!t)
		die("calloc");
	fd = xopen(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	make_block(buf, FID_STABLE, 0, ++seq, 1);
	xpwrite(fd, buf, BS, 0);
	xfsync(fd);
	if (getenv("PCACHE_FORK_MAKE_IT_FAIL")) {
		/* fail_page_alloc's task filter: this task's allocations. */
		int mf = xopen("/proc/self/make-it-fail", O_WRONLY, 0);

		if (write(mf, "1", 1) != 1)
			die("/proc/self/make-it-fail");
		close(mf);
	}
	for (i = 0; i < n; i++) {
		uint64_t t0;

		make_block(buf, FID_STABLE, 0, ++seq, 1);
		xpwrite(fd, buf, BS, 0);
		sfr(fd, 0, BS);
		make_block(buf, FID_STABLE, 0, ++seq, 1);
		t0 = now_ns();
		xpwrite(fd, buf, BS, 0);
		t[i] = now_ns() - t0;
		xfsync(fd);
	}
	if (pread_full(fd, got, BS, 0) != BS || memcmp(got, buf, BS)) {
		print_mismatch(path, 0, buf, got);
		bad = 1;
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("stable_p50_us %" PRIu64 "\n", pct(t, n, 50) / 1000);
	printf("stable_max_us %" PRIu64 "\n", t[n - 1] / 1000);
	printf("stable_min_us %" PRIu64 "\n", t[0] / 1000);
	close(fd);
	free(t);
	free(buf);
	free(got);
	return bad;
}

/* ---- torture ---- */

enum {
	OP_WRITE, OP_REWRITE, OP_STORE, OP_MSYNC, OP_SHARED, OP_TRUNC,
	OP_PUNCH, OP_FSYNC, OP_FDATASYNC, OP_SFR, NR_OPS
};

static const char * const op_names[NR_OPS] = {
	"write", "rewrite_wb", "mmap_store", "msync", "shared", "truncate",
	"punch", "fsync", "fdatasync", "sfr",
};

static const unsigned int op_pct[NR_OPS] = {
	30, 20, 10, 5, 8, 7, 7, 5, 3, 5,
};

/* Per worker, in shared memory: read by the parent at the end. */
struct wstat {
	uint64_t ops, mismatches, pread_bad, mmap_bad, punch_zero, moves;
	uint64_t stores_wb;	/* mmap stores right after an sfr */
	uint64_t zero_range, collapse;	/* fallocate ranges done */
	uint64_t n[NR_OPS];
};

struct worker {
	int w, fd, shfd;
	uint32_t fid, id, seq;
	uint64_t rnd;
	char name[16];
	uint8_t *model;		/* FILE_BLOCKS blocks expected in f<w> */
	size_t size;		/* expected size of f<w>, bytes */
	uint8_t *map;		/* shared mapping of f<w>, FILE_BLOCKS */
	uint8_t *shmap;		/* inherited mapping of DIR/shared */
	uint8_t *shmodel;	/* expected DIR/shared (own region used) */
	unsigned int first;	/* first block of the own region */
	uint8_t *buf;		/* scratch, 4 blocks */
	struct wstat *st;
};

/* pwrite @k blocks at @b of f<w> (cut at FILE_BLOCKS). */
static void w_write(struct worker *wk, unsigned int b, unsigned int k)
{
	unsigned int i;

	if (b + k > FILE_BLOCKS)
		k = FILE_BLOCKS - b;
	for (i = 0; i < k; i++)
		make_block(wk->buf + i * BS, wk->fid, b + i, ++wk->seq, wk->id);
	xpwrite(wk->fd, wk->buf, k * BS, b * BS);
	memcpy(wk->model + b * BS, wk->buf, k * BS);
	if ((b + k) * BS > wk->size)
		wk->size = (b + k) * BS;
}

static void w_random_write(struct worker *wk)
{
	unsigned int b = rnd_below(&wk->rnd, FILE_BLOCKS);

	w_write(wk, b, 1 + rnd_below(&wk->rnd, 3));
	wk->st->n[OP_WRITE]++;
}

static void w_store(struct worker *wk)
{
	size_t nblk = wk->size / BS;
	unsigned int b;

	if (!nblk) {
		w_random_write(wk);
		return;
	}
	b = rnd_below(&wk->rnd, nblk);
	if (rnd_next(&wk->rnd) & 1) {
		sfr(wk->fd, b * BS, BS);
		wk->st->stores_wb++;
	}
	make_block(wk->buf, wk->fid, b, ++wk->seq, wk->id);
	memcpy(wk->map + b * BS, wk->buf, BS);
	memcpy(wk->model + b * BS, wk->buf, BS);
	wk->st->n[OP_STORE]++;
}

static void w_shared(struct worker *wk)
{
	unsigned int b = wk->first + rnd_below(&wk->rnd, REGION);
	uint64_t x = rnd_next(&wk->rnd);

	if (x & 1)
		sfr(wk->shfd, b * BS, BS);
	make_block(wk->buf, FID_SHARED, b, ++wk->seq, wk->id);
	if (x & 2)
		xpwrite(wk->shfd, wk->buf, BS, b * BS);
	else
		memcpy(wk->shmap + b * BS, wk->buf, BS);
	memcpy(wk->shmodel + b * BS, wk->buf, BS);
	wk->st->n[OP_SHARED]++;
}

static void w_truncate(struct worker *wk)
{
	size_t size = rnd_below(&wk->rnd, FILE_BLOCKS + 1) * BS;

	if (ftruncate(wk->fd, size))
		die("ftruncate");
	if (size < wk->size)
		memset(wk->model + size, 0, wk->size - size);
	wk->size = size;
	wk->st->n[OP_TRUNC]++;
}

static void w_punch(struct worker *wk)
{
	size_t nblk = wk->size / BS, b, k, x;

	if (!nblk) {
		w_random_write(wk);
		return;
	}
	b = rnd_below(&wk->rnd, nblk);
	k = 1 + rnd_below(&wk->rnd, 4);
	if (b + k > nblk)
		k = nblk - b;
	x = rnd_below(&wk->rnd, 10);
	/* One in five: collapse the range (the tail moves down). */
	if (x < 2 && b + k < nblk &&
	    !fallocate(wk->fd, FALLOC_FL_COLLAPSE_RANGE, b * BS, k * BS)) {
		memmove(wk->model + b * BS, wk->model + (b + k) * BS,
			wk->size - (b + k) * BS);
		wk->size -= k * BS;
		memset(wk->model + wk->size, 0, k * BS);
		wk->st->collapse++;
		wk->st->n[OP_PUNCH]++;
		return;
	}
	/* One in five: zero the range. */
	if (x >= 2 && x < 4 &&
	    !fallocate(wk->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		       b * BS, k * BS)) {
		memset(wk->model + b * BS, 0, k * BS);
		wk->st->zero_range++;
		wk->st->n[OP_PUNCH]++;
		return;
	}
	if (fallocate(wk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      b * BS, k * BS)) {
		if (errno != EOPNOTSUPP)
			die("fallocate(PUNCH_HOLE)");
		memset(wk->buf, 0, k * BS);
		xpwrite(wk->fd, wk->buf, k * BS, b * BS);
		wk->st->punch_zero++;
	}
	memset(wk->model + b * BS, 0, k * BS);
	wk->st->n[OP_PUNCH]++;
}

/* Move the mapping of f<w>: mremap(MREMAP_MAYMOVE | MREMAP_FIXED). */
static void w_move(struct worker *wk)
{
	size_t len = FILE_BLOCKS * BS;
	void *dst, *n;

	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		die("mmap (reserve)");
	n = mremap(wk->map, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (n == MAP_FAILED)
		die("mremap");
	if (n == (void *)wk->map)
		fail("mremap did not move the mapping");
	wk->map = n;
	wk->st->moves++;
}

/* pread block @b of @fd: @want bytes (BS or 0) equal to @expect? */
static int check_pread(int fd, const char *name, size_t b,
		       const uint8_t *expect, size_t want, uint8_t *buf)
{
	size_t n = pread_full(fd, buf, BS, b * BS);

	if (n == want && (!want || !memcmp(buf, expect, BS)))
		return 0;
	memset(buf + n, 0, BS - n);
	print_mismatch(name, b, expect, buf);
	return 1;
}

static int check_mapped(const char *name, size_t b, const uint8_t *map,
			const uint8_t *expect)
{
	if (!memcmp(map, expect, BS))
		return 0;
	print_mismatch(name, b, expect, map);
	return 1;
}

/* All of f<w> and of the own region, by pread and through the mappings. */
static void w_final_check(struct worker *wk)
{
	struct wstat *st = wk->st;
	size_t nblk = wk->size / BS, b;
	struct stat sb;

	if (fstat(wk->fd, &sb))
		die("fstat");
	if ((uint64_t)sb.st_size != wk->size) {
		printf("# mismatch file %s: size %lld, expected %zu\n",
		       wk->name, (long long)sb.st_size, wk->size);
		st->pread_bad++;
	}
	for (b = 0; b < FILE_BLOCKS; b++)
		st->pread_bad += check_pread(wk->fd, wk->name, b,
					     wk->model + b * BS,
					     b < nblk ? BS : 0, wk->buf);
	for (b = 0; b < nblk; b++)
		st->mmap_bad += check_mapped(wk->name, b, wk->map + b * BS,
					     wk->model + b * BS);
	for (b = wk->first; b < wk->first + REGION; b++) {
		st->pread_bad += check_pread(wk->shfd, "shared", b,
					     wk->shmodel + b * BS, BS,
					     wk->buf);
		st->mmap_bad += check_mapped("shared", b, wk->shmap + b * BS,
					     wk->shmodel + b * BS);
	}
}

static void worker_main(struct worker *wk, const char *dir, uint64_t iters,
			uint64_t seed, const char *modeldir)
{
	struct wstat *st = wk->st;
	char path[PATH_MAX];
	uint64_t i;
	int odd = wk->w & 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(wk->name, sizeof(wk->name), "f%d", wk->w);
	snprintf(path, sizeof(path), "%s/%s", dir, wk->name);
	wk->fd = xopen(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	wk->fid = wk->w + 1;
	wk->id = wk->w + 1;
	wk->rnd = rnd_seed(seed, wk->w + 1);
	wk->model = xalloc(FILE_BLOCKS * BS);
	wk->buf = xalloc(4 * BS);
	wk->map = mmap(NULL, FILE_BLOCKS * BS, PROT_READ | PROT_WRITE,
		       MAP_SHARED, wk->fd, 0);
	if (wk->map == MAP_FAILED)
		die("mmap");

	for (i = 0; i < iters; i++) {
		unsigned int x = rnd_below(&wk->rnd, 100), op;

		if (odd && (i == iters / 4 || i % 512 == 511))
			w_move(wk);
		for (op = 0; x >= op_pct[op]; op++)
			x -= op_pct[op];
		switch (op) {
		case OP_WRITE:
			w_random_write(wk);
			break;
		case OP_REWRITE: {
			unsigned int b = rnd_below(&wk->rnd, FILE_BLOCKS);

			w_write(wk, b, 1);
			sfr(wk->fd, b * BS, BS);
			w_write(wk, b, 1);
			st->n[op]++;
			break;
		}
		case OP_STORE:
			w_store(wk);
			break;
		case OP_MSYNC:
			if (msync(wk->map, FILE_BLOCKS * BS, MS_SYNC))
				die("msync");
			st->n[op]++;
			break;
		case OP_SHARED:
			w_shared(wk);
			break;
		case OP_TRUNC:
			w_truncate(wk);
			break;
		case OP_PUNCH:
			w_punch(wk);
			break;
		case OP_FSYNC:
			xfsync(wk->fd);
			st->n[op]++;
			break;
		case OP_FDATASYNC:
			if (fdatasync(wk->fd))
				die("fdatasync");
			st->n[op]++;
			break;
		default:
			sfr(wk->fd, 0, 0);
			st->n[OP_SFR]++;
			break;
		}
		st->ops++;
		if (st->ops % 64 == 0) {
			size_t b = rnd_below(&wk->rnd, FILE_BLOCKS);

			st->pread_bad += check_pread(wk->fd, wk->name, b,
						     wk->model + b * BS,
						     b < wk->size / BS ? BS : 0,
						     wk->buf);
		}
	}
	if (odd && !st->moves)
		w_move(wk);

	w_final_check(wk);
	st->mismatches = st->pread_bad + st->mmap_bad;
	printf("worker %d ops %" PRIu64 " mismatches %" PRIu64 "\n",
	       wk->w, st->ops, st->mismatches);
	printf("# worker %d pread_mismatches %" PRIu64 " mmap_mismatches %" PRIu64 " size %zu seq %u moves %" PRIu64 "\n",
	       wk->w, st->pread_bad, st->mmap_bad, wk->size, wk->seq,
	       st->moves);

	snprintf(path, sizeof(path), "%s/%s", modeldir, wk->name);
	write_file(path, wk->model, wk->size);
	snprintf(path, sizeof(path), "%s/shared.%d", modeldir, wk->w);
	write_file(path, wk->shmodel + wk->first * BS, REGION * BS);
	exit(st->mismatches ? 1 : 0);
}

/* A worker whose op count stands still this long is hung. */
#define STALL_S		120

/* What a hung task is doing: its state, wait channel and kernel stack. */
static void show_task(pid_t pid)
{
	static const char *const files[] = { "stat", "wchan", "stack" };
	char path[64], line[512];
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			printf("#   %s: %s%s", files[i], line,
			       strchr(line, '\n') ? "" : "\n");
		fclose(f);
	}
}

/*
 * Reap the workers.  One whose op count has not moved for STALL_S while
 * it had ops left is hung (a fault that retries for ever, a lost wakeup):
 * show what it is doing, kill every worker still running and fail, rather
 * than wait for the selftest's timeout.  Returns 1 if a worker hung, died
 * or failed, else 0.
 */
static int torture_wait(pid_t *pids, uint64_t nproc, struct wstat *st,
			uint64_t iters)
{
	uint64_t last[MAX_NPROC], since[MAX_NPROC], killed = 0;
	int done[MAX_NPROC] = { 0 }, left = (int)nproc, err = 0, w, x;

	for (w = 0; w < (int)nproc; w++) {
		last[w] = 0;
		since[w] = now_ns();
	}
	while (left) {
		for (w = 0; w < (int)nproc; w++) {
			uint64_t ops, t = now_ns();
			int status;
			pid_t r;

			if (done[w])
				continue;
			r = waitpid(pids[w], &status, WNOHANG);
			if (r < 0)
				die("waitpid");
			if (r == pids[w]) {
				done[w] = 1;
				left--;
				if (killed)
					continue;
				if (WIFSIGNALED(status)) {
					fprintf(stderr,
						"pcache_fork: worker %d killed by signal %d\n",
						w, WTERMSIG(status));
					err = 1;
				} else if (WEXITSTATUS(status) > 1) {
					fprintf(stderr,
						"pcache_fork: worker %d failed (exit %d)\n",
						w, WEXITSTATUS(status));
					err = 1;
				}
				continue;
			}
			ops = __atomic_load_n(&st[w].ops, __ATOMIC_RELAXED);
			if (ops != last[w]) {
				last[w] = ops;
				since[w] = t;
			} else if (killed && t - killed > 30ULL * 1000000000) {
				/* Unkillable (in D state): leave it. */
				printf("# worker %d does not die; left behind\n", w);
				done[w] = 1;
				left--;
			} else if (!killed && ops < iters &&
				   t - since[w] >= STALL_S * 1000000000ULL) {
				printf("torture_hung 1\n");
				printf("# worker %d (pid %d) made no progress for %d s at op %" PRIu64 " of %" PRIu64 ": hung\n",
				       w, (int)pids[w], STALL_S, ops, iters);
				show_task(pids[w]);
				fflush(stdout);
				fprintf(stderr,
					"pcache_fork: worker %d hung at op %" PRIu64 "\n",
					w, ops);
				for (x = 0; x < (int)nproc; x++)
					if (!done[x])
						kill(pids[x], SIGKILL);
				killed = t;
				err = 1;
			}
		}
		if (left)
			sleep_us(200000);
	}
	return err;
}

static int do_torture(const char *dir, uint64_t nproc, uint64_t iters,
		      uint64_t seed, const char *modeldir)
{
	struct wstat *st, sum = { 0 };
	char path[PATH_MAX];
	uint8_t *shmodel, *shmap;
	size_t nb, b;
	uint32_t seq = 0;
	pid_t *pids;
	int shfd, w, op, err = 0;

	if (!nproc || nproc > MAX_NPROC)
		usage();
	if (mkdir(modeldir, 0755) && errno != EEXIST)
		die(modeldir);

	/* DIR/shared, written once by write(2) (writer 0), fsync, mapped. */
	nb = nproc * REGION;
	shmodel = xalloc(nb * BS);
	for (b = 0; b < nb; b++)
		make_block(shmodel + b * BS, FID_SHARED, b, ++seq, 0);
	snprintf(path, sizeof(path), "%s/shared", dir);
	shfd = xopen(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	for (b = 0; b < nb * BS;) {
		ssize_t n = write(shfd, shmodel + b, nb * BS - b);

		if (n <= 0)
			die("write");
		b += n;
	}
	xfsync(shfd);
	shmap = mmap(NULL, nb * BS, PROT_READ | PROT_WRITE, MAP_SHARED,
		     shfd, 0);
	if (shmap == MAP_FAILED)
		die("mmap");

	st = mmap(NULL, nproc * sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		die("mmap (stats)");
	pids = calloc(nproc, sizeof(*pids));
	if (!pids)
		die("calloc");

	for (w = 0; w < (int)nproc; w++) {
		fflush(NULL);
		pids[w] = fork();
		if (pids[w] < 0)
			die("fork");
		if (!pids[w]) {
			struct worker wk = {
				.w = w, .shfd = shfd, .shmap = shmap,
				.shmodel = shmodel, .first = w * REGION,
				.st = &st[w],
			};

			worker_main(&wk, dir, iters, seed, modeldir);
		}
	}
	err = torture_wait(pids, nproc, st, iters);
	for (w = 0; w < (int)nproc; w++) {
		sum.ops += st[w].ops;
		sum.mismatches += st[w].mismatches;
		sum.punch_zero += st[w].punch_zero;
		sum.stores_wb += st[w].stores_wb;
		sum.zero_range += st[w].zero_range;
		sum.collapse += st[w].collapse;
		for (op = 0; op < NR_OPS; op++)
			sum.n[op] += st[w].n[op];
	}
	printf("torture_ops %" PRIu64 "\n", sum.ops);
	printf("torture_mismatches %" PRIu64 "\n", sum.mismatches);
	printf("torture_punch_zero_writes %" PRIu64 "\n", sum.punch_zero);
	printf("# ops:");
	for (op = 0; op < NR_OPS; op++)
		printf(" %s %" PRIu64, op_names[op], sum.n[op]);
	printf(" (mmap stores after sfr %" PRIu64 ", of the punches zero_range %"
	       PRIu64 " collapse %" PRIu64 ")\n", sum.stores_wb,
	       sum.zero_range, sum.collapse);

	/* MODELDIR/shared from the pieces the workers wrote. */
	if (!err) {
		int out;

		snprintf(path, sizeof(path), "%s/shared", modeldir);
		out = xopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (w = 0; w < (int)nproc; w++) {
			int in;

			snprintf(path, sizeof(path), "%s/shared.%d", modeldir,
				 w);
			in = xopen(path, O_RDONLY, 0);
			if (read_full(in, shmodel, REGION * BS) != REGION * BS)
				fail("%s: short", path);
			close(in);
			xpwrite(out, shmodel, REGION * BS,
				(off_t)w * REGION * BS);
		}
		if (close(out))
			die("close");
	}
	free(pids);
	free(shmodel);
	if (sum.mismatches)
		return 1;
	return err ? 2 : 0;
}

/* ---- verify and cmp ---- */

/*
 * Compare @fd (the file named @name) with the model @mfd, block by block
 * through read(2).  Counts blocks and bad blocks; true if sizes differ.
 */
static int compare_files(const char *name, int fd, int mfd, uint64_t *blocks,
			 uint64_t *bad)
{
	uint8_t *a = xalloc(BS), *m = xalloc(BS);
	struct stat sa, sm;
	uint64_t b;
	int differ;

	if (fstat(fd, &sa) || fstat(mfd, &sm))
		die("fstat");
	differ = sa.st_size != sm.st_size;
	if (differ && printed < MAX_PRINT)
		printf("# mismatch file %s: size %lld, expected %lld\n", name,
		       (long long)sa.st_size, (long long)sm.st_size);
	if (lseek(fd, 0, SEEK_SET) || lseek(mfd, 0, SEEK_SET))
		die("lseek");
	for (b = 0;; b++) {
		size_t na = read_full(fd, a, BS), nm = read_full(mfd, m, BS);

		if (!na && !nm)
			break;
		(*blocks)++;
		if (na == nm && !memcmp(a, m, na))
			continue;
		(*bad)++;
		memset(a + na, 0, BS - na);
		memset(m + nm, 0, BS - nm);
		print_mismatch(name, b, m, a);
	}
	free(a);
	free(m);
	return differ;
}

/* Model files: "f<digits>" and "shared". */
static int model_name(const struct dirent *d)
{
	const char *s = d->d_name;

	if (!strcmp(s, "shared"))
		return 1;
	if (s[0] != 'f' || !s[1])
		return 0;
	for (s++; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int do_verify(const char *dir, const char *modeldir)
{
	uint64_t files = 0, blocks = 0, bad = 0;
	struct dirent **names;
	char path[PATH_MAX];
	int n, i;

	n = scandir(modeldir, &names, model_name, alphasort);
	if (n < 0)
		die(modeldir);
	if (!n)
		fail("%s: no model files (f<w>, shared)", modeldir);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		int fd, mfd;

		snprintf(path, sizeof(path), "%s/%s", modeldir, name);
		mfd = xopen(path, O_RDONLY, 0);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		fd = open(path, O_RDONLY);
		files++;
		if (fd < 0 && errno == ENOENT) {
			/* Lost: every model block is a mismatch. */
			struct stat sm;

			if (fstat(mfd, &sm))
				die("fstat");
			printf("# mismatch file %s: missing\n", name);
			blocks += (sm.st_size + BS - 1) / BS;
			bad += (sm.st_size + BS - 1) / BS + !sm.st_size;
		} else if (fd < 0) {
			die(path);
		} else {
			compare_files(name, fd, mfd, &blocks, &bad);
			close(fd);
		}
		close(mfd);
		free(names[i]);
	}
	free(names);
	printf("verify_files %" PRIu64 "\n", files);
	printf("verify_blocks %" PRIu64 "\n", blocks);
	printf("verify_mismatches %" PRIu64 "\n", bad);
	return bad ? 1 : 0;
}

static int do_cmp(const char *file, const char *model)
{
	uint64_t blocks = 0, bad = 0;
	int fd = xopen(file, O_RDONLY, 0), mfd = xopen(model, O_RDONLY, 0);
	int differ = compare_files(file, fd, mfd, &blocks, &bad);

	printf("cmp_blocks %" PRIu64 "\n", blocks);
	printf("cmp_mismatch_blocks %" PRIu64 "\n", bad);
	return bad || differ ? 1 : 0;
}

/* ---- fiemap ---- */

struct ext {
	uint64_t logical, physical, length;
};

struct extents {
	struct ext *e;
	size_t n, cap;
	unsigned int skipped;
	const char *method;
};

static void ext_add(struct extents *x, uint64_t logical, uint64_t physical,
		    uint64_t length)
{
	struct ext *p = x->n ? &x->e[x->n - 1] : NULL;

	if (p && p->logical + p->length == logical &&
	    p->physical + p->length == physical) {
		p->length += length;
		return;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->e = realloc(x->e, x->cap * sizeof(*x->e));
		if (!x->e)
			die("realloc");
	}
	x->e[x->n++] = (struct ext){ logical, physical, length };
}

#define FIEMAP_SKIP	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | \
			 FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_ENCODED | \
			 FIEMAP_EXTENT_DATA_ENCRYPTED | \
			 FIEMAP_EXTENT_NOT_ALIGNED | \
			 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL)

/* The extents of @fd by FS_IOC_FIEMAP; -1 if the fs has no FIEMAP. */
static int get_fiemap(int fd, struct extents *x)
{
	enum { NR = 128 };
	struct fiemap *fm = calloc(1, sizeof(*fm) +
				   NR * sizeof(struct fiemap_extent));
	uint64_t start = 0;
	int first = 1;

	if (!fm)
		die("calloc");
	for (;;) {
		struct fiemap_extent *fe;
		unsigned int i;
		int last = 0;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = NR;
		if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
			if (first && (errno == EOPNOTSUPP || errno == ENOTTY)) {
				free(fm);
				return -1;
			}
			die("ioctl(FS_IOC_FIEMAP)");
		}
		first = 0;
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			fe = &fm->fm_extents[i];
			if (fe->fe_flags & FIEMAP_SKIP) {
				x->skipped++;
				printf("# skipped extent logical %llu physical %llu length %llu flags 0x%x\n",
				       (unsigned long long)fe->fe_logical,
				       (unsigned long long)fe->fe_physical,
				       (unsigned long long)fe->fe_length,
				       fe->fe_flags);
			} else {
				ext_add(x, fe->fe_logical, fe->fe_physical,
					fe->fe_length);
			}
			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
		}
		fe = &fm->fm_extents[fm->fm_mapped_extents - 1];
		start = fe->fe_logical + fe->fe_length;
		if (last)
			break;
	}
	free(fm);
	x->method = "fiemap";
	return 0;
}

/* The extents of @fd by FIBMAP, fs block by fs block (needs root). */
static void get_fibmap(int fd, struct extents *x)
{
	struct statfs sfs;
	struct stat sb;
	uint64_t bsize, nblk, i;

	xfsync(fd);
	if (fstat(fd, &sb))
		die("fstat");
	bsize = sb.st_blksize;
	if (!bsize) {
		if (fstatfs(fd, &sfs))
			die("fstatfs");
		bsize = sfs.f_bsize;
	}
	if (!bsize)
		fail("no block size");
	nblk = (sb.st_size + bsize - 1) / bsize;
	if (nblk > INT_MAX)
		fail("file too large for FIBMAP");
	for (i = 0; i < nblk; i++) {
		int blk = i;

		if (ioctl(fd, FIBMAP, &blk))
			die("no FIEMAP; ioctl(FIBMAP)");
		if (blk)
			ext_add(x, i * bsize,
				(uint64_t)(unsigned int)blk * bsize, bsize);
	}
	x->method = "fibmap";
}

static void get_extents(int fd, struct extents *x)
{
	memset(x, 0, sizeof(*x));
	if (get_fiemap(fd, x))
		get_fibmap(fd, x);
}

/*
 * Physical byte offset of 4 KiB block @lb, or -1 if its bytes are not all
 * mapped or not contiguous on disk.  @x is sorted by logical offset.
 */
static int64_t block_phys(const struct extents *x, uint64_t lb)
{
	uint64_t pos = lb * BS, cur = pos;
	int64_t phys = -1;
	size_t i;

	while (cur < pos + BS) {
		const struct ext *e = NULL;
		uint64_t p;

		for (i = 0; i < x->n; i++)
			if (x->e[i].logical <= cur &&
			    cur < x->e[i].logical + x->e[i].length) {
				e = &x->e[i];
				break;
			}
		if (!e)
			return -1;
		p = e->physical + (cur - e->logical);
		if (cur == pos)
			phys = p;
		else if (p != (uint64_t)phys + (cur - pos))
			return -1;
		cur = e->logical + e->length;
	}
	return phys;
}

static int do_fiemap(const char *file, const char *out)
{
	uint64_t lb, next = 0, blocks = 0;
	struct extents x;
	size_t i;
	FILE *f;
	int fd = xopen(file, O_RDONLY, 0);

	get_extents(fd, &x);
	f = fopen(out, "w");
	if (!f)
		die(out);
	printf("# method %s extents %zu\n", x.method, x.n);
	for (i = 0; i < x.n; i++) {
		const struct ext *e = &x.e[i];
		uint64_t end = (e->logical + e->length + BS - 1) / BS;

		for (lb = e->logical / BS; lb < end; lb++) {
			int64_t phys;

			if (lb < next)
				continue;
			next = lb + 1;
			phys = block_phys(&x, lb);
			if (phys < 0) {
				x.skipped++;
				printf("# skipped block %" PRIu64 ": not wholly mapped or not contiguous\n",
				       lb);
				continue;
			}
			fprintf(f, "%" PRIu64 " %" PRId64 "\n", lb, phys);
			blocks++;
		}
	}
	if (fclose(f))
		die(out);
	close(fd);
	free(x.e);
	printf("fiemap_blocks %" PRIu64 "\n", blocks);
	printf("fiemap_skipped %u\n", x.skipped);
	return 0;
}

/* ---- rawcheck ---- */

static int open_dev(const char *dev)
{
	struct stat sb;
	int fd = xopen(dev, O_RDONLY | O_DIRECT, 0);

	if (fstat(fd, &sb))
		die(dev);
	if (!S_ISBLK(sb.st_mode))
		printf("# warning: %s is not a block device\n", dev);
	return fd;
}

/* O_DIRECT read of a whole block at @off of @dev into the aligned @buf. */
static void dev_read(int fd, uint8_t *buf, uint64_t off)
{
	if (off % 512)
		fail("physical offset %" PRIu64 " is not aligned", off);
	if (pread_full(fd, buf, BS, off) != BS)
		fail("short read at %" PRIu64 " of the device", off);
}

static int do_rawcheck(const char *dev, const char *mapfile,
		       const char *modelfile)
{
	uint64_t checked = 0, same = 0, stale = 0, torn = 0, other = 0;
	uint64_t skipped = 0, lineno = 0;
	uint8_t *raw = xalloc(BS), *model = xalloc(BS);
	char line[256];
	int dfd = open_dev(dev), mfd = xopen(modelfile, O_RDONLY, 0);
	FILE *map = fopen(mapfile, "r");

	if (!map)
		die(mapfile);
	while (fgets(line, sizeof(line), map)) {
		unsigned long long lb, phys;
		struct bhdr m, r;
		const char *what;
		size_t n;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%llu %llu", &lb, &phys) != 2)
			fail("%s:%" PRIu64 ": bad line", mapfile, lineno);
		n = pread_full(mfd, model, BS, lb * BS);
		memset(model + n, 0, BS - n);
		m = header_of(model);
		if (m.magic != MAGIC) {
			skipped++;
			continue;
		}
		dev_read(dfd, raw, phys);
		r = header_of(raw);
		checked++;
		if (!memcmp(raw, model, BS)) {
			same++;
			continue;
		}
		if (r.magic != MAGIC) {
			other++;
			what = "other";
		} else if (block_crc(raw) != r.crc) {
			torn++;
			what = "torn";
		} else if (r.file_id == m.file_id && r.block == m.block &&
			   ((r.writer == m.writer && r.seq < m.seq) ||
			    (!r.writer && m.writer))) {
			stale++;
			what = "stale";
		} else {
			other++;
			what = "other";
		}
		if (printed++ < MAX_PRINT)
			printf("# %s block %llu at %llu: expected file %u block %u seq %u writer %u, found magic 0x%08x file %u block %u seq %u writer %u\n",
			       what, lb, phys, m.file_id, m.block, m.seq,
			       m.writer, r.magic, r.file_id, r.block, r.seq,
			       r.writer);
	}
	if (ferror(map))
		die(mapfile);
	fclose(map);
	close(mfd);
	close(dfd);
	if (!checked)
		printf("# warning: no block checked\n");
	printf("raw_checked %" PRIu64 "\n", checked);
	printf("raw_same %" PRIu64 "\n", same);
	printf("raw_stale %" PRIu64 "\n", stale);
	printf("raw_torn %" PRIu64 "\n", torn);
	printf("raw_other %" PRIu64 "\n", other);
	printf("raw_skipped %" PRIu64 "\n", skipped);
	free(raw);
	free(model);
	return same == checked ? 0 : 1;
}

/* ---- pin-dio and pin-vmsplice ---- */

struct pin {
	int afd;
	uint8_t *amap;		/* A mapped shared, read only */
	uint8_t *x, *y, *got;	/* aligned blocks */
	uint32_t seq;
};

static void pin_setup(struct pin *p, const char *dir, int with_b)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/pinA", dir);
	p->afd = create_blocks(path, FID_PIN_A, 1, &p->seq, NULL);
	if (with_b) {
		snprintf(path, sizeof(path), "%s/pinB", dir);
		close(create_blocks(path, FID_PIN_B, 1, &p->seq, NULL));
	}
	p->amap = mmap(NULL, BS, PROT_READ, MAP_SHARED, p->afd, 0);
	if (p->amap == MAP_FAILED)
		die("mmap");
	p->x = xalloc(BS);
	p->y = xalloc(BS);
	p->got = xalloc(BS);
}

static void pin_teardown(struct pin *p)
{
	munmap(p->amap, BS);
	close(p->afd);
	free(p->x);
	free(p->y);
	free(p->got);
}

/* A = X_r, then A's block under writeback. */
static void pin_round_start(struct pin *p)
{
	make_block(p->x, FID_PIN_A, 0, ++p->seq, 1);
	make_block(p->y, FID_PIN_A, 0, ++p->seq, 1);
	xpwrite(p->afd, p->x, BS, 0);
	sfr(p->afd, 0, BS);
}

static int pin_check_a(struct pin *p, uint64_t r)
{
	if (pread_full(p->afd, p->got, BS, 0) == BS &&
	    !memcmp(p->got, p->y, BS))
		return 0;
	if (printed++ < MAX_PRINT)
		printf("# round %" PRIu64 ": pinA is not Y (seq %u): found seq %u\n",
		       r, header_of(p->y).seq, header_of(p->got).seq);
	return 1;
}

/* Every byte of @got is X's or Y's (a DMA that raced the Y write)? */
static int pin_mixed(struct pin *p, const uint8_t *got)
{
	size_t i;

	for (i = 0; i < BS; i++)
		if (got[i] != p->x[i] && got[i] != p->y[i])
			return 0;
	return 1;
}

/* "# round" line: @what (p->got) was neither X nor Y. */
static void pin_report(struct pin *p, uint64_t r, const char *what)
{
	struct bhdr x = header_of(p->x), y = header_of(p->y);
	struct bhdr g = header_of(p->got);

	if (printed++ >= MAX_PRINT)
		return;
	printf("# round %" PRIu64 ": %s is neither X (seq %u) nor Y (seq %u): magic 0x%08x seq %u crc %s, %s\n",
	       r, what, x.seq, y.seq, g.magic, g.seq,
	       block_crc(p->got) == g.crc ? "ok" : "bad",
	       pin_mixed(p, p->got) ? "bytes of X and Y mixed" :
	       "not a mix of X and Y");
}

/* @got is X or Y: 1 or 2; 0 if neither. */
static int pin_which(struct pin *p, const uint8_t *got)
{
	if (!memcmp(got, p->x, BS))
		return 1;
	if (!memcmp(got, p->y, BS))
		return 2;
	return 0;
}

struct dio_arg {
	int fd;
	const void *src;
	ssize_t ret;
	int err;
	int started;
};

static void *dio_thread(void *p)
{
	struct dio_arg *a = p;

	__atomic_store_n(&a->started, 1, __ATOMIC_RELEASE);
	a->ret = pwrite(a->fd, a->src, BS, 0);
	a->err = errno;
	return NULL;
}

static int do_pin_dio(const char *dir, uint64_t rounds)
{
	uint64_t r, a_bad = 0, b_bad = 0, b_mixed = 0, saw[3] = { 0 };
	char path[PATH_MAX];
	struct pin p = { 0 };
	int bfd;

	if (!rounds)
		usage();
	pin_setup(&p, dir, 1);
	snprintf(path, sizeof(path), "%s/pinB", dir);
	bfd = xopen(path, O_RDWR | O_DIRECT, 0);
	for (r = 0; r < rounds; r++) {
		struct dio_arg a = { .fd = bfd, .src = p.amap };
		pthread_t t;
		int e, which;

		/*
		 * A = X, dirty; the DIO from A's page starts (pinning it for
		 * its ~3 ms); then A's writeback starts and A is rewritten at
		 * once, while the pin is held.
		 */
		make_block(p.x, FID_PIN_A, 0, ++p.seq, 1);
		make_block(p.y, FID_PIN_A, 0, ++p.seq, 1);
		xpwrite(p.afd, p.x, BS, 0);
		e = pthread_create(&t, NULL, dio_thread, &a);
		if (e) {
			errno = e;
			die("pthread_create");
		}
		while (!__atomic_load_n(&a.started, __ATOMIC_ACQUIRE))
			sched_yield();
		sleep_us(500);
		sfr(p.afd, 0, BS);
		xpwrite(p.afd, p.y, BS, 0);
		e = pthread_join(t, NULL);
		if (e) {
			errno = e;
			die("pthread_join");
		}
		if (a.ret != (ssize_t)BS) {
			errno = a.ret < 0 ? a.err : EIO;
			die("O_DIRECT pwrite to pinB");
		}
		a_bad += pin_check_a(&p, r);
		if (pread_full(bfd, p.got, BS, 0) != BS)
			fail("%s: short O_DIRECT read", path);
		which = pin_which(&p, p.got);
		saw[which]++;
		/*
		 * The device reads A's page for B while the refused writer,
		 * once A's own writeback ended, copies Y into it: stock Linux
		 * lets B get bytes of both (stable pages cover writeback, not
		 * a DIO's source).  Only anything else is wrong.
		 */
		if (!which && pin_mixed(&p, p.got)) {
			b_mixed++;
		} else if (!which) {
			b_bad++;
			pin_report(&p, r, "pinB");
		}
	}
	printf("# pinB got X %" PRIu64 " times, Y %" PRIu64
	       " times, a mix of both %" PRIu64 " times\n",
	       saw[1], saw[2], b_mixed);
	close(bfd);
	pin_teardown(&p);
	printf("pin_rounds %" PRIu64 "\n", rounds);
	printf("pin_a_bad %" PRIu64 "\n", a_bad);
	printf("pin_b_bad %" PRIu64 "\n", b_bad);
	return a_bad || b_bad ? 1 : 0;
}

static int do_pin_vmsplice(const char *dir, uint64_t rounds)
{
	uint64_t r, a_bad = 0, pipe_bad = 0, saw[3] = { 0 };
	struct pin p = { 0 };
	int fds[2], sz;

	if (!rounds)
		usage();
	pin_setup(&p, dir, 0);
	if (pipe(fds))
		die("pipe");
	sz = fcntl(fds[1], F_SETPIPE_SZ, 16 * BS);
	if (sz < 0)
		die("fcntl(F_SETPIPE_SZ)");
	if ((size_t)sz < 16 * BS)
		fail("pipe size %d, wanted %lu", sz, 16 * BS);
	for (r = 0; r < rounds; r++) {
		struct iovec iov = { p.amap, BS };
		size_t got;
		int which;

		pin_round_start(&p);
		while (iov.iov_len) {
			ssize_t n = vmsplice(fds[1], &iov, 1, 0);

			if (n <= 0)
				die("vmsplice");
			iov.iov_base = (char *)iov.iov_base + n;
			iov.iov_len -= n;
		}
		xpwrite(p.afd, p.y, BS, 0);
		for (got = 0; got < BS;) {
			ssize_t n = read(fds[0], p.got + got, BS - got);

			if (n <= 0)
				die("read (pipe)");
			got += n;
		}
		which = pin_which(&p, p.got);
		saw[which]++;
		if (!which) {
			pipe_bad++;
			pin_report(&p, r, "pipe");
		}
		a_bad += pin_check_a(&p, r);
	}
	printf("# pipe got X %" PRIu64 " times, Y %" PRIu64 " times\n",
	       saw[1], saw[2]);
	close(fds[0]);
	close(fds[1]);
	pin_teardown(&p);
	printf("vmsplice_rounds %" PRIu64 "\n", rounds);
	printf("vmsplice_a_bad %" PRIu64 "\n", a_bad);
	printf("vmsplice_pipe_bad %" PRIu64 "\n", pipe_bad);
	return a_bad || pipe_bad ? 1 : 0;
}

/* ---- fsync-raw ---- */

static const char * const sync_names[5] = {
	"fsync", "fdatasync", "osync", "sync_file_range", "syncfs",
};

static void fsync_phys(int fd, int64_t *phys)
{
	struct extents x;
	unsigned int b;

	get_extents(fd, &x);
	for (b = 0; b < FSYNC_BLOCKS; b++) {
		phys[b] = block_phys(&x, b);
		if (phys[b] < 0)
			fail("fs block %u is not mapped contiguously (%s)", b,
			     x.method);
	}
	free(x.e);
}

static int do_fsync_raw(const char *dir, const char *dev, uint64_t rounds)
{
	uint64_t r, bad = 0, bad_m[5] = { 0 };
	uint8_t *a = xalloc(BS), *bb = xalloc(BS), *got = xalloc(BS);
	int64_t phys[FSYNC_BLOCKS], again[FSYNC_BLOCKS];
	char path[PATH_MAX];
	uint32_t seq = 0;
	int fd, sfd, dfd, m;

	if (!rounds)
		usage();
	dfd = open_dev(dev);
	snprintf(path, sizeof(path), "%s/fs", dir);
	fd = create_blocks(path, FID_FSYNC, FSYNC_BLOCKS, &seq, NULL);
	sfd = xopen(path, O_RDWR | O_SYNC, 0);
	fsync_phys(fd, phys);
	for (r = 0; r < rounds; r++) {
		unsigned int b = r % FSYNC_BLOCKS;
		off_t off = (off_t)b * BS;

		m = r % 5;
		make_block(a, FID_FSYNC, b, ++seq, 1);
		make_block(bb, FID_FSYNC, b, ++seq, 1);
		xpwrite(fd, a, BS, off);
		sfr(fd, off, BS);
		xpwrite(m == 2 ? sfd : fd, bb, BS, off);
		switch (m) {
		case 0:
			xfsync(fd);
			break;
		case 1:
			if (fdatasync(fd))
				die("fdatasync");
			break;
		case 3:
			if (sync_file_range(fd, off, BS,
					    SYNC_FILE_RANGE_WAIT_BEFORE |
					    SYNC_FILE_RANGE_WRITE |
					    SYNC_FILE_RANGE_WAIT_AFTER))
				die("sync_file_range");
			break;
		case 4:
			if (syncfs(fd))
				die("syncfs");
			break;
		}
		dev_read(dfd, got, phys[b]);
		if (memcmp(got, bb, BS)) {
			bad++;
			bad_m[m]++;
			if (printed++ < MAX_PRINT)
				printf("# round %" PRIu64 " block %u %s: device has magic 0x%08x seq %u writer %u, expected seq %u (A_r: seq %u)\n",
				       r, b, sync_names[m],
				       header_of(got).magic,
				       header_of(got).seq,
				       header_of(got).writer,
				       header_of(bb).seq, header_of(a).seq);
		}
	}
	/* The blocks must not have moved meanwhile. */
	fsync_phys(fd, again);
	if (memcmp(phys, again, sizeof(phys)))
		fail("the blocks of %s moved on disk during the test", path);
	printf("fsync_rounds %" PRIu64 "\n", rounds);
	printf("fsync_bad %" PRIu64 "\n", bad);
	for (m = 0; m < 5; m++)
		printf("fsync_bad_%s %" PRIu64 "\n", sync_names[m], bad_m[m]);
	close(dfd);
	close(sfd);
	close(fd);
	free(a);
	free(bb);
	free(got);
	return bad ? 1 : 0;
}

/* ---- hot ---- */

static int do_hot(const char *file, uint64_t npages, uint64_t iters,
		  uint64_t every, const char *mode)
{
	int mm = !strcmp(mode, "mmap");
	uint64_t *t, i, rnd = rnd_seed(npages, iters), start, wall, total = 0;
	uint64_t bad = 0, nap_us;
	uint8_t *model, *map = NULL, *got;
	uint32_t seq = 0;
	int fd;

	if (!mm && strcmp(mode, "write"))
		usage();
	if (!npages || !iters)
		usage();
	/* Diagnosis only: PCACHE_FORK_HOT_NAP_US, a pause after each sfr. */
	nap_us = getenv("PCACHE_FORK_HOT_NAP_US") ?
		 strtoull(getenv("PCACHE_FORK_HOT_NAP_US"), NULL, 0) : 0;
	model = xalloc(npages * BS);
	got = xalloc(BS);
	t = calloc(iters, sizeof(*t));
	if (!t)
		die("calloc");
	fd = create_blocks(file, FID_HOT, npages, &seq, model);
	if (mm) {
		map = mmap(NULL, npages * BS, PROT_READ | PROT_WRITE,
			   MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap");
	}
	start = now_ns();
	for (i = 0; i < iters; i++) {
		uint64_t data[8], off, t0;
		int k;

		off = (i % npages) * BS + rnd_below(&rnd, BS - 64 + 1);
		for (k = 0; k < 8; k++)
			data[k] = rnd_next(&rnd);
		t0 = now_ns();
		if (mm)
			memcpy(map + off, data, 64);
		else
			xpwrite(fd, data, 64, off);
		t[i] = now_ns() - t0;
		total += t[i];
		memcpy(model + off, data, 64);
		if (every && (i + 1) % every == 0) {
			sfr(fd, 0, 0);
			if (nap_us)
				sleep_us(nap_us);
		}
	}
	wall = now_ns() - start;
	xfsync(fd);
	for (i = 0; i < npages; i++)
		if (pread_full(fd, got, BS, i * BS) != BS ||
		    memcmp(got, model + i * BS, BS)) {
			bad++;
			if (printed++ < MAX_PRINT)
				printf("# page %" PRIu64 " is not the last content written\n",
				       i);
		}
	if (getenv("PCACHE_FORK_HOT_SLOW")) {
		/*
		 * The slowest writes, and where they fell in the cycle: each
		 * found is marked by adding 2^63, then restored.
		 */
		uint64_t n = strtoull(getenv("PCACHE_FORK_HOT_SLOW"), NULL, 0);
		uint64_t k, j, m, mark = 1ULL << 63;

		for (k = 0; k < n && k < iters; k++) {
			for (m = iters, j = 0; j < iters; j++)
				if (!(t[j] & mark) && (m == iters || t[j] > t[m]))
					m = j;
			if (m == iters)
				break;
			printf("# slow write %" PRIu64 " (%" PRIu64
			       " after an sfr): %.1f us\n", m,
			       every ? m % every : 0, t[m] / 1e3);
			t[m] |= mark;
		}
		for (j = 0; j < iters; j++)
			t[j] &= ~mark;
	}
	qsort(t, iters, sizeof(*t), cmp_u64);
	if (getenv("PCACHE_FORK_HOT_CDF")) {
		/* Every latency, sorted: "us fraction" for a CDF plot. */
		FILE *f = fopen(getenv("PCACHE_FORK_HOT_CDF"), "w");
		uint64_t k;

		if (!f)
			die("PCACHE_FORK_HOT_CDF");
		for (k = 0; k < iters; k++)
			fprintf(f, "%.1f %.6f\n", t[k] / 1e3,
				(k + 1) / (double)iters);
		if (fclose(f))
			die("PCACHE_FORK_HOT_CDF");
	}
	printf("hot_p50_us %.1f\n", pct(t, iters, 50) / 1e3);
	printf("hot_p99_us %.1f\n", pct(t, iters, 99) / 1e3);
	printf("hot_max_us %.1f\n", t[iters - 1] / 1e3);
	printf("hot_total_ms %.1f\n", total / 1e6);
	printf("hot_ops_per_s %.0f\n", iters / (wall ? wall / 1e9 : 1e-9));
	printf("hot_bad %" PRIu64 "\n", bad);
	if (map)
		munmap(map, npages * BS);
	close(fd);
	free(t);
	free(model);
	free(got);
	return bad ? 1 : 0;
}

/* ---- inflight ---- */

static int do_inflight(const char *file, uint64_t npages, const char *model)
{
	uint8_t *second, *third;
	uint32_t seq = 0;
	uint64_t b;
	int fd;

	if (!npages)
		usage();
	second = xalloc(npages * BS);
	third = xalloc(npages * BS);
	fd = create_blocks(file, FID_INFLIGHT, npages, &seq, NULL);
	for (b = 0; b < npages; b++)
		make_block(second + b * BS, FID_INFLIGHT, b, ++seq, 1);
	for (b = 0; b < npages; b++)
		make_block(third + b * BS, FID_INFLIGHT, b, ++seq, 1);
	/* The model first: nothing between the passes and the exit. */
	write_file(model, third, npages * BS);
	for (b = 0; b < npages; b++)
		xpwrite(fd, second + b * BS, BS, b * BS);
	sfr(fd, 0, 0);
	for (b = 0; b < npages; b++)
		xpwrite(fd, third + b * BS, BS, b * BS);
	printf("inflight_written %" PRIu64 "\n", npages);
	free(second);
	free(third);
	return 0;	/* no fsync, no close: exit with the I/O in flight */
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	crc_init();
	if (!strcmp(cmd, "stable") && argc == 4)
		return do_stable(argv[2], num(argv[3]));
	if (!strcmp(cmd, "torture") && argc == 7)
		return do_torture(argv[2], num(argv[3]), num(argv[4]),
				  num(argv[5]), argv[6]);
	if (!strcmp(cmd, "verify") && argc == 4)
		return do_verify(argv[2], argv[3]);
	if (!strcmp(cmd, "fiemap") && argc == 4)
		return do_fiemap(argv[2], argv[3]);
	if (!strcmp(cmd, "rawcheck") && argc == 5)
		return do_rawcheck(argv[2], argv[3], argv[4]);
	if (!strcmp(cmd, "pin-dio") && argc == 4)
		return do_pin_dio(argv[2], num(argv[3]));
	if (!strcmp(cmd, "pin-vmsplice") && argc == 4)
		return do_pin_vmsplice(argv[2], num(argv[3]));
	if (!strcmp(cmd, "fsync-raw") && argc == 5)
		return do_fsync_raw(argv[2], argv[3], num(argv[4]));
	if (!strcmp(cmd, "hot") && argc == 7)
		return do_hot(argv[2], num(argv[3]), num(argv[4]),
			      num(argv[5]), argv[6]);
	if (!strcmp(cmd, "inflight") && argc == 5)
		return do_inflight(argv[2], num(argv[3]), argv[4]);
	if (!strcmp(cmd, "cmp") && argc == 4)
		return do_cmp(argv[2], argv[3]);
	usage();
	return 2;
}
