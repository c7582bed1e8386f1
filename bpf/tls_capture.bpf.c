// SPDX-License-Identifier: Apache-2.0
// TLS plaintext capture: uprobes on the TLS library's write/read functions, taken at return
// with the real byte count, plus the socket layer's tracepoints (syscall tracepoints on
// kernels before 6.3) that tell which socket a call used. docs/capture-cost.md says why each
// hook is there and what it costs the processes llmtap does not watch.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "llmtap_abi.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Not emitted: a call that only teaches us the connection's fd (a handshake). */
#define DIR_NONE 0xff

char LICENSE[] SEC("license") = "GPL";

/* Load-time configuration, set by userspace before load. */
const volatile __u32 targ_tgid = 0; /* 0: every process */
const volatile __u32 self_tgid = 0; /* llmtap never traces itself */
const volatile __u32 max_bytes = LLMTAP_DEFAULT_MAX_BYTES;
/* Wake the reader only once this much is waiting (0: every call). Waking it per record
 * costs a context switch per TLS call; userspace also polls on a short timer. */
const volatile __u32 wakeup_bytes = 0;
const volatile char targ_comm[LLMTAP_COMM_LEN] = {}; /* empty: every command */
/* Set by userspace while its poll loop sleeps long because nothing came (poll_pacer.h);
 * records then wake it at once instead of waiting for its timer. */
volatile __u32 reader_idle = 0;
const volatile bool filter_cgroup = false; /* only tasks under cgroup_filter[0] */
/* Stop a process that connects while a TLS library it mapped, or an executable it exec'ed, is
 * being examined and attached, so its first bytes are not missed; userspace resumes it once
 * the probes are in. */
const volatile bool hold_while_attaching = true;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* sized by userspace before load (capture/ring_size.h) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LLMTAP_PROC_RINGBUF_BYTES);
} proc_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* Files userspace has examined (enum llmtap_known_file): a QUIET file's exec/mmap raises no
 * event. LRU: an entry pushed out (incarnations of long-gone files pile up) costs one more
 * event and a cached re-examination, never a miss. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_KNOWN_FILES);
	__type(key, struct llmtap_file_key);
	__type(value, __u8);
} known_files SEC(".maps");

/* Processes whose exit userspace wants to hear of (they map attached files or own
 * connections). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_WATCHED);
	__type(key, __u32);
	__type(value, __u8);
} watched_tgids SEC(".maps");

/* ---- Holds: see docs/hold-safety.md for who resumes a stopped process in every state. ---- */

/* Hold tokens: processes whose newly mapped TLS library or exec'ed file userspace is examining
 * and attaching right now (value: when the token was given). A token is consumed by the one
 * stop it allows: a connect() restarted after the resume finds none. Losing a token (LRU)
 * only loses a hold, never leaves a process stopped. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_HOLD_TOKENS);
	__type(key, __u32);
	__type(value, __u64);
} hold_tokens SEC(".maps");

/* Every process llmtap has stopped, recorded before the stop is sent. A plain hash, never
 * LRU: an entry is only ever removed by whoever resumes the process. Pinned in bpffs, where
 * the hold guard (a separate process) enforces each stop's deadline and the next llmtap finds
 * what a killed one left. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LLMTAP_MAX_HOLDS);
	__type(key, __u32);
	__type(value, struct llmtap_hold);
} holds SEC(".maps");

/* One notice (the held tgid) per hold made, for the hold guard: it sleeps on this ring while
 * `holds` is empty instead of looking at the table many times a second. Written after the
 * hold is in `holds`, so a guard that drained the ring and then found the table empty is woken
 * by any hold made after its look. A notice that finds the ring full is not needed: a full
 * ring holds notices the guard has not read, so it is awake or about to be. Pinned with
 * `holds`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} hold_notices SEC(".maps");

/* Holds are made only while this is 1: userspace sets it once the deadline machinery is in
 * place and clears it first thing when it stops, then waits for holds_inflight to reach 0
 * before it sweeps `holds`: a stop decided before the switch is recorded before the sweep. */
volatile __u32 holds_enabled = 0;
volatile __s32 holds_inflight = 0;
/* Holds the hold guard released at their deadline (it adds to this, in the pinned .bss). */
volatile __u64 holds_released_by_guard = 0;
/* Prevent mode (userspace sets these when a rule holds writes, in enforce mode): writes to a
 * `prevent_endpoints` server are held until judged, at most prevent_deadline_ms, after which
 * the process is killed instead of resumed when prevent_fail_closed. */
volatile __u32 prevent_enabled = 0;
volatile __u32 prevent_deadline_ms = 0; /* 0: LLMTAP_DEFAULT_PREVENT_DEADLINE_MS */
volatile __u32 prevent_fail_closed = 0;
/* Also hold the writes of every other TLS connection (to an endpoint not yet known as an LLM
 * server) until userspace has classified it: it then adds the endpoint or exempts the
 * connection, usually after its first write. */
volatile __u32 prevent_new_conns = 0;

/* LLM servers (remote address and port, as the connection sees them): userspace adds those it
 * learns from traffic and those it is told when a rule acts on calls. Writes to them wake the
 * reader at once (a reset must beat the answer), and in prevent mode are held. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LLMTAP_MAX_PREVENT_ENDPOINTS);
	__type(key, struct llmtap_endpoint);
	__type(value, __u8);
} prevent_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LLMTAP_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} call_seq SEC(".maps");

/* A thread inside a TLS call: what entry saw, completed at return. */
struct inflight_call {
	__u64 ssl;
	__u64 buf;
	__u64 out_len; /* size_t* of the _ex variants, else 0 */
	__u64 sp;      /* user stack pointer at entry: pairs the return with its entry */
	__u64 entry_ns;
	__u64 sk;      /* the socket of the first socket I/O made inside the call, or 0 */
	__s32 fd;      /* its descriptor, or -1 (unknown: I/O not made by a read/write syscall) */
	__u16 pad;
	__u8 direction;
	__u8 lib;
};

/* TLS calls nest on a thread: node writes the requests it queued during the handshake from
 * a callback that runs inside SSL_read or SSL_do_handshake. Each level is a call of its own,
 * except a wrapper passing the same buffer on (one library function calling another).
 * Entries and returns are paired by stack pointer, not by counting: a return can be missed
 * (probes attached mid-call, a tail call) and an entry can be missed, and counting would then
 * mistake every later call for a nested one. */
#define MAX_NESTED_CALLS 4

struct inflight_stack {
	struct inflight_call calls[MAX_NESTED_CALLS];
	__u32 depth; /* at most MAX_NESTED_CALLS; deeper calls are counted as lost, not kept */
	__u32 pad;
};

/* Per thread, in task local storage: the TLS calls the thread is inside, and the connection
 * whose last call ended without socket I/O (a memory BIO, as in node): the thread's next
 * socket read/write names that connection's socket. Made at the thread's first TLS call and
 * freed with the thread, so a call neither inserts nor deletes anything, and a thread that
 * never made one costs a socket tracepoint one pointer test. */
struct thread_tls {
	struct inflight_stack stack;
	__u64 pending_ssl; /* SSL* waiting for its socket, or 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_tls);
} thread_tls SEC(".maps");

/* The current thread's state; with `create`, made (zeroed) if it has none yet. NULL when it
 * has none, or storage could not be had (no memory, or a program using it already runs on
 * this CPU). */
static __always_inline struct thread_tls *current_thread_tls(bool create)
{
	return bpf_task_storage_get(&thread_tls, bpf_get_current_task_btf(), NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* The slot of nesting level `level`, with a bound the verifier can see. */
static __always_inline struct inflight_call *stack_slot(struct inflight_stack *stack, __u32 level)
{
	__u32 i = level & (MAX_NESTED_CALLS - 1);

	barrier_var(i);
	if (i >= MAX_NESTED_CALLS)
		return NULL;
	return &stack->calls[i];
}

struct conn_key {
	__u32 tgid;
	__u32 pad;
	__u64 ssl;
};

/* Connection flags (beside the LLMTAP_CALL_* ones it carries into records): a call in this
 * direction was lost whole, so the next one delivered says LLMTAP_CALL_GAP_BEFORE. */
#define CONN_GAP_WRITE (1u << 16)
#define CONN_GAP_READ (1u << 17)
#define CONN_PRIVATE_FLAGS (CONN_GAP_WRITE | CONN_GAP_READ)

struct conn_info {
	__u64 id;
	/* The last write previewed and held (prevent mode), until it returns having written: a
	 * retry of the same buffer (WANT_WRITE) was judged already and is not held again. */
	__u64 preview_buf;
	__u32 preview_len;
	__u32 preview_pending;
	__u64 sk; /* struct sock * of the connection's socket; 0 until bound */
	__s32 fd; /* its descriptor in the process, or -1 */
	__u32 flags;
	struct llmtap_endpoint local;
	struct llmtap_endpoint remote;
};

struct fd_key {
	__u32 tgid;
	__s32 fd;
};

/* (tgid, fd) -> SSL*: close() of a connection's socket ends the connection. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_CONNS);
	__type(key, struct fd_key);
	__type(value, __u64);
} fd_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_CONNS);
	__type(key, struct conn_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

/* struct sock * -> connection: the socket's TCP state change to FIN_WAIT1, LAST_ACK or CLOSE
 * (close(), shutdown, reset) ends the connection. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct conn_key);
} sk_conns SEC(".maps");

/* Connections userspace will never parse (not HTTP, say): calls are counted, not copied. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_CONNS);
	__type(key, struct conn_key);
	__type(value, __u8);
} quiet_conns SEC(".maps");

/* The path patterns a request line must match to resume a connection quiet until an LLM
 * request (filled by userspace from the provider catalog; llm_path_count of them). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LLMTAP_MAX_PATH_PATTERNS);
	__type(key, __u32);
	__type(value, struct llmtap_path_pattern);
} llm_request_paths SEC(".maps");

__u32 llm_path_count = 0;

/* Connections whose writes are never held: userspace found that no rule holds writes of their
 * process (out of every hold rule's scope). Cleared when the policy changes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_CONNS);
	__type(key, struct conn_key);
	__type(value, __u8);
} prevent_exempt SEC(".maps");

/* The process's start time, as /proc/PID/stat shows it (the group leader's). */
static __always_inline __u64 process_start_boottime(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline __u64 next_call_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&call_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (*seq & 0xffffffffffffULL);
}

static __always_inline __u64 call_submit_flags(void)
{
	/* The reader is asleep for long (it found nothing for a while): this record wakes it,
	 * whatever lies unread before it (docs/capture-cost.md, "The reader's wakeups"). */
	if (reader_idle)
		return BPF_RB_FORCE_WAKEUP;
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									       : BPF_RB_NO_WAKEUP;
}

static __always_inline bool traced(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (targ_tgid && tgid != targ_tgid)
		return false;
	if (targ_comm[0]) {
		char comm[LLMTAP_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < LLMTAP_COMM_LEN; i++) {
			if (comm[i] != targ_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return false;
	return true;
}

static __always_inline void watch_tgid(__u32 tgid)
{
	__u8 one = 1;

	bpf_map_update_elem(&watched_tgids, &tgid, &one, BPF_NOEXIST);
}

/* Fills the connection's socket and addresses from `sk`. */
static __always_inline void fill_endpoints(struct sock *sk, struct conn_info *ci)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	ci->sk = (__u64)sk;
	ci->local.family = family;
	ci->remote.family = family;
	if (family == AF_INET) {
		__be32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(ci->local.addr, &local, sizeof(local));
		__builtin_memcpy(ci->remote.addr, &remote, sizeof(remote));
	} else if (family == AF_INET6) {
		bpf_core_read(ci->local.addr, sizeof(ci->local.addr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ci->remote.addr, sizeof(ci->remote.addr), &sk->__sk_common.skc_v6_daddr);
	}
	if (family == AF_INET || family == AF_INET6) {
		ci->local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
		ci->remote.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	}
}

/* The struct sock behind descriptor fd of the current task, or NULL if fd is no socket. */
static __always_inline struct sock *socket_of_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

/* The connection `ssl` of process `tgid`, created (with a fresh id, socket unknown) on first
 * sight so that its id is stable from the first call. */
static __always_inline struct conn_info *get_conn(__u32 tgid, __u64 ssl)
{
	struct conn_key key = { .tgid = tgid, .ssl = ssl };
	struct conn_info *conn = bpf_map_lookup_elem(&conns, &key);
	struct conn_info fresh = { .fd = -1 };

	if (conn)
		return conn;
	/* A new connection on an SSL* an ended one had (malloc reuses it): that one's quiet
	 * verdict does not apply. */
	bpf_map_delete_elem(&quiet_conns, &key);
	fresh.id = next_call_id();
	bpf_map_update_elem(&conns, &key, &fresh, BPF_NOEXIST);
	watch_tgid(tgid);
	return bpf_map_lookup_elem(&conns, &key);
}

/* Binds the connection to socket `sk` (descriptor fd, -1 if unknown; sk NULL: the socket
 * behind fd); false if there is no socket. */
static __always_inline bool bind_socket(__u32 tgid, __u64 ssl, struct conn_info *conn, int fd,
					struct sock *sk, __u32 flags)
{
	struct fd_key old = { .tgid = tgid, .fd = conn->fd };
	struct fd_key fk = { .tgid = tgid, .fd = fd };
	struct conn_key ck = { .tgid = tgid, .ssl = ssl };
	__u64 old_sk = conn->sk;

	if (!sk)
		sk = socket_of_fd(fd);
	if (!sk)
		return false;
	if (conn->sk == (__u64)sk && (conn->fd == fd || fd < 0))
		return true;
	fill_endpoints(sk, conn);
	/* A rebound connection must not be ended by a later close() of its old fd's number, nor
	 * by its old socket's end. */
	if (old.fd >= 0 && old.fd != fd)
		bpf_map_delete_elem(&fd_conns, &old);
	if (old_sk && old_sk != (__u64)sk)
		bpf_map_delete_elem(&sk_conns, &old_sk);
	if (fd >= 0) {
		conn->fd = fd;
		bpf_map_update_elem(&fd_conns, &fk, &ssl, BPF_ANY);
	}
	conn->flags = flags | (conn->flags & CONN_PRIVATE_FLAGS);
	bpf_map_update_elem(&sk_conns, &conn->sk, &ck, BPF_ANY);
	return true;
}

/* Emits a CLOSE record for the connection and forgets it. */
static __always_inline void close_conn(__u32 tgid, __u64 ssl, __u32 reason)
{
	struct conn_key key = { .tgid = tgid, .ssl = ssl };
	struct conn_info *conn = bpf_map_lookup_elem(&conns, &key);
	struct llmtap_close_record *rec;
	struct fd_key fk = { .tgid = tgid };

	if (!conn)
		return;
	fk.fd = conn->fd;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (rec) {
		rec->hdr.kind = LLMTAP_REC_CLOSE;
		rec->hdr.tid = (__u32)bpf_get_current_pid_tgid();
		rec->hdr.call_id = 0;
		rec->hdr.offset = 0;
		rec->hdr.data_len = 0;
		rec->hdr.total_len = 0;
		rec->hdr.reserved = 0;
		rec->mono_ns = bpf_ktime_get_ns();
		rec->conn_id = conn->id;
		rec->ssl = ssl;
		rec->pid = tgid;
		rec->fd = conn->fd;
		rec->reason = reason;
		rec->reserved = 0;
		bpf_ringbuf_submit(rec, call_submit_flags());
	} else {
		stat_add(LLMTAP_STAT_LOST_RECORDS, 1);
	}
	if (fk.fd >= 0)
		bpf_map_delete_elem(&fd_conns, &fk);
	if (conn->sk)
		bpf_map_delete_elem(&sk_conns, &conn->sk);
	bpf_map_delete_elem(&quiet_conns, &key);
	bpf_map_delete_elem(&conns, &key);
}

static __always_inline int enter_call(struct pt_regs *ctx, __u64 ssl, __u64 buf, __u64 out_len,
				      __u8 direction, __u8 lib)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight_stack *stack;
	struct inflight_call *top, *slot;
	struct thread_tls *tt;
	__u32 depth;

	if (!traced(id >> 32))
		return 0;
	struct inflight_call call = {
		.sp = PT_REGS_SP(ctx),
		.entry_ns = bpf_ktime_get_ns(),
		.ssl = ssl,
		.buf = buf,
		.out_len = out_len,
		.fd = -1,
		.direction = direction,
		.lib = lib,
	};
	tt = current_thread_tls(true);
	if (!tt) {
		stat_add(LLMTAP_STAT_LOST_CALLS, 1);
		return 0;
	}
	stack = &tt->stack;
	/* Entries whose frames are gone (at or above this one's) lost their returns. */
	depth = stack->depth;
	for (int i = 0; i < MAX_NESTED_CALLS; i++) {
		if (depth == 0)
			break;
		top = stack_slot(stack, depth - 1);
		if (!top || top->sp > call.sp)
			break;
		depth--;
	}
	if (depth >= MAX_NESTED_CALLS) {
		stack->depth = depth;
		stat_add(LLMTAP_STAT_LOST_CALLS, 1); /* deeper than any real nesting */
		return 0;
	}
	if (depth == 0) {
		tt->pending_ssl = 0;
	} else {
		top = stack_slot(stack, depth - 1);
		if (!top)
			return 0;
		if (top->ssl == ssl) {
			call.fd = top->fd;
			call.sk = top->sk;
		}
		/* A wrapper handing the same buffer on: the outer call reports it once. */
		if (top->ssl == ssl && top->buf == buf && top->direction == direction)
			call.direction = DIR_NONE;
	}
	slot = stack_slot(stack, depth);
	if (!slot)
		return 0;
	*slot = call;
	stack->depth = depth + 1;
	return call.direction == DIR_NONE ? 0 : 1;
}


/* ---- Connections quiet until an LLM request ---- */

#define REQUEST_LINE_PEEK 256 /* a power of two: indexes are masked */

struct request_peek {
	char line[REQUEST_LINE_PEEK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct request_peek);
} request_peek_scratch SEC(".maps");

struct path_match {
	struct request_peek *peek;
	__u32 path_start; /* index of the path's '/' */
	__u32 path_end;   /* index just past its last character */
	__u32 limit;      /* bytes read */
	bool matched;
};

static long find_path_end(__u32 index, void *data)
{
	struct path_match *m = data;
	__u32 at = m->path_start + index;
	char c;

	if (at >= m->limit)
		return 1;
	c = m->peek->line[at & (REQUEST_LINE_PEEK - 1)];
	if (c == ' ' || c == '?' || c == '#' || c == '\r' || c == 0)
		return 1;
	m->path_end = at + 1;
	return 0;
}

static long match_path_pattern(__u32 index, void *data)
{
	struct path_match *m = data;
	struct llmtap_path_pattern *p;
	__u32 start, len;

	if (index >= llm_path_count)
		return 1;
	p = bpf_map_lookup_elem(&llm_request_paths, &index);
	if (!p)
		return 1;
	len = p->len;
	if (len == 0 || len >= LLMTAP_PATH_PATTERN_LEN || m->path_end - m->path_start < len)
		return 0;
	start = p->suffix ? m->path_end - len : m->path_start;
	for (__u32 i = 0; i < LLMTAP_PATH_PATTERN_LEN - 1; i++) {
		if (i >= len) {
			m->matched = true;
			return 1;
		}
		if (m->peek->line[(start + i) & (REQUEST_LINE_PEEK - 1)] != p->text[i])
			return 0;
	}
	return 0;
}

/* The call's bytes at buf (len of them) start an HTTP/1.x request line ("METHOD /path...")
 * whose path an LLM route may match. */
static __always_inline bool starts_llm_request(__u64 buf, __u64 len)
{
	__u32 zero = 0;
	struct request_peek *peek = bpf_map_lookup_elem(&request_peek_scratch, &zero);
	struct path_match m = {};
	__u32 n = len < REQUEST_LINE_PEEK ? (__u32)len : REQUEST_LINE_PEEK;
	__u32 i;

	if (!peek || n < 8 || n > REQUEST_LINE_PEEK)
		return false;
	if (bpf_probe_read_user(peek->line, n, (void *)buf) != 0)
		return false;
	/* The method: 3 to 7 capital letters, then one space and the path's '/'. */
	for (i = 0; i < 8; i++) {
		char c = peek->line[i];

		if (c == ' ')
			break;
		if (c < 'A' || c > 'Z')
			return false;
	}
	if (i < 3 || i >= 8 || peek->line[(i + 1) & 15] != '/')
		return false;
	m.peek = peek;
	m.limit = n;
	m.path_start = i + 1;
	m.path_end = m.path_start;
	bpf_loop(REQUEST_LINE_PEEK, find_path_end, &m, 0);
	/* "/v1/chat/completions/" is that path too. */
	if (m.path_end > m.path_start + 1 && peek->line[(m.path_end - 1) & (REQUEST_LINE_PEEK - 1)] == '/')
		m.path_end--;
	bpf_loop(LLMTAP_MAX_PATH_PATTERNS, match_path_pattern, &m, 0);
	return m.matched;
}

static __always_inline void maybe_hold_write(__u64 ssl, __u64 buf, __u64 num, __u8 lib);

struct emit_ctx {
	__u64 buf;
	__u64 call_id;
	__u32 tid;
	__u32 offset;
	__u32 total;
	bool failed;
};

/* bpf_loop callback: one full DATA record from the user buffer. */
static long emit_data_record(__u32 index, void *arg)
{
	struct emit_ctx *ec = arg;
	struct llmtap_data_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		ec->failed = true;
		stat_add(LLMTAP_STAT_LOST_RECORDS, 1);
		return 1;
	}
	rec->hdr.kind = LLMTAP_REC_DATA;
	rec->hdr.tid = ec->tid;
	rec->hdr.call_id = ec->call_id;
	rec->hdr.offset = ec->offset;
	rec->hdr.data_len = LLMTAP_CHUNK_SIZE;
	rec->hdr.total_len = ec->total;
	rec->hdr.reserved = 0;
	if (bpf_probe_read_user(rec->data, LLMTAP_CHUNK_SIZE, (void *)(ec->buf + ec->offset))) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		ec->failed = true;
		stat_add(LLMTAP_STAT_READ_ERRORS, 1);
		return 1;
	}
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP); /* the CALL record that follows wakes */
	ec->offset += LLMTAP_CHUNK_SIZE;
	return 0;
}

/* Reserves a CALL record whose tail holds `tail` bytes and copies them in: one branch per
 * size class because reservations need constant sizes. */
#define RESERVE_TAIL_CLASS(CLASS)                                                            \
	if (tail <= (CLASS)) {                                                               \
		rec = bpf_ringbuf_reserve(&events, sizeof(*rec) + (CLASS), 0);               \
		if (!rec)                                                                    \
			return NULL;                                                         \
		barrier_var(tail);                                                           \
		if (tail > (CLASS) ||                                                        \
		    (tail && bpf_probe_read_user(rec->data, tail, (void *)src))) {           \
			bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);                          \
			*read_failed = true;                                                 \
			return NULL;                                                         \
		}                                                                            \
		return rec;                                                                  \
	}

static __always_inline struct llmtap_call_record *reserve_call_record(__u64 tail, __u64 src,
								       bool *read_failed)
{
	struct llmtap_call_record *rec;

	LLMTAP_TAIL_CLASSES(RESERVE_TAIL_CLASS)
	return NULL;
}

static __always_inline void emit_call(const struct inflight_call *call, __u32 len,
				      struct conn_info *conn, bool quiet, __u32 extra_flags)
{
	__u32 gap_bit = call->direction == LLMTAP_DIR_WRITE ? CONN_GAP_WRITE : CONN_GAP_READ;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 cap = quiet ? 0 : (len > max_bytes ? max_bytes : len);
	struct emit_ctx ec = {
		.buf = call->buf,
		.call_id = next_call_id(),
		.tid = (__u32)id,
		.total = cap,
	};
	struct llmtap_call_record *rec;
	bool read_failed = false;
	__u32 full_records = cap ? (cap - 1) / LLMTAP_CHUNK_SIZE : 0;
	__u32 tail;

	if (full_records)
		bpf_loop(full_records, emit_data_record, &ec, 0);
	tail = ec.failed ? 0 : cap - ec.offset;

	rec = reserve_call_record(tail, call->buf + ec.offset, &read_failed);
	if (!rec) {
		if (read_failed)
			stat_add(LLMTAP_STAT_READ_ERRORS, 1);
		else
			stat_add(LLMTAP_STAT_LOST_RECORDS, 1);
		stat_add(LLMTAP_STAT_LOST_CALLS, 1);
		stat_add(LLMTAP_STAT_LOST_BYTES, cap);
		if (conn)
			conn->flags |= gap_bit; /* racy with another CPU at worst: one gap unflagged */
		return;
	}
	if (read_failed || ec.failed)
		tail = 0;

	rec->hdr.kind = LLMTAP_REC_CALL;
	rec->hdr.tid = (__u32)id;
	rec->hdr.call_id = ec.call_id;
	rec->hdr.offset = ec.offset;
	rec->hdr.data_len = tail;
	rec->hdr.total_len = ec.offset + tail;
	rec->hdr.reserved = 0;
	rec->mono_ns = bpf_ktime_get_ns();
	rec->entry_ns = call->entry_ns;
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->start_boottime =
		process_start_boottime((struct task_struct *)bpf_get_current_task_btf());
	rec->ssl = call->ssl;
	rec->conn_id = conn ? conn->id : 0;
	rec->pid = id >> 32;
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->call_len = len;
	rec->captured_len = ec.offset + tail;
	rec->lost_len = cap - rec->captured_len;
	rec->flags = conn ? conn->flags & ~CONN_PRIVATE_FLAGS : 0;
	if (conn && (conn->flags & gap_bit)) {
		rec->flags |= LLMTAP_CALL_GAP_BEFORE;
		conn->flags &= ~gap_bit;
	}
	if (quiet)
		rec->flags |= LLMTAP_CALL_QUIET;
	else if (cap < len)
		rec->flags |= LLMTAP_CALL_TRUNCATED;
	if (rec->lost_len)
		rec->flags |= LLMTAP_CALL_LOST;
	rec->flags |= extra_flags;
	rec->direction = call->direction;
	rec->lib = call->lib;
	rec->reserved = 0;
	if (conn) {
		rec->fd = conn->fd;
		rec->local = conn->local;
		rec->remote = conn->remote;
	} else {
		rec->fd = -1;
		__builtin_memset(&rec->local, 0, sizeof(rec->local));
		__builtin_memset(&rec->remote, 0, sizeof(rec->remote));
	}
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	/* A preview's writer waits for userspace, and a write to an LLM endpoint may have to be
	 * cut off before its answer comes: wake the reader now. */
	bpf_ringbuf_submit(rec, (extra_flags & LLMTAP_CALL_PREVIEW) ||
					(call->direction == LLMTAP_DIR_WRITE && conn &&
					 bpf_map_lookup_elem(&prevent_endpoints, &conn->remote))
				? BPF_RB_FORCE_WAKEUP
				: call_submit_flags());

	stat_add(LLMTAP_STAT_CALLS, 1);
	stat_add(LLMTAP_STAT_BYTES, ec.offset + tail);
	if (cap > ec.offset + tail)
		stat_add(LLMTAP_STAT_LOST_BYTES, cap - (ec.offset + tail));
	if (quiet)
		stat_add(LLMTAP_STAT_QUIET_BYTES, len);
	else if (cap < len)
		stat_add(LLMTAP_STAT_TRUNCATED_CALLS, 1);
}

/* Completes a call at return: `ret` is the byte count (<= 0: nothing transferred). */
static __always_inline int exit_call(struct pt_regs *ctx, long ret)
{
	/* After `ret` the stack pointer is the entry's plus the popped return address (x86-64);
	 * equal to it where the return address lives in a register (arm64). */
	__u64 ret_sp = PT_REGS_SP(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	struct thread_tls *tt = current_thread_tls(false);
	struct inflight_stack *stack;
	struct inflight_call call, *top;
	__u32 tgid = id >> 32;
	struct conn_info *conn;
	__u64 len = 0;
	__u32 depth;

	if (!tt)
		return 0;
	stack = &tt->stack;
	depth = stack->depth;
	/* Deeper entries whose returns were missed are dropped on the way. */
	for (int i = 0; i < MAX_NESTED_CALLS; i++) {
		if (depth == 0)
			break;
		top = stack_slot(stack, depth - 1);
		if (!top || top->sp + 8 >= ret_sp)
			break;
		depth--;
	}
	stack->depth = depth;
	if (depth == 0)
		return 0;
	top = stack_slot(stack, depth - 1);
	if (!top)
		return 0;
	call = *top;
	if (call.sp > ret_sp)
		return 0; /* a return whose entry was not seen (probes attached mid-call) */
	stack->depth = depth - 1;

	if (call.out_len) {
		/* _ex variants: 1 on success, the count through the out-parameter */
		if (ret == 1)
			bpf_probe_read_user(&len, sizeof(len), (void *)call.out_len);
	} else if (ret > 0) {
		len = ret;
	}

	conn = get_conn(tgid, call.ssl);
	if (conn && call.sk)
		bind_socket(tgid, call.ssl, conn, call.fd, (struct sock *)call.sk, 0);
	if (conn && !conn->sk)
		tt->pending_ssl = call.ssl;

	if (len == 0 || call.direction == DIR_NONE)
		return 0;
	if (len > 0xffffffffULL)
		len = 0xffffffffULL;
	/* A held write that wrote: its retries, if any, are over. */
	if (conn && conn->preview_pending && call.direction == LLMTAP_DIR_WRITE &&
	    conn->preview_buf == call.buf)
		conn->preview_pending = 0;
	struct conn_key ck = { .tgid = tgid, .ssl = call.ssl };
	__u8 *quiet = conn ? bpf_map_lookup_elem(&quiet_conns, &ck) : NULL;
	__u32 flags = 0;

	if (quiet && *quiet == LLMTAP_QUIET_UNTIL_LLM_REQUEST && starts_llm_request(call.buf, len)) {
		bpf_map_delete_elem(&quiet_conns, &ck);
		quiet = NULL;
		flags = LLMTAP_CALL_RESUMED;
	}
	emit_call(&call, (__u32)len, conn, quiet != NULL, flags);
	return 0;
}

/* The descriptor the current syscall works on, where it is a read/write-family call (its first
 * argument, from the task's saved user registers); -1 otherwise (io_uring, sendfile). */
static __always_inline long current_syscall_fd(void)
{
	struct pt_regs *regs =
		(struct pt_regs *)bpf_task_pt_regs((struct task_struct *)bpf_get_current_task_btf());
	long nr;

#if defined(__TARGET_ARCH_x86)
	nr = BPF_CORE_READ(regs, orig_ax);
	/* read, write, readv, writev, sendto, recvfrom, sendmsg, recvmsg */
	if (nr == 0 || nr == 1 || nr == 19 || nr == 20 || (nr >= 44 && nr <= 47))
		return (long)(int)BPF_CORE_READ(regs, di);
#elif defined(__TARGET_ARCH_arm64)
	nr = BPF_CORE_READ(regs, syscallno);
	/* readv 65, writev 66, read 63, write 64, sendto 206, recvfrom 207, sendmsg 211, recvmsg 212 */
	if ((nr >= 63 && nr <= 66) || nr == 206 || nr == 207 || nr == 211 || nr == 212)
		return (long)(int)BPF_CORE_READ(regs, orig_x0);
#endif
	return -1;
}

/* A TCP/IP socket (Unix sockets and the rest carry no TLS we follow). */
static __always_inline bool inet_socket(struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return family == AF_INET || family == AF_INET6;
}

/* Socket I/O by the current thread on socket `sk` (NULL: the socket behind fd), descriptor
 * fd (-1 if unknown; with fd_from_syscall, read from the syscall once the thread turns out to
 * matter: a constant, so the syscall-tracepoint programs never contain that helper call;
 * inet_only: `sk` is checked to be TCP/IP, also only then): attributes it to the thread's TLS
 * call in progress, or to the connection whose call just ended without one. Threads that never
 * made a TLS call, and calls whose socket is known, leave at once. */
static __always_inline int note_socket_io(long fd, struct sock *sk, const bool fd_from_syscall,
					  const bool inet_only)
{
	struct thread_tls *tt = current_thread_tls(false);
	struct inflight_stack *stack;
	struct conn_info *conn;
	__u64 id;
	__u64 ssl;

	if (!tt)
		return 0; /* the thread never made a TLS call */
	stack = &tt->stack;
	if (stack->depth) {
		/* The innermost call does the I/O; outer calls on the same session share it. */
		__u32 inner = stack->depth - 1;
		struct inflight_call *innermost = stack_slot(stack, inner);
		__u64 inner_ssl;

		/* Its socket is known already (so is every outer call's on the same session:
		 * they were set together, or the inner call inherited it). */
		if (!innermost || innermost->sk)
			return 0;
		if (inet_only && !inet_socket(sk))
			return 0;
		inner_ssl = innermost->ssl;
		if (fd_from_syscall)
			fd = current_syscall_fd();
		if (!sk)
			sk = socket_of_fd((int)fd);
		if (!sk)
			return 0;
		for (int i = 0; i < MAX_NESTED_CALLS; i++) {
			if ((__u32)i <= inner && stack->calls[i].ssl == inner_ssl &&
			    !stack->calls[i].sk) {
				stack->calls[i].sk = (__u64)sk;
				stack->calls[i].fd = (__s32)fd;
			}
		}
		return 0;
	}
	ssl = tt->pending_ssl;
	if (!ssl)
		return 0;
	if (inet_only && !inet_socket(sk))
		return 0;
	if (fd_from_syscall)
		fd = current_syscall_fd();
	id = bpf_get_current_pid_tgid();
	conn = bpf_map_lookup_elem(&conns, &(struct conn_key){ .tgid = id >> 32, .ssl = ssl });
	if (!conn || bind_socket(id >> 32, ssl, conn, (int)fd, sk, LLMTAP_CALL_FD_GUESSED))
		tt->pending_ssl = 0;
	return 0;
}

/* OpenSSL (and BoringSSL): int SSL_write(SSL *, const void *, int), int SSL_read(...). */
SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	if (enter_call(ctx, (__u64)ssl, (__u64)buf, 0, LLMTAP_DIR_WRITE, LLMTAP_LIB_OPENSSL) &&
	    num > 0)
		maybe_hold_write((__u64)ssl, (__u64)buf, (__u64)num, LLMTAP_LIB_OPENSSL);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
	return enter_call(ctx, (__u64)ssl, (__u64)buf, 0, LLMTAP_DIR_READ, LLMTAP_LIB_OPENSSL);
}

/* int SSL_write_ex(SSL *, const void *, size_t, size_t *written), SSL_read_ex likewise. */
SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_entry, void *ssl, const void *buf, size_t num, size_t *written)
{
	if (enter_call(ctx, (__u64)ssl, (__u64)buf, (__u64)written, LLMTAP_DIR_WRITE,
		       LLMTAP_LIB_OPENSSL) &&
	    num > 0)
		maybe_hold_write((__u64)ssl, (__u64)buf, (__u64)num, LLMTAP_LIB_OPENSSL);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_entry, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	return enter_call(ctx, (__u64)ssl, (__u64)buf, (__u64)readbytes, LLMTAP_DIR_READ,
			  LLMTAP_LIB_OPENSSL);
}

/* int SSL_do_handshake(SSL *): carries no data, but names the socket before the first write. */
SEC("uprobe")
int BPF_KPROBE(ssl_handshake_entry, void *ssl)
{
	return enter_call(ctx, (__u64)ssl, 0, 0, DIR_NONE, LLMTAP_LIB_OPENSSL);
}

/* Every OpenSSL call above returns int: a byte count, or 1/0 for the _ex variants (whose
 * count comes through the out-parameter). Read as int: the upper half of rax is not -1. */
SEC("uretprobe")
int BPF_KRETPROBE(ssl_call_return, int ret)
{
	return exit_call(ctx, ret);
}

#define SOCKET_SYSCALL_TRACEPOINT(name)                                                      \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                          \
	int tp_enter_##name(struct trace_event_raw_sys_enter *ctx)                           \
	{                                                                                    \
		return note_socket_io((long)ctx->args[0], NULL, false, false);               \
	}

SOCKET_SYSCALL_TRACEPOINT(write)
SOCKET_SYSCALL_TRACEPOINT(read)
SOCKET_SYSCALL_TRACEPOINT(writev)
SOCKET_SYSCALL_TRACEPOINT(readv)
SOCKET_SYSCALL_TRACEPOINT(sendto)
SOCKET_SYSCALL_TRACEPOINT(recvfrom)
SOCKET_SYSCALL_TRACEPOINT(sendmsg)
SOCKET_SYSCALL_TRACEPOINT(recvmsg)

/* Linux 6.3+: the socket layer's own tracepoints, in sock_sendmsg()/sock_recvmsg() after the
 * I/O, in the caller's context. Unlike syscall tracepoints (whose mere attachment sends every
 * syscall of every task down the slow path), only socket I/O reaches them; a thread outside a
 * TLS call leaves after one or two lookups. Only TCP/IP sockets: a Unix socket pair costs
 * nothing. The descriptor comes from the syscall's own registers where it is a read/write-
 * family call (io_uring and sendfile leave it unknown: the socket is still bound). */
static __always_inline int note_socket_layer_io(struct sock *sk)
{
	return note_socket_io(-1, sk, true, true);
}

SEC("raw_tracepoint/sock_send_length")
int rtp_sock_send(struct bpf_raw_tracepoint_args *ctx)
{
	return note_socket_layer_io((struct sock *)ctx->args[0]);
}

SEC("raw_tracepoint/sock_recv_length")
int rtp_sock_recv(struct bpf_raw_tracepoint_args *ctx)
{
	return note_socket_layer_io((struct sock *)ctx->args[0]);
}

/* GnuTLS: ssize_t gnutls_record_send(gnutls_session_t, const void *, size_t), recv alike. */
SEC("uprobe")
int BPF_KPROBE(gnutls_send_entry, void *session, const void *data, size_t size)
{
	if (enter_call(ctx, (__u64)session, (__u64)data, 0, LLMTAP_DIR_WRITE, LLMTAP_LIB_GNUTLS) &&
	    size > 0)
		maybe_hold_write((__u64)session, (__u64)data, (__u64)size, LLMTAP_LIB_GNUTLS);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(gnutls_recv_entry, void *session, void *data, size_t size)
{
	return enter_call(ctx, (__u64)session, (__u64)data, 0, LLMTAP_DIR_READ, LLMTAP_LIB_GNUTLS);
}

SEC("uretprobe")
int BPF_KRETPROBE(gnutls_call_return, long ret)
{
	return exit_call(ctx, ret);
}

/* void SSL_free(SSL *), void gnutls_deinit(gnutls_session_t): the session ends. */
SEC("uprobe")
int BPF_KPROBE(tls_session_free, void *session)
{
	close_conn(bpf_get_current_pid_tgid() >> 32, (__u64)session, LLMTAP_CLOSE_SESSION);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct fd_key fk = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = (__s32)ctx->args[0] };
	__u64 *ssl = bpf_map_lookup_elem(&fd_conns, &fk);

	if (ssl)
		close_conn(fk.tgid, *ssl, LLMTAP_CLOSE_FD);
	return 0;
}

#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9

static __always_inline void hold_connecting_process(__u32 tgid);

/* inet_sock_set_state(sk, oldstate, newstate), any kernel since 4.16: a TCP socket that
 * closes (close() or shutdown() from ESTABLISHED: FIN_WAIT1; after the peer's FIN: LAST_ACK;
 * aborted or reset: CLOSE) ends its connection; one that starts connecting (SYN_SENT, in the
 * connecting task's context) may have to be held while its TLS code is attached. */
SEC("raw_tracepoint/inet_sock_set_state")
int rtp_inet_sock_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 sk = ctx->args[0];
	int newstate = (int)ctx->args[2];
	struct conn_key *ck;

	if (newstate == TCP_SYN_SENT) {
		hold_connecting_process(bpf_get_current_pid_tgid() >> 32);
		return 0;
	}
	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK && newstate != TCP_CLOSE)
		return 0;
	ck = bpf_map_lookup_elem(&sk_conns, &sk);
	if (ck)
		close_conn(ck->tgid, ck->ssl, LLMTAP_CLOSE_FD);
	return 0;
}

/* ---- Holds ---- */

#define SIGSTOP 19


/* Stops the current process for `reason`, recorded in `holds` first. Never while holds are
 * switched off, never without a free slot; counted either way. */
static __always_inline bool hold_current_process(__u32 tgid, __u32 reason, __u32 flags,
						 __u32 deadline_ms)
{
	bool held = false;
	struct llmtap_hold hold = {
		.since_ns = bpf_ktime_get_ns(),
		.start_boottime =
			process_start_boottime((struct task_struct *)bpf_get_current_task_btf()),
		.reason = reason,
		.flags = flags,
		.deadline_ms = deadline_ms,
	};

	/* Announce first, then look at the switch (both ordered by the atomic): userspace clears
	 * the switch, then waits for holds_inflight to drop to 0 before it sweeps. */
	__sync_fetch_and_add(&holds_inflight, 1);
	if (!holds_enabled || bpf_map_update_elem(&holds, &tgid, &hold, BPF_NOEXIST) != 0) {
		stat_add(LLMTAP_STAT_HOLDS_SKIPPED, 1);
	} else if (bpf_send_signal(SIGSTOP) != 0) {
		bpf_map_delete_elem(&holds, &tgid);
		stat_add(LLMTAP_STAT_HOLDS_SKIPPED, 1);
	} else {
		__u32 *notice = bpf_ringbuf_reserve(&hold_notices, sizeof(*notice), 0);

		if (notice) {
			*notice = tgid;
			bpf_ringbuf_submit(notice, BPF_RB_FORCE_WAKEUP);
		}
		stat_add(LLMTAP_STAT_HOLDS, 1);
		held = true;
	}
	__sync_fetch_and_sub(&holds_inflight, 1);
	return held;
}

/* Prevent mode, at the entry of a TLS write (its plaintext still unencrypted in `buf`): a
 * write on a connection to an LLM endpoint is sent to userspace first (a PREVIEW record) and
 * its process stopped, so that userspace judges it before a byte of it is encrypted: it then
 * resumes the writer, or destroys the connection first (the write fails, nothing leaves).
 * Only connections whose socket is known (bound during the handshake) can be matched to an
 * endpoint; every other TLS write pays one map lookup at most. */
static __always_inline void maybe_hold_write(__u64 ssl, __u64 buf, __u64 num, __u8 lib)
{
	__u32 tgid;
	struct conn_key key;
	struct conn_info *conn;

	if (!prevent_enabled)
		return; /* before any helper: every TLS write of every traced process comes here */
	tgid = bpf_get_current_pid_tgid() >> 32;
	key = (struct conn_key){ .tgid = tgid, .ssl = ssl };
	conn = bpf_map_lookup_elem(&conns, &key);
	if (!conn)
		return;
	if (!conn->sk) {
		stat_add(LLMTAP_STAT_PREVENT_UNBOUND, 1);
		return;
	}
	if (bpf_map_lookup_elem(&prevent_exempt, &key))
		return;
	/* To an endpoint not known as an LLM server: held until userspace has classified the
	 * connection (it then adds the endpoint, or exempts the connection). */
	if (!prevent_new_conns && !bpf_map_lookup_elem(&prevent_endpoints, &conn->remote))
		return;
	if (num > 0xffffffffULL)
		num = 0xffffffffULL;
	if (conn->preview_pending && conn->preview_buf == buf && conn->preview_len == (__u32)num) {
		stat_add(LLMTAP_STAT_PREVENT_RETRIES, 1);
		return;
	}
	struct inflight_call call = {
		.entry_ns = bpf_ktime_get_ns(),
		.ssl = ssl,
		.buf = buf,
		.fd = -1,
		.direction = LLMTAP_DIR_WRITE,
		.lib = lib,
	};
	emit_call(&call, (__u32)num, conn, false, LLMTAP_CALL_PREVIEW);
	conn->preview_buf = buf;
	conn->preview_len = (__u32)num;
	conn->preview_pending = 1;
	if (hold_current_process(tgid, LLMTAP_HOLD_PREVENT,
				 prevent_fail_closed ? LLMTAP_HOLD_FAIL_CLOSED : 0,
				 prevent_deadline_ms ? prevent_deadline_ms
						     : LLMTAP_DEFAULT_PREVENT_DEADLINE_MS))
		stat_add(LLMTAP_STAT_PREVENT_HOLDS, 1);
}

static __always_inline void give_hold_token(__u32 tgid)
{
	__u64 now = bpf_ktime_get_ns();

	if (hold_while_attaching)
		bpf_map_update_elem(&hold_tokens, &tgid, &now, BPF_ANY);
}

/* ---- Discovery: tell userspace about files to examine, before their first TLS call. ---- */

/* The inode's change time moved between kernels: i_ctime (before 6.6), __i_ctime (6.6-6.10),
 * i_ctime_sec/i_ctime_nsec (6.11+, whose nsec may carry flag bits above bit 30). */
struct inode___ctime_before_6_6 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___ctime_6_6 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

static __always_inline bool file_key_of(struct file *file, struct llmtap_file_key *key)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	if (!inode)
		return false;
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->generation = BPF_CORE_READ(inode, i_generation);
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		key->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
		key->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec) & 0x3fffffff;
	} else if (bpf_core_field_exists(((struct inode___ctime_6_6 *)inode)->__i_ctime)) {
		struct inode___ctime_6_6 *i = (void *)inode;

		key->ctime_sec = BPF_CORE_READ(i, __i_ctime.tv_sec);
		key->ctime_nsec = BPF_CORE_READ(i, __i_ctime.tv_nsec);
	} else {
		struct inode___ctime_before_6_6 *i = (void *)inode;

		key->ctime_sec = BPF_CORE_READ(i, i_ctime.tv_sec);
		key->ctime_nsec = BPF_CORE_READ(i, i_ctime.tv_nsec);
	}
	return true;
}

static __always_inline struct llmtap_proc_event *reserve_proc_event(__u32 kind, __u32 tgid)
{
	struct llmtap_proc_event *ev = bpf_ringbuf_reserve(&proc_events, sizeof(*ev), 0);

	if (!ev) {
		stat_add(LLMTAP_STAT_LOST_PROC_EVENTS, 1);
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->pid = tgid;
	ev->mono_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	return ev;
}

/* The file mapped at `addr` in the current process, by key (ino 0: none). */
static long vma_file_key(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct file *file = BPF_CORE_READ(vma, vm_file);

	if (file)
		file_key_of(file, (struct llmtap_file_key *)data);
	return 0;
}

static __always_inline void file_at(__u64 addr, struct llmtap_file_key *key)
{
	bpf_find_vma((struct task_struct *)bpf_get_current_task_btf(), addr, vma_file_key, key, 0);
}

static __always_inline bool same_file(const struct llmtap_file_key *a,
				      const struct llmtap_file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* exec of an executable never examined (it may carry TLS: node), or, where the dynamic loader
 * is watched, of one whose loader (ld.so) is not yet: userspace examines it, holding the
 * process at connect() meanwhile. */
static __always_inline int process_exec(bool check_loader)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct llmtap_file_key key = {}, loader = {};
	struct llmtap_proc_event *ev;
	bool new_loader = false;
	__u8 *known;

	if (tgid == self_tgid || !file_key_of(BPF_CORE_READ(task, mm, exe_file), &key))
		return 0;
	if (check_loader) {
		/* After exec the task starts in its interpreter (or in a static executable). */
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

#if defined(__TARGET_ARCH_x86)
		file_at(BPF_CORE_READ(regs, ip), &loader);
#elif defined(__TARGET_ARCH_arm64)
		file_at(BPF_CORE_READ(regs, pc), &loader);
#endif
		new_loader = loader.ino && !same_file(&loader, &key) &&
			     !bpf_map_lookup_elem(&known_files, &loader);
	}
	known = bpf_map_lookup_elem(&known_files, &key);
	if (known && *known == LLMTAP_FILE_QUIET && !new_loader)
		return 0;
	if (!known || new_loader)
		give_hold_token(tgid);
	ev = reserve_proc_event(LLMTAP_PROC_EXEC, tgid);
	if (!ev)
		return 0;
	ev->file = key;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int tp_process_exec(void *ctx)
{
	return process_exec(false);
}

SEC("tracepoint/sched/sched_process_exec")
int tp_process_exec_loader(void *ctx)
{
	return process_exec(true);
}

/* Names that carry TLS record functions: libssl.so.*, libgnutls.so.* (any directory). */
static __always_inline bool tls_library_name(const char *name)
{
	if (name[0] != 'l' || name[1] != 'i' || name[2] != 'b')
		return false;
	if (name[3] == 's' && name[4] == 's' && name[5] == 'l')
		return true;
	return name[3] == 'g' && name[4] == 'n' && name[5] == 'u' && name[6] == 't' &&
	       name[7] == 'l' && name[8] == 's';
}

/* A TLS library file `key` named `name`, examined before (`known`, not quiet) or not, is mapped
 * in process tgid: a file never examined gets the process a hold token; a known one only
 * counts its user. Token first, event second: userspace may handle the event (and take the
 * token back) before this program returns. */
static __always_inline void report_tls_library(__u32 tgid, const struct llmtap_file_key *key,
					       bool known, const char *name)
{
	struct llmtap_proc_event *ev;

	if (!known)
		give_hold_token(tgid);
	ev = reserve_proc_event(LLMTAP_PROC_LIB_MAPPED, tgid);
	if (!ev)
		return;
	ev->file = *key;
	__builtin_memcpy(ev->name, name, LLMTAP_LIB_NAME_LEN);
	bpf_ringbuf_submit(ev, 0);
}

#define PROT_EXEC 0x4

/* mmap(addr, len, prot, flags, fd, off) with PROT_EXEC of an unexamined TLS library: the
 * dynamic loader (at start, or at dlopen) is mapping it in. */
SEC("tracepoint/syscalls/sys_enter_mmap")
int tp_enter_mmap(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	int fd = (int)ctx->args[4];
	struct llmtap_file_key key = {};
	struct file *file = NULL;
	struct file **fds;
	struct fdtable *fdt;
	const unsigned char *dname;
	char name[LLMTAP_LIB_NAME_LEN] = {};
	__u8 *known;

	if (!(ctx->args[2] & PROT_EXEC) || fd < 0 || tgid == self_tgid)
		return 0;
	fdt = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file || !file_key_of(file, &key))
		return 0;
	known = bpf_map_lookup_elem(&known_files, &key);
	if (known && *known == LLMTAP_FILE_QUIET)
		return 0;
	dname = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), dname) < 0 || !tls_library_name(name))
		return 0;
	report_tls_library(tgid, &key, known != NULL, name);
	return 0;
}

/* ---- The dynamic loader: libraries loaded at start and by dlopen(), without syscall hooks.
 * glibc's ld.so calls _dl_debug_state() (the debuggers' breakpoint, r_debug.r_brk) after the
 * start-up libraries are mapped and after every dlopen()/dlclose(), with _r_debug.r_state
 * RT_CONSISTENT once the list of loaded objects (struct link_map, <link.h>) is complete. The
 * probe's cookie is the distance from _dl_debug_state to _r_debug in that ld.so. */

#define RT_CONSISTENT 0
#define MAX_LOADED_OBJECTS 1024
#define LOADED_PATH_LEN 256

struct link_map_head { /* the public head of glibc's struct link_map */
	__u64 l_addr;
	__u64 l_name;
	__u64 l_ld;
	__u64 l_next;
	__u64 l_prev;
};

struct r_debug_head {
	__s32 r_version;
	__u32 pad;
	__u64 r_map;
	__u64 r_brk;
	__s32 r_state;
};

struct loaded_path {
	char path[LOADED_PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct loaded_path);
} loaded_path_scratch SEC(".maps");

/* The TLS libraries a process already reported: a process that dlopens a hundred modules
 * reports its TLS library once, not at every dlopen. The start time tells a reused pid
 * apart; the entry goes when the (then watched) process exits. */
#define LIBS_REMEMBERED 4

struct reported_libs {
	__u64 start_boottime;
	__u64 ino[LIBS_REMEMBERED];
	__u32 dev[LIBS_REMEMBERED];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LLMTAP_MAX_WATCHED);
	__type(key, __u32); /* tgid */
	__type(value, struct reported_libs);
} lib_users SEC(".maps");

/* True the first time (process, file) is seen here (and always once the slots are full). */
static __always_inline bool first_report(__u32 tgid, __u64 start_boottime,
					 const struct llmtap_file_key *key)
{
	struct reported_libs *seen = bpf_map_lookup_elem(&lib_users, &tgid);

	if (!seen || seen->start_boottime != start_boottime) {
		struct reported_libs fresh = { .start_boottime = start_boottime };

		bpf_map_update_elem(&lib_users, &tgid, &fresh, BPF_ANY);
		seen = bpf_map_lookup_elem(&lib_users, &tgid);
		if (!seen)
			return true;
	}
	for (int i = 0; i < LIBS_REMEMBERED; i++) {
		if (seen->ino[i] == key->ino && seen->dev[i] == (__u32)key->dev)
			return false;
		if (!seen->ino[i]) {
			seen->ino[i] = key->ino;
			seen->dev[i] = (__u32)key->dev;
			return true;
		}
	}
	return true;
}

struct loader_walk {
	__u64 next;
	__u64 start_boottime;
	__u32 tgid;
};

struct basename_scan {
	struct loaded_path *path;
	__u32 len;
	__u32 base; /* index just past the last '/' */
};

static long basename_step(__u32 index, void *data)
{
	struct basename_scan *scan = data;

	if (index >= scan->len)
		return 1;
	if (scan->path->path[index & (LOADED_PATH_LEN - 1)] == '/')
		scan->base = index + 1;
	return 0;
}

static long loader_walk_step(__u32 index, void *data)
{
	struct loader_walk *w = data;
	struct link_map_head lm;
	struct loaded_path *scratch;
	struct llmtap_file_key key = {};
	char name[LLMTAP_LIB_NAME_LEN] = {};
	__u32 zero = 0, base = 0;
	__u8 *known;
	long len;

	if (!w->next || bpf_probe_read_user(&lm, sizeof(lm), (void *)w->next) != 0)
		return 1;
	w->next = lm.l_next;
	scratch = bpf_map_lookup_elem(&loaded_path_scratch, &zero);
	if (!lm.l_name || !scratch)
		return 0;
	len = bpf_probe_read_user_str(scratch->path, sizeof(scratch->path), (void *)lm.l_name);
	if (len <= 1)
		return 0;
	struct basename_scan scan = { .path = scratch, .len = (__u32)len };

	bpf_loop(LOADED_PATH_LEN, basename_step, &scan, 0);
	base = scan.base;
	for (__u32 j = 0; j < LLMTAP_LIB_NAME_LEN - 1; j++) {
		__u32 at = base + j;

		if (at >= LOADED_PATH_LEN)
			break;
		name[j] = scratch->path[at & (LOADED_PATH_LEN - 1)];
		if (!name[j])
			break;
	}
	if (!tls_library_name(name))
		return 0;
	file_at(lm.l_addr, &key);
	if (!key.ino)
		return 0;
	/* Examined and quiet (no TLS functions, or a pinned file whose users need no counting):
	 * nothing to report, nothing to remember. */
	known = bpf_map_lookup_elem(&known_files, &key);
	if (known && *known == LLMTAP_FILE_QUIET)
		return 0;
	if (first_report(w->tgid, w->start_boottime, &key))
		report_tls_library(w->tgid, &key, known != NULL, name);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(dl_debug_state)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct r_debug_head rd;
	struct loader_walk w = {};
	__u64 r_debug = PT_REGS_IP(ctx) + bpf_get_attach_cookie(ctx);

	if (tgid == self_tgid)
		return 0;
	if (bpf_probe_read_user(&rd, sizeof(rd), (void *)r_debug) != 0 || rd.r_state != RT_CONSISTENT)
		return 0;
	w.next = rd.r_map;
	w.tgid = tgid;
	w.start_boottime = process_start_boottime((struct task_struct *)bpf_get_current_task_btf());
	bpf_loop(MAX_LOADED_OBJECTS, loader_walk_step, &w, 0);
	return 0;
}

/* A TCP connect by a process holding a token: its first TLS bytes come after this, so it is
 * stopped until its probes are in (or the deadline passes). A Unix socket (nscd, syslog,
 * D-Bus) never carries the TLS we read: no stop. */
static __always_inline void hold_connecting_process(__u32 tgid)
{
	__u64 *token = bpf_map_lookup_elem(&hold_tokens, &tgid);
	__u64 given;

	if (!token)
		return;
	given = *token;
	/* Consumed by this stop: whoever deletes it owns it (two threads connecting at once). */
	if (bpf_map_delete_elem(&hold_tokens, &tgid) != 0)
		return;
	if (bpf_ktime_get_ns() - given > LLMTAP_HOLD_WINDOW_NS)
		return;
	hold_current_process(tgid, LLMTAP_HOLD_ATTACH, 0, 0);
}

SEC("tracepoint/sched/sched_process_exit")
int tp_process_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct llmtap_proc_event *ev;

	if ((__u32)id != tgid || !bpf_map_lookup_elem(&watched_tgids, &tgid))
		return 0;
	bpf_map_delete_elem(&watched_tgids, &tgid);
	bpf_map_delete_elem(&lib_users, &tgid);
	ev = reserve_proc_event(LLMTAP_PROC_EXIT, tgid);
	if (ev)
		bpf_ringbuf_submit(ev, 0);
	return 0;
}
