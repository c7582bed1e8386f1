#include "common/backlog_writer.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace llmtap::common {
namespace {

enum class Kind {
  kNeverBlocks,  // a regular file, /dev/null: no reader to wait for
  kPipe,
  kSocket,
  kThreadOnly,  // a terminal (^S stops it), or a descriptor of unknown kind
};

constexpr size_t kPage = 4096;
// Written batches' buffers are kept for the next ones, so that the caller fills buffers whose
// pages are already there: a fresh one costs a page fault per 4 KiB on first touch, which on
// this project's VM made trace's output of 1 MiB calls behind a slow reader cost twice the CPU
// (24 against 12.7 ms per request). At most as many bytes as the backlog may hold (16 MiB at least) are kept while the
// backlog is in use; once it has been empty for kTrimAfter, kIdleSpareBytes.
constexpr size_t kMinSpareBytes = size_t{16} << 20;
constexpr size_t kIdleSpareBytes = size_t{4} << 20;
constexpr auto kTrimAfter = std::chrono::seconds(5);

Kind kind_of(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Kind::kThreadOnly;
  if (S_ISREG(st.st_mode)) return Kind::kNeverBlocks;
  if (S_ISCHR(st.st_mode)) return isatty(fd) ? Kind::kThreadOnly : Kind::kNeverBlocks;
  if (S_ISFIFO(st.st_mode)) return Kind::kPipe;
  if (S_ISSOCK(st.st_mode)) return Kind::kSocket;
  return Kind::kThreadOnly;
}

uint64_t count_lines(std::string_view bytes) {
  return static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
}

}  // namespace

struct BacklogWriter::Shared {
  int fd = -1;
  size_t max_backlog = 0;
  Kind kind = Kind::kThreadOnly;
  WhenFull when_full = WhenFull::kDrop;
  bool try_nowait = true;  // pwritev2(RWF_NOWAIT) until the kernel says it cannot
  size_t pipe_capacity = 0;

  std::mutex mu;
  std::condition_variable wake;  // the writer thread: a batch queued, or stop
  std::condition_variable idle;  // a batch written (room made), or the fd failed
  struct Pending {
    std::string bytes;
    size_t from = 0;  // what an inline write already wrote
    size_t size() const { return bytes.size() - from; }
  };
  std::deque<Pending> queue;
  std::vector<std::string> spare;  // written batches' buffers, handed back to submit()
  size_t spare_bytes = 0;
  size_t backlog_bytes = 0;        // queued, plus the batch being written
  bool writing = false;            // the writer thread is writing a batch
  bool failed = false;
  bool stop = false;
  BacklogStats stats;
  std::thread thread;
  std::atomic<uint64_t> bytes_written{0};

  // Bytes written without waiting for the reader (0: none fit now), or -1 on a write error.
  ssize_t write_now(const char* data, size_t size);
  // Everything, waiting as long as the reader takes. False on a write error.
  bool write_all(const char* data, size_t size);
  void drop(std::string_view bytes);  // mu held
  void drop_queued();                 // mu held: every queued batch, out of the backlog
  void trim_spares(size_t keep);      // mu held
  void run();
};

ssize_t BacklogWriter::Shared::write_now(const char* data, size_t size) {
  if (kind == Kind::kNeverBlocks) return write_all(data, size) ? static_cast<ssize_t>(size) : -1;
  if (kind == Kind::kThreadOnly) return 0;
  for (;;) {
    ssize_t n = -1;
    if (try_nowait) {
      iovec iov{const_cast<char*>(data), size};
      n = pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
      if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
        try_nowait = false;  // a kernel whose pipes do not take RWF_NOWAIT (before 6.4)
        continue;
      }
    } else if (kind == Kind::kSocket) {
      n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      // A pipe's free room from the bytes waiting in it. The pipe holds pages: the one being
      // read and the last one written may be part-filled, so two pages are kept in reserve.
      int unread = 0;
      if (ioctl(fd, FIONREAD, &unread) != 0 || unread < 0) return 0;
      const size_t used = (static_cast<size_t>(unread) + kPage - 1) / kPage * kPage + 2 * kPage;
      const size_t room = pipe_capacity > used ? pipe_capacity - used : 0;
      if (room == 0) return 0;
      n = write(fd, data, std::min(size, room));
    }
    if (n >= 0) {
      bytes_written.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      return n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

bool BacklogWriter::Shared::write_all(const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n > 0) {
      bytes_written.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      data += n;
      size -= static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone set O_NONBLOCK on the shared open file: wait for room instead.
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return false;
    } else {
      return false;
    }
  }
  return true;
}

void BacklogWriter::Shared::drop(std::string_view bytes) {
  ++stats.dropped_batches;
  stats.dropped_bytes += bytes.size();
  stats.dropped_lines += count_lines(bytes);
}

void BacklogWriter::Shared::drop_queued() {
  for (const Pending& p : queue) {
    drop(std::string_view(p.bytes).substr(p.from));
    backlog_bytes -= p.size();
  }
  queue.clear();
}

void BacklogWriter::Shared::trim_spares(size_t keep) {
  while (spare_bytes > keep && !spare.empty()) {
    spare_bytes -= spare.back().capacity();
    spare.pop_back();
  }
}

void BacklogWriter::Shared::run() {
  std::unique_lock lock(mu);
  for (;;) {
    if (!wake.wait_for(lock, kTrimAfter, [&] { return stop || !queue.empty(); })) {
      trim_spares(kIdleSpareBytes);  // idle: give back what a burst left
      continue;
    }
    if (stop) return;
    Pending batch = std::move(queue.front());
    queue.pop_front();
    writing = true;
    lock.unlock();
    const bool ok = write_all(batch.bytes.data() + batch.from, batch.size());
    lock.lock();
    writing = false;
    backlog_bytes -= batch.size();
    if (ok) {
      ++stats.written_later;
    } else {
      failed = true;
      drop(std::string_view(batch.bytes).substr(batch.from));
      drop_queued();
    }
    batch.bytes.clear();
    if (spare_bytes + batch.bytes.capacity() <= std::max(kMinSpareBytes, max_backlog)) {
      spare_bytes += batch.bytes.capacity();
      spare.push_back(std::move(batch.bytes));
    }
    idle.notify_all();
  }
}

BacklogWriter::BacklogWriter(int fd, size_t max_backlog_bytes, WhenFull when_full, Probe probe)
    : shared_(std::make_shared<Shared>()) {
  shared_->fd = fd;
  shared_->when_full = when_full;
  shared_->max_backlog = max_backlog_bytes;
  shared_->kind = kind_of(fd);
  shared_->try_nowait = probe == Probe::kAuto;
  if (shared_->kind == Kind::kPipe) {
    const int capacity = fcntl(fd, F_GETPIPE_SZ);
    shared_->pipe_capacity = capacity > 0 ? static_cast<size_t>(capacity) : 0;
  }
}

BacklogWriter::~BacklogWriter() {
  bool writing = false;
  {
    std::lock_guard lock(shared_->mu);
    shared_->stop = true;
    writing = shared_->writing;
  }
  shared_->wake.notify_all();
  if (!shared_->thread.joinable()) return;
  // Mid-write, the thread may wait on its reader for ever: it holds its own reference to the
  // shared state and ends when that write does (or with the process).
  if (writing) {
    shared_->thread.detach();
  } else {
    shared_->thread.join();
  }
}

bool BacklogWriter::submit(std::string& batch) {
  Shared& s = *shared_;
  std::unique_lock lock(s.mu);
  if (batch.empty()) return !s.failed;
  if (s.failed) {
    s.drop(batch);
    batch.clear();
    return false;
  }
  size_t done = 0;
  if (s.queue.empty() && !s.writing) {
    // Nothing ahead of it: the owner is the only one writing now, so the order holds.
    const ssize_t n = s.write_now(batch.data(), batch.size());
    if (n < 0) {
      s.failed = true;
      s.drop(batch);
      batch.clear();
      s.idle.notify_all();
      return false;
    }
    done = static_cast<size_t>(n);
    if (done == batch.size()) {
      ++s.stats.written_inline;
      batch.clear();
      return true;
    }
  }
  const size_t rest = batch.size() - done;
  // A batch of which nothing was written is dropped whole when it does not fit; the rest of a
  // batch partly written is always queued, so that the reader never gets half a line.
  if (done == 0 && s.backlog_bytes + rest > s.max_backlog) {
    if (s.when_full == WhenFull::kDrop) {
      s.drop(batch);
      batch.clear();
      return true;
    }
    // Room for it, or an empty backlog (a batch larger than the cap waits for nothing else).
    s.idle.wait(lock, [&] {
      return s.failed || s.backlog_bytes == 0 || s.backlog_bytes + rest <= s.max_backlog;
    });
    if (s.failed) {
      s.drop(batch);
      batch.clear();
      return false;
    }
  }
  s.backlog_bytes += rest;
  s.stats.peak_backlog_bytes = std::max(s.stats.peak_backlog_bytes, s.backlog_bytes);
  const size_t capacity = batch.capacity();
  s.queue.push_back({std::move(batch), done});
  batch = std::string();
  if (!s.spare.empty()) {
    batch = std::move(s.spare.back());
    s.spare.pop_back();
    s.spare_bytes -= batch.capacity();
  } else {
    batch.reserve(capacity);  // one allocation rather than growing through the sizes again
  }
  if (!s.thread.joinable()) {
    s.thread = std::thread([shared = shared_] { shared->run(); });
  }
  lock.unlock();
  s.wake.notify_one();
  return true;
}

bool BacklogWriter::drain(std::chrono::milliseconds stall_limit) {
  Shared& s = *shared_;
  std::unique_lock lock(s.mu);
  uint64_t seen = s.bytes_written.load(std::memory_order_relaxed);
  auto last_progress = std::chrono::steady_clock::now();
  const auto step = std::min<std::chrono::milliseconds>(stall_limit, std::chrono::milliseconds(100));
  while (!s.failed && (s.writing || !s.queue.empty())) {
    s.idle.wait_for(lock, step);
    const auto now = std::chrono::steady_clock::now();
    const uint64_t written = s.bytes_written.load(std::memory_order_relaxed);
    if (written != seen) {
      seen = written;
      last_progress = now;
    } else if (now - last_progress >= stall_limit) {
      s.drop_queued();
      return false;
    }
  }
  return !s.failed;
}

BacklogStats BacklogWriter::stats() const {
  std::lock_guard lock(shared_->mu);
  return shared_->stats;
}

size_t BacklogWriter::backlog_bytes() const {
  std::lock_guard lock(shared_->mu);
  return shared_->backlog_bytes;
}

}  // namespace llmtap::common
