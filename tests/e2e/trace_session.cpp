#include "trace_session.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "child_process.h"

namespace llmtap::e2e {
namespace {

std::string decode_base64(const std::string& text) {
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) throw std::runtime_error("bad base64 in event");
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

TraceEvent to_event(nlohmann::json j) {
  TraceEvent e;
  e.pid = j.at("pid");
  e.comm = j.at("comm");
  e.direction = j.at("direction");
  const auto& conn = j.at("conn");
  e.src = conn.at("src").is_null() ? "" : conn.at("src").get<std::string>();
  e.dst = conn.at("dst").is_null() ? "" : conn.at("dst").get<std::string>();
  e.len = j.at("len");
  e.truncated = j.at("truncated");
  e.lost = j.at("lost");
  e.data = decode_base64(j.at("data"));
  e.json = std::move(j);
  return e;
}

}  // namespace

StdoutPipe::StdoutPipe() {
  if (pipe2(fds_, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
}

StdoutPipe::~StdoutPipe() {
  close_write();
  if (fds_[0] >= 0) close(fds_[0]);
}

void StdoutPipe::close_write() {
  if (fds_[1] >= 0) close(fds_[1]);
  fds_[1] = -1;
}

std::string llmtap_binary() {
  if (const char* env = std::getenv("LLMTAP_BINARY")) return env;
  return LLMTAP_BINARY_PATH;
}

TraceSession::TraceSession(const std::vector<std::string>& args,
                           std::chrono::milliseconds ready_timeout,
                           const std::vector<std::string>& global_args,
                           const std::string& command, int stdout_fd) {
  const bool verbose = std::getenv("LLMTAP_TEST_VERBOSE") != nullptr;  // for debugging
  std::vector<std::string> argv = {llmtap_binary()};
  if (verbose) argv.push_back("-v");
  argv.insert(argv.end(), global_args.begin(), global_args.end());
  argv.push_back(command);
  // The pre-6.3 capture (syscall tracepoints), for the e2e_syscall_hooks run.
  if (std::getenv("LLMTAP_TEST_SYSCALL_HOOKS") != nullptr && command != "policy") {
    argv.push_back("--syscall-hooks");
  }
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<ChildProcess>(argv, stdout_fd);
  if (verbose) {
    process_->keep_output_files();
    std::fprintf(stderr, "trace output kept: %s %s\n", process_->out_path().c_str(),
                 process_->err_path().c_str());
  }
  process_->release();

  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stderr_text().find("; ready") != std::string::npos) return;
    if (const auto code = process_->poll_exit()) {
      exit_code_ = *code;
      throw std::runtime_error("llmtap " + command + " exited with " + std::to_string(exit_code_) + ": " +
                               stderr_text());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("llmtap " + command + " not ready in time: " + stderr_text());
}

TraceSession::~TraceSession() {
  // SIGTERM: llmtap then resumes any process it holds; SIGKILL only if it hangs.
  process_->stop(SIGTERM, std::chrono::seconds(5));
}

std::string TraceSession::stderr_text() const { return read_file(process_->err_path()); }

std::string TraceSession::stdout_text() const { return read_file(process_->out_path()); }

std::vector<nlohmann::json> TraceSession::json_lines() const {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(process_->out_path()));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written
    lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

std::vector<TraceEvent> TraceSession::events() const {
  return tls_events_in(read_file(process_->out_path()));
}

std::vector<TraceEvent> tls_events_in(const std::string& json_lines) {
  std::vector<TraceEvent> events;
  std::istringstream in(json_lines);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written
    auto j = nlohmann::json::parse(line);
    if (j.at("type") == "tls") events.push_back(to_event(std::move(j)));
  }
  return events;
}

std::vector<nlohmann::json> TraceSession::closes() const {
  std::vector<nlohmann::json> closes;
  for (auto& j : json_lines()) {
    if (j.at("type") == "tls_close") closes.push_back(std::move(j));
  }
  return closes;
}

std::vector<TraceEvent> TraceSession::events_for(pid_t pid) const {
  std::vector<TraceEvent> mine;
  for (auto& e : events()) {
    if (e.pid == static_cast<uint32_t>(pid)) mine.push_back(std::move(e));
  }
  return mine;
}

std::vector<TraceEvent> TraceSession::wait_for_bytes(pid_t pid, uint64_t total_bytes,
                                                     std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto mine = events_for(pid);
    uint64_t bytes = 0;
    for (const auto& e : mine) bytes += e.data.size();
    if (bytes >= total_bytes || std::chrono::steady_clock::now() > deadline) return mine;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TraceSummary TraceSession::stop() {
  exit_code_ = process_->stop(SIGINT, std::chrono::seconds(60));
  TraceSummary summary;
  std::istringstream err(stderr_text());
  std::string line;
  while (std::getline(err, line)) {
    const auto at = line.find("summary:");
    if (at == std::string::npos) continue;
    std::istringstream fields(line.substr(at + 8));
    std::string field;
    while (fields >> field) {
      const auto eq = field.find('=');
      if (eq != std::string::npos) summary[field.substr(0, eq)] = std::stoull(field.substr(eq + 1));
    }
  }
  return summary;
}

std::string concat_data(const std::vector<TraceEvent>& events, const std::string& direction,
                        const std::string& src) {
  std::string out;
  for (const auto& e : events) {
    if (e.direction == direction && (src.empty() || e.src == src)) out += e.data;
  }
  return out;
}

}  // namespace llmtap::e2e
