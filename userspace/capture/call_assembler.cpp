#include "capture/call_assembler.h"

#include <cstring>
#include <utility>

#include "llmtap_abi.h"

namespace llmtap::capture {
namespace {

template <typename T>
T read_struct(std::span<const std::byte> bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

std::string_view as_chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Endpoint to_endpoint(const llmtap_endpoint& e) {
  Endpoint out;
  std::memcpy(out.addr.data(), e.addr, sizeof(e.addr));
  out.port = e.port;
  out.family = e.family;
  return out;
}

TlsCall to_call(const llmtap_call_record& rec) {
  TlsCall call;
  call.call_id = rec.hdr.call_id;
  call.mono_ns = rec.mono_ns;
  call.entry_mono_ns = rec.entry_ns;
  call.cgroup_id = rec.cgroup_id;
  call.start_boottime_ns = rec.start_boottime;
  call.ssl = rec.ssl;
  call.conn_id = rec.conn_id;
  call.pid = rec.pid;
  call.tid = rec.hdr.tid;
  call.uid = rec.uid;
  call.call_len = rec.call_len;
  call.lost_len = rec.lost_len;
  call.fd = rec.fd;
  call.truncated = (rec.flags & LLMTAP_CALL_TRUNCATED) != 0;
  call.fd_guessed = (rec.flags & LLMTAP_CALL_FD_GUESSED) != 0;
  call.gap_before = (rec.flags & LLMTAP_CALL_GAP_BEFORE) != 0;
  call.quiet = (rec.flags & LLMTAP_CALL_QUIET) != 0;
  call.resumed = (rec.flags & LLMTAP_CALL_RESUMED) != 0;
  call.preview = (rec.flags & LLMTAP_CALL_PREVIEW) != 0;
  call.direction = rec.direction == LLMTAP_DIR_READ ? Direction::kRead : Direction::kWrite;
  call.lib = rec.lib == LLMTAP_LIB_OPENSSL  ? TlsLib::kOpenSsl
             : rec.lib == LLMTAP_LIB_GNUTLS ? TlsLib::kGnuTls
                                            : TlsLib::kUnknown;
  call.local = to_endpoint(rec.local);
  call.remote = to_endpoint(rec.remote);
  call.comm.assign(rec.comm, strnlen(rec.comm, sizeof(rec.comm)));
  return call;
}

}  // namespace

CallAssembler::CallAssembler(Handler handler, CloseHandler on_close)
    : handler_(std::move(handler)), close_handler_(std::move(on_close)) {}

void CallAssembler::feed(std::span<const std::byte> record) {
  if (record.size() < sizeof(llmtap_record_header)) {
    ++stats_.malformed_records;
    return;
  }
  const auto hdr = read_struct<llmtap_record_header>(record);
  switch (hdr.kind) {
    case LLMTAP_REC_DATA:
      on_data(record);
      return;
    case LLMTAP_REC_CALL:
      on_call(record);
      return;
    case LLMTAP_REC_CLOSE:
      on_close(record);
      return;
    default:
      ++stats_.malformed_records;
  }
}

void CallAssembler::on_data(std::span<const std::byte> record) {
  const auto hdr = read_struct<llmtap_record_header>(record);
  const size_t payload_at = offsetof(llmtap_data_record, data);
  if (hdr.data_len > LLMTAP_CHUNK_SIZE || record.size() < payload_at + hdr.data_len ||
      hdr.offset + uint64_t{hdr.data_len} > hdr.total_len) {
    ++stats_.malformed_records;
    return;
  }

  auto it = partials_.find(hdr.tid);
  if (it != partials_.end() && it->second.call_id != hdr.call_id) {
    drop_partial(it);  // the thread's previous call lost its CALL record
    it = partials_.end();
  }
  if (it == partials_.end()) {
    if (hdr.offset != 0) {
      ++stats_.malformed_records;
      return;
    }
    it = partials_.emplace(hdr.tid, Partial{hdr.call_id, 0, {}}).first;
    it->second.bytes.reserve(hdr.total_len);
  }
  Partial& partial = it->second;
  if (partial.bytes.size() != hdr.offset) {
    ++stats_.malformed_records;
    drop_partial(it);
    return;
  }
  partial.bytes.append(as_chars(record.subspan(payload_at, hdr.data_len)));
  ++partial.records;
}

void CallAssembler::on_call(std::span<const std::byte> record) {
  const size_t payload_at = offsetof(llmtap_call_record, data);
  if (record.size() < payload_at) {
    ++stats_.malformed_records;
    return;
  }
  const auto rec = read_struct<llmtap_call_record>(record);
  if (rec.hdr.data_len > LLMTAP_CHUNK_SIZE || record.size() < payload_at + rec.hdr.data_len) {
    ++stats_.malformed_records;
    return;
  }
  const std::string_view tail = as_chars(record.subspan(payload_at, rec.hdr.data_len));

  TlsCall call = to_call(rec);
  auto it = partials_.find(rec.hdr.tid);
  if (it != partials_.end() && it->second.call_id != rec.hdr.call_id) {
    drop_partial(it);
    it = partials_.end();
  }

  if (it == partials_.end()) {
    if (rec.hdr.offset != 0) {  // pieces announced but never seen
      ++stats_.malformed_records;
      return;
    }
    call.data = tail;  // the common case: one record, no copy
    ++stats_.calls;
    handler_(call);
    return;
  }

  Partial partial = std::move(it->second);
  partials_.erase(it);
  if (partial.bytes.size() != rec.hdr.offset) {
    ++stats_.malformed_records;
    stats_.orphaned_records += partial.records;
    stats_.orphaned_bytes += partial.bytes.size();
    return;
  }
  partial.bytes.append(tail);
  call.data = partial.bytes;
  ++stats_.calls;
  handler_(call);
}

void CallAssembler::on_close(std::span<const std::byte> record) {
  if (record.size() < sizeof(llmtap_close_record)) {
    ++stats_.malformed_records;
    return;
  }
  const auto rec = read_struct<llmtap_close_record>(record);
  if (rec.reason != LLMTAP_CLOSE_FD && rec.reason != LLMTAP_CLOSE_SESSION) {
    ++stats_.malformed_records;
    return;
  }
  TlsClose close;
  close.mono_ns = rec.mono_ns;
  close.conn_id = rec.conn_id;
  close.ssl = rec.ssl;
  close.pid = rec.pid;
  close.fd = rec.fd;
  close.reason =
      rec.reason == LLMTAP_CLOSE_FD ? CloseReason::kFdClosed : CloseReason::kSessionFreed;
  ++stats_.closes;
  if (close_handler_) close_handler_(close);
}

void CallAssembler::drop_partial(std::unordered_map<uint32_t, Partial>::iterator it) {
  stats_.orphaned_records += it->second.records;
  stats_.orphaned_bytes += it->second.bytes.size();
  partials_.erase(it);
}

void CallAssembler::flush() {
  while (!partials_.empty()) drop_partial(partials_.begin());
}

}  // namespace llmtap::capture
