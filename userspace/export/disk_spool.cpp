#include "export/disk_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace llmtap::exporter {
namespace {

namespace fs = std::filesystem;

// A record on disk: payload length, time, severity, CRC-32 of the three after it, payload.
constexpr size_t kHeaderBytes = 4 + 8 + 1 + 4;
constexpr uint32_t kMaxPayload = 64u << 20;

uint32_t record_crc(uint64_t time_ms, uint8_t severity, const char* payload, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(&time_ms), sizeof time_ms);
  crc = crc32(crc, &severity, 1);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(payload), static_cast<uInt>(size));
  return static_cast<uint32_t>(crc);
}

bool high_class(uint8_t severity_id) { return severity_id >= 3; }  // Medium and above

std::string segment_name(uint64_t seq, bool high) {
  char name[48];
  std::snprintf(name, sizeof name, "%016llu-%s.seg", static_cast<unsigned long long>(seq),
                high ? "high" : "low");
  return name;
}

bool read_exact(int fd, void* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, static_cast<char*>(out) + done, size - done,
                              static_cast<off_t>(offset + done));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

struct Header {
  uint32_t size = 0;
  uint64_t time_ms = 0;
  uint8_t severity = 0;
  uint32_t crc = 0;
};

bool read_header(int fd, uint64_t offset, Header& h) {
  char raw[kHeaderBytes];
  if (!read_exact(fd, raw, sizeof raw, offset)) return false;
  std::memcpy(&h.size, raw, 4);
  std::memcpy(&h.time_ms, raw + 4, 8);
  h.severity = static_cast<uint8_t>(raw[12]);
  std::memcpy(&h.crc, raw + 13, 4);
  return h.size <= kMaxPayload;
}

}  // namespace

DiskSpool::DiskSpool(std::string dir, uint64_t budget_bytes, uint64_t segment_bytes)
    : dir_(std::move(dir)), budget_(budget_bytes), segment_bytes_(segment_bytes) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || ::access(dir_.c_str(), W_OK) != 0) {
    throw std::runtime_error("spool directory " + dir_ + " cannot be used: " +
                             (ec ? ec.message() : std::strerror(errno)));
  }
  load_existing();
}

DiskSpool::~DiskSpool() {
  close_writer(false);
  close_writer(true);
}

void DiskSpool::load_existing() {
  std::vector<Segment> found;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    unsigned long long seq = 0;
    char cls[8] = {};
    if (std::sscanf(name.c_str(), "%16llu-%4[a-z].seg", &seq, cls) != 2) continue;
    Segment s;
    s.seq = seq;
    s.high = std::strcmp(cls, "high") == 0;
    s.path = entry.path().string();
    const int fd = ::open(s.path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = 0;
    std::string payload;
    Header h;
    // Keep whole, intact records; cut the file at the first one that is not (a crash while
    // appending).
    while (offset + kHeaderBytes <= size && read_header(fd, offset, h) &&
           offset + kHeaderBytes + h.size <= size) {
      payload.resize(h.size);
      if (!read_exact(fd, payload.data(), h.size, offset + kHeaderBytes) ||
          record_crc(h.time_ms, h.severity, payload.data(), h.size) != h.crc) {
        break;
      }
      offset += kHeaderBytes + h.size;
      ++s.records;
    }
    if (offset < size) {
      ++stats_.corrupt;
      if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) offset = size;
    }
    ::close(fd);
    s.bytes = offset;
    if (s.records == 0) {
      fs::remove(s.path);
      continue;
    }
    found.push_back(std::move(s));
  }
  std::sort(found.begin(), found.end(),
            [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  for (Segment& s : found) {
    next_seq_ = std::max(next_seq_, s.seq + 1);
    records_ += s.records;
    bytes_ += s.bytes;
    segments_.push_back(std::move(s));
  }
}

void DiskSpool::close_writer(bool high) {
  const int i = high ? 1 : 0;
  if (writer_fd_[i] >= 0) ::close(writer_fd_[i]);
  writer_fd_[i] = -1;
  writer_seq_[i] = 0;
}

DiskSpool::Segment& DiskSpool::writable(bool high) {
  const int i = high ? 1 : 0;
  if (writer_fd_[i] >= 0) {
    for (Segment& s : segments_) {
      if (s.seq == writer_seq_[i] && s.bytes < segment_bytes_) return s;
    }
    close_writer(high);  // full (or gone): the next one
  }
  Segment s;
  s.seq = next_seq_++;
  s.high = high;
  s.path = dir_ + "/" + segment_name(s.seq, high);
  writer_fd_[i] = ::open(s.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  writer_seq_[i] = s.seq;
  segments_.push_back(std::move(s));
  return segments_.back();
}

void DiskSpool::remove_segment(size_t index) {
  Segment& s = segments_[index];
  for (int i = 0; i < 2; ++i) {
    if (writer_fd_[i] >= 0 && writer_seq_[i] == s.seq) close_writer(i == 1);
  }
  records_ -= s.records;
  bytes_ -= std::min(bytes_, s.bytes - std::min(s.bytes, s.read_offset));  // unacknowledged
  ::unlink(s.path.c_str());
  segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(index));
  peeked_.clear();  // a peek into it is void; the caller peeks again
}

void DiskSpool::drop_for(uint64_t incoming) {
  while (bytes_ + incoming > budget_ && !segments_.empty()) {
    size_t victim = segments_.size();
    for (size_t i = 0; i < segments_.size(); ++i) {
      if (!segments_[i].high) {
        victim = i;
        break;
      }
    }
    const bool low = victim < segments_.size();
    if (!low) victim = 0;
    (low ? stats_.dropped_low : stats_.dropped_high) += segments_[victim].records;
    remove_segment(victim);
  }
}

void DiskSpool::append(const OutRecord& r) {
  const uint64_t size = kHeaderBytes + r.payload.size();
  if (size > budget_ || r.payload.size() > kMaxPayload) {
    ++(high_class(r.severity_id) ? stats_.dropped_high : stats_.dropped_low);
    return;
  }
  drop_for(size);
  const bool high = high_class(r.severity_id);
  Segment& s = writable(high);
  const int fd = writer_fd_[high ? 1 : 0];
  char header[kHeaderBytes];
  const auto length = static_cast<uint32_t>(r.payload.size());
  const uint32_t crc = record_crc(r.time_ms, r.severity_id, r.payload.data(), r.payload.size());
  std::memcpy(header, &length, 4);
  std::memcpy(header + 4, &r.time_ms, 8);
  header[12] = static_cast<char>(r.severity_id);
  std::memcpy(header + 13, &crc, 4);
  std::string buffer(header, sizeof header);
  buffer += r.payload;
  // One write: O_APPEND keeps records whole against each other; a crash mid-write leaves a
  // torn tail that the CRC finds at the next open.
  size_t done = 0;
  while (fd >= 0 && done < buffer.size()) {
    const ssize_t n = ::write(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != buffer.size()) {
    // Disk full or broken: this record is lost (counted); cut what part of it was written.
    ++stats_.write_errors;
    if (done > 0 && fd >= 0) {
      if (::ftruncate(fd, static_cast<off_t>(s.bytes)) != 0) s.bytes += done;
    }
    close_writer(high);
    return;
  }
  s.bytes += size;
  ++s.records;
  ++records_;
  bytes_ += size;
  ++stats_.appended;
}

std::vector<OutRecord> DiskSpool::peek(size_t max_records, size_t max_bytes) {
  std::vector<OutRecord> out;
  peeked_.clear();
  size_t taken_bytes = 0;
  for (const Segment& s : segments_) {
    if (out.size() >= max_records) break;
    const int fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    uint64_t offset = s.read_offset;
    Header h;
    while (out.size() < max_records && offset + kHeaderBytes <= s.bytes &&
           read_header(fd, offset, h)) {
      if (!out.empty() && taken_bytes + h.size > max_bytes) break;
      OutRecord r;
      r.time_ms = h.time_ms;
      r.severity_id = h.severity;
      r.payload.resize(h.size);
      if (!read_exact(fd, r.payload.data(), h.size, offset + kHeaderBytes)) break;
      offset += kHeaderBytes + h.size;
      taken_bytes += h.size;
      peeked_.emplace_back(s.seq, offset);
      out.push_back(std::move(r));
    }
    ::close(fd);
    if (taken_bytes >= max_bytes) break;
  }
  return out;
}

void DiskSpool::acknowledge(size_t count) {
  count = std::min(count, peeked_.size());
  for (size_t k = 0; k < count; ++k) {
    const auto [seq, end] = peeked_[k];
    for (size_t i = 0; i < segments_.size(); ++i) {
      Segment& s = segments_[i];
      if (s.seq != seq) continue;
      const uint64_t advanced = end - s.read_offset;
      s.read_offset = end;
      bytes_ -= std::min(bytes_, advanced);
      --s.records;
      --records_;
      ++stats_.acknowledged;
      break;
    }
  }
  peeked_.erase(peeked_.begin(), peeked_.begin() + static_cast<std::ptrdiff_t>(count));
  // Segments read to the end go (the open writer's too: the next record starts a new one).
  for (size_t i = 0; i < segments_.size();) {
    Segment& s = segments_[i];
    if (s.records == 0 && s.read_offset >= s.bytes) {
      for (int w = 0; w < 2; ++w) {
        if (writer_fd_[w] >= 0 && writer_seq_[w] == s.seq) close_writer(w == 1);
      }
      ::unlink(s.path.c_str());
      segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

}  // namespace llmtap::exporter
