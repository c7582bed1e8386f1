/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one kernel/user ABI of llmtap: every record, map value and limit shared by
 * the BPF programs and userspace. Fixed-width types only; C, so both sides include it.
 */
#ifndef LLMTAP_ABI_H
#define LLMTAP_ABI_H

#ifdef __VMLINUX_H__
/* BPF side: types come from vmlinux.h. */
#else
#include <linux/types.h>
#endif

#define LLMTAP_COMM_LEN 16

/* A call's bytes travel in fixed-size DATA records followed by one CALL record that carries
 * the metadata and the tail (1..LLMTAP_CHUNK_SIZE bytes). Records of one call come in order. */
#define LLMTAP_CHUNK_SIZE 16384
/* Tail size classes for the CALL record (ring-buffer reservations need constant sizes): steps
 * of at most 1.5x, so a record takes at most half as much ring again as its bytes need. The
 * ring's footprint is the producer's cost: each page of ring a record reaches first costs the
 * traced process a TLB miss (measured: a 1 KiB tail in a 4 KiB class cost 3 us more a call
 * than in a fitting one, on a VM). */
#define LLMTAP_TAIL_CLASSES(X)                                                               \
	X(64) X(128) X(256) X(384) X(512) X(768) X(1024) X(1536) X(2048) X(3072) X(4096)      \
	X(6144) X(8192) X(12288) X(LLMTAP_CHUNK_SIZE)

#define LLMTAP_DEFAULT_MAX_BYTES (1u << 20)   /* per call, before `truncated` */
#define LLMTAP_MAX_BYTES_LIMIT (64u << 20)    /* the largest --max-bytes accepted */
#define LLMTAP_DEFAULT_WAKEUP_BYTES (1024u << 10) /* batch records up to this before waking */
#define LLMTAP_POLL_INTERVAL_MS 50                /* and look at least this often */

#define LLMTAP_MAX_CONNS 65536   /* (tgid, SSL*) -> connection entries (LRU) */
#define LLMTAP_MAX_KNOWN_FILES 65536 /* files already examined for TLS functions */
#define LLMTAP_MAX_WATCHED 65536     /* processes whose exit userspace wants to hear of */
#define LLMTAP_PROC_RINGBUF_BYTES (256u << 10)
#define LLMTAP_LIB_NAME_LEN 64
#define LLMTAP_HOLD_WINDOW_NS 2000000000ULL /* a hold token older than this holds nobody */
#define LLMTAP_MAX_HOLD_TOKENS 4096 /* processes whose new TLS code is being attached */
#define LLMTAP_MAX_HOLDS 4096       /* processes stopped at once; a full table stops nobody */
/* A stopped process is resumed this long after its stop at the latest, by llmtap or by its
 * hold guard, whatever happens to llmtap (docs/hold-safety.md). */
#define LLMTAP_DEFAULT_HOLD_DEADLINE_NS 500000000ULL
#define LLMTAP_MAX_PREVENT_ENDPOINTS 4096 /* LLM server addresses whose writes are held */
#define LLMTAP_DEFAULT_PREVENT_DEADLINE_MS 250

enum llmtap_record_kind {
	LLMTAP_REC_DATA = 1,  /* a full LLMTAP_CHUNK_SIZE piece of a call */
	LLMTAP_REC_CALL = 2,  /* the call's metadata and its last piece */
	LLMTAP_REC_CLOSE = 3, /* a connection ended (after its last data, same ring) */
};

enum llmtap_close_reason {
	LLMTAP_CLOSE_FD = 1,      /* close() of the connection's socket */
	LLMTAP_CLOSE_SESSION = 2, /* SSL_free / gnutls_deinit */
};

/* Process events travel on their own small ring, woken at once: discovery must not wait
 * behind a batch of data, nor be lost when data fills the data ring. */
enum llmtap_proc_event_kind {
	LLMTAP_PROC_EXEC = 1,       /* a process exec'ed a file llmtap has not examined */
	LLMTAP_PROC_LIB_MAPPED = 2, /* a process mapped an unexamined TLS library executable */
	LLMTAP_PROC_EXIT = 3,       /* a process llmtap watches exited */
};

enum llmtap_direction {
	LLMTAP_DIR_WRITE = 0, /* plaintext the process sent */
	LLMTAP_DIR_READ = 1,  /* plaintext the process received */
};

enum llmtap_tls_lib {
	LLMTAP_LIB_OPENSSL = 1,
	LLMTAP_LIB_GNUTLS = 2,
};

enum llmtap_call_flags {
	LLMTAP_CALL_TRUNCATED = 1 << 0, /* call_len > max_bytes: only a prefix was captured */
	LLMTAP_CALL_LOST = 1 << 1,      /* a DATA record could not be reserved: lost_len bytes missing */
	LLMTAP_CALL_FD_GUESSED = 1 << 2, /* fd learned from a syscall after the call (memory BIO) */
	/* An earlier call in the same direction on this connection was lost whole (no record
	 * could be reserved): the byte stream has a hole of unknown size before this call. */
	LLMTAP_CALL_GAP_BEFORE = 1 << 3,
	/* Userspace said the connection is of no interest (not HTTP, say): the call is counted
	 * (call_len) but its bytes are not copied. */
	LLMTAP_CALL_QUIET = 1 << 4,
	/* Prevent mode: a write's plaintext sent at its entry, before it is encrypted, while the
	 * writer is held (LLMTAP_HOLD_PREVENT); the write itself is reported again at its return. */
	LLMTAP_CALL_PREVIEW = 1 << 5,
	/* The connection was quiet until an LLM request (LLMTAP_QUIET_UNTIL_LLM_REQUEST): this
	 * call starts a request line whose path an LLM route may match, and copying resumed at
	 * its first byte. */
	LLMTAP_CALL_RESUMED = 1 << 6,
};

/* Values of the quiet_conns map: how much of a connection is no longer copied. */
enum llmtap_quiet_mode {
	LLMTAP_QUIET_ALL = 1, /* nothing (not HTTP, or unparsable): counted only */
	/* Nothing, except a call that starts an HTTP/1.x request line whose path matches one of
	 * llm_request_paths: there copying resumes (LLMTAP_CALL_RESUMED). */
	LLMTAP_QUIET_UNTIL_LLM_REQUEST = 2,
};

/* A path pattern of an LLM route, as the kernel checks a request line against it: the path
 * (up to '?', ' ' or the end of the captured prefix) starts with, or ends with, `text`. */
#define LLMTAP_PATH_PATTERN_LEN 47
#define LLMTAP_MAX_PATH_PATTERNS 64
struct llmtap_path_pattern {
	__u8 len;
	__u8 suffix; /* 1: the path ends with text; 0: starts with it */
	char text[LLMTAP_PATH_PATTERN_LEN - 1];
};

/* Indexes of the per-CPU `stats` array map. */
enum llmtap_stat {
	LLMTAP_STAT_CALLS = 0,          /* calls that produced data (CALL record submitted) */
	LLMTAP_STAT_BYTES = 1,          /* bytes delivered to the ring buffer */
	LLMTAP_STAT_LOST_CALLS = 2,     /* calls whose CALL record could not be reserved */
	LLMTAP_STAT_LOST_BYTES = 3,     /* bytes that should have been delivered and were not */
	LLMTAP_STAT_LOST_RECORDS = 4,   /* failed ring-buffer reservations */
	LLMTAP_STAT_TRUNCATED_CALLS = 5,
	LLMTAP_STAT_READ_ERRORS = 6,    /* bpf_probe_read_user failed (page not present) */
	LLMTAP_STAT_LOST_PROC_EVENTS = 7, /* process events dropped: the proc ring was full */
	LLMTAP_STAT_HOLDS = 8,          /* processes stopped (recorded in `holds` first) */
	LLMTAP_STAT_QUIET_BYTES = 9,    /* bytes of quiet connections, counted but not copied */
	/* Holds not made: table full, holds switched off (agent stopping), signal refused. */
	LLMTAP_STAT_HOLDS_SKIPPED = 10,
	LLMTAP_STAT_PREVENT_HOLDS = 11,     /* writes held in prevent mode (also in HOLDS) */
	/* Writes to an LLM endpoint not held: connection's socket unknown at the write's entry. */
	LLMTAP_STAT_PREVENT_UNBOUND = 12,
	LLMTAP_STAT_PREVENT_RETRIES = 13, /* a held write retried (WANT_WRITE): not held again */
	LLMTAP_STAT_COUNT = 14,
};

struct llmtap_endpoint {
	__u8 addr[16]; /* IPv4 in the first 4 bytes, or IPv6 */
	__u16 port;    /* host byte order */
	__u16 family;  /* AF_INET, AF_INET6, AF_UNIX, or 0 when unknown */
};

/* Common prefix of every record: lets userspace join a call's pieces. */
struct llmtap_record_header {
	__u32 kind;     /* enum llmtap_record_kind */
	__u32 tid;
	__u64 call_id;  /* unique per call on this host while the program is loaded */
	__u32 offset;   /* where this record's data starts within the call */
	__u32 data_len; /* bytes of data in this record (<= LLMTAP_CHUNK_SIZE) */
	__u32 total_len; /* bytes the call will deliver in all (lets userspace allocate once) */
	__u32 reserved;
};

struct llmtap_data_record {
	struct llmtap_record_header hdr;
	__u8 data[LLMTAP_CHUNK_SIZE];
};

struct llmtap_call_record {
	struct llmtap_record_header hdr;
	__u64 mono_ns;      /* bpf_ktime_get_ns() at the call's return (CLOCK_MONOTONIC) */
	__u64 entry_ns;     /* bpf_ktime_get_ns() at the call's entry (a blocking write starts here) */
	__u64 cgroup_id;    /* cgroup v2 id */
	/* The process's start (group leader's start_boottime, ns; /proc/PID/stat field 22 in
	 * clock ticks): with pid, names the process even after its pid is reused. */
	__u64 start_boottime;
	__u64 ssl;          /* SSL* (or gnutls_session_t): the connection key within the process */
	__u64 conn_id;      /* stable id of the connection (many calls, any thread); 0 if unknown */
	__u32 pid;          /* tgid */
	__u32 uid;
	__u32 call_len;     /* bytes the call really transferred (its return value) */
	__u32 captured_len; /* bytes delivered in DATA records + this record's tail */
	__u32 lost_len;     /* bytes that could not be delivered (ring buffer full) */
	__u32 flags;        /* enum llmtap_call_flags */
	__s32 fd;           /* socket fd, or -1 when unknown */
	__u8 direction;     /* enum llmtap_direction */
	__u8 lib;           /* enum llmtap_tls_lib */
	__u16 reserved;
	struct llmtap_endpoint local;
	struct llmtap_endpoint remote;
	char comm[LLMTAP_COMM_LEN];
	__u8 data[]; /* hdr.data_len bytes of tail */
};

struct llmtap_close_record {
	struct llmtap_record_header hdr; /* kind LLMTAP_REC_CLOSE, data_len 0 */
	__u64 mono_ns;
	__u64 conn_id;
	__u64 ssl;
	__u32 pid;
	__s32 fd;
	__u32 reason; /* enum llmtap_close_reason */
	__u32 reserved;
};

/* Values of the `known_files` map. */
enum llmtap_known_file {
	LLMTAP_FILE_QUIET = 1,       /* examined (no TLS, or attached for good): no events */
	LLMTAP_FILE_COUNT_USERS = 2, /* attached while used: report each process that maps it */
};

/* Identity of one incarnation of a file, as the kernel sees it, and the key of `known_files`.
 * An inode number names a file only while it exists (ext4 hands a freed number to the next
 * file at once), so the key also holds what differs between two files that had the same
 * number one after the other: the inode's generation (ext4, xfs, btrfs and tmpfs draw a new
 * one for every inode they allocate) and its change time (set when the file is created and
 * on every write or metadata change: a file copied into a reused inode gets a new one).
 * docs/file-identity.md says why this is enough. */
struct llmtap_file_key {
	__u64 dev;        /* inode->i_sb->s_dev: MAJOR << 20 | MINOR */
	__u64 ino;
	__s64 ctime_sec;  /* inode change time */
	__u32 ctime_nsec;
	__u32 generation; /* inode->i_generation (0 where the filesystem keeps none) */
};

struct llmtap_proc_event {
	__u32 kind; /* enum llmtap_proc_event_kind */
	__u32 pid;  /* tgid */
	__u64 mono_ns;
	struct llmtap_file_key file; /* EXEC: the executable; LIB_MAPPED: the library */
	char comm[LLMTAP_COMM_LEN];
	char name[LLMTAP_LIB_NAME_LEN]; /* LIB_MAPPED: the file's name (last path component) */
};

enum llmtap_hold_reason {
	/* Stopped at connect() while the TLS code it exec'ed or mapped is examined and attached. */
	LLMTAP_HOLD_ATTACH = 1,
	/* Prevent mode: stopped at the entry of a TLS write to an LLM endpoint, its plaintext sent
	 * ahead (a PREVIEW call record), until userspace judges it against the policy. */
	LLMTAP_HOLD_PREVENT = 2,
};

enum llmtap_hold_flags {
	/* Past its deadline (or with llmtap gone), the process is killed, not resumed: the
	 * judgement never came, and the policy said an unjudged write must not leave. */
	LLMTAP_HOLD_FAIL_CLOSED = 1 << 0,
};

/* Value of the `holds` map (key: tgid): a process llmtap stopped. The entry is written before
 * the stop is sent, and whoever deletes it (llmtap releasing it, the hold guard at the
 * deadline or when llmtap is gone, or the next llmtap's start-up sweep) resumes the process. */
struct llmtap_hold {
	__u64 since_ns;       /* bpf_ktime_get_ns() just before the stop */
	/* The process's start (group leader's start_boottime, ns): a reused pid is never resumed.
	 * /proc/PID/stat field 22 is this in clock ticks. */
	__u64 start_boottime;
	__u32 reason;         /* enum llmtap_hold_reason */
	__u32 flags;          /* enum llmtap_hold_flags */
	__u32 deadline_ms;    /* released (or killed) this long after the stop; 0: the guard's */
	__u32 reserved;
};

#endif /* LLMTAP_ABI_H */
