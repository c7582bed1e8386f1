#include "action/enforcer.h"

#include <arpa/inet.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "action/socket_destroyer.h"
#include "capture/process_resume.h"
#include "capture/wall_clock.h"

namespace llmtap::action {
namespace {

constexpr size_t kRemembered = 4096;

std::string endpoint_text(const capture::Endpoint& e) {
  char text[INET6_ADDRSTRLEN] = {};
  if (e.family == AF_INET) {
    inet_ntop(AF_INET, e.addr.data(), text, sizeof(text));
    return std::string(text) + ":" + std::to_string(e.port);
  }
  if (e.family == AF_INET6) {
    inet_ntop(AF_INET6, e.addr.data(), text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(e.port);
  }
  return "?";
}

std::string process_text(const llm::LlmCall& call) {
  return call.process.comm + "[" + std::to_string(call.process.pid) + "]";
}

}  // namespace

std::string describe_connection(const llm::LlmCall& call) {
  return endpoint_text(call.local) + " -> " + endpoint_text(call.remote);
}

Enforcer::Enforcer(EnforcerOptions options, std::string proc_root)
    : options_(std::move(options)), guard_(options_.never_touch, std::move(proc_root)) {}

bool Enforcer::enforcing(const policy::Finding& f) const {
  return !options_.audit && f.mode != policy::RuleMode::kAudit;
}

bool Enforcer::remember(std::set<uint64_t>& done, std::deque<uint64_t>& order, uint64_t key) {
  if (!done.insert(key).second) return false;
  order.push_back(key);
  if (order.size() > kRemembered) {
    done.erase(order.front());
    order.pop_front();
  }
  return true;
}

void Enforcer::act(policy::Finding& f) {
  if (f.action == policy::Action::kAlert || f.update) return;
  ++stats_.actions;
  policy::ActionOutcome outcome;
  if (!enforcing(f)) {
    ++stats_.would;
    outcome.action = f.action;
    outcome.audit = true;
    outcome.target = f.action == policy::Action::kKillProcess
                         ? "process " + process_text(f.call)
                         : "connection " + describe_connection(f.call);
  } else if (f.call.served) {
    // Captured on the serving side (an LLM server on this host): the client is elsewhere or
    // is reported on its own; the server is never the target.
    outcome.action = f.action;
    outcome.target = "process " + process_text(f.call);
    outcome.error = "captured on the serving side: actions apply to the calling side";
    ++stats_.refused;
  } else if (f.action == policy::Action::kKillProcess) {
    outcome = kill_process(f.call);
  } else {
    // kill-connection, and a hold whose call went out before it could be held (HTTP/2, a
    // connection first seen mid-call): the connection is reset after the fact.
    outcome = kill_connection(f.call);
    outcome.action = f.action;
  }
  outcome.time_realtime_ns = capture::realtime_now_ns();
  if (outcome.attempted && f.call.start_mono_ns != 0) {
    const uint64_t now = capture::monotonic_now_ns();
    if (now > f.call.start_mono_ns) outcome.capture_to_action_ns = now - f.call.start_mono_ns;
  }
  f.outcome = std::move(outcome);
}

policy::ActionOutcome Enforcer::kill_connection(const llm::LlmCall& call) {
  policy::ActionOutcome out;
  out.action = policy::Action::kKillConnection;
  out.target = "connection " + describe_connection(call);
  if (const auto why = guard_.refusal(static_cast<pid_t>(call.process.pid), call.process.comm,
                                      call.process.exe)) {
    ++stats_.refused;
    out.error = *why;
    return out;
  }
  out.attempted = true;
  if (call.conn_id != 0 && !remember(reset_connections_, reset_order_, call.conn_id)) {
    ++stats_.already_done;
    out.succeeded = true;
    out.error = "already reset";
    return out;
  }
  const DestroyResult r =
      destroy_tcp_connection(call.local, call.remote, static_cast<pid_t>(call.process.pid));
  out.succeeded = r.destroyed;
  if (r.destroyed) {
    ++stats_.connections_reset;
  } else if (r.error == ENOENT) {
    out.error = "the connection was already closed";
    ++stats_.failed;
  } else {
    out.error = r.message;
    ++stats_.failed;
    spdlog::warn("kill-connection {}: {}", out.target, r.message);
  }
  return out;
}

policy::ActionOutcome Enforcer::kill_process(const llm::LlmCall& call) {
  policy::ActionOutcome out;
  out.action = policy::Action::kKillProcess;
  out.target = "process " + process_text(call);
  const auto pid = static_cast<pid_t>(call.process.pid);
  if (const auto why = guard_.refusal(pid, call.process.comm, call.process.exe)) {
    ++stats_.refused;
    out.error = *why;
    return out;
  }
  if (call.process.start_boottime_ns == 0) {
    ++stats_.refused;
    out.error = "the process's start time is unknown: a reused pid could be hit";
    return out;
  }
  out.attempted = true;
  const uint64_t ticks = capture::boottime_ns_to_ticks(call.process.start_boottime_ns);
  if (!remember(killed_processes_, killed_order_, (uint64_t{call.process.pid} << 32) ^ ticks)) {
    ++stats_.already_done;
    out.succeeded = true;
    out.error = "already killed";
    return out;
  }
  switch (capture::signal_process_started_at(pid, ticks, SIGKILL)) {
    case capture::ResumeOutcome::kResumed:
      out.succeeded = true;
      ++stats_.processes_killed;
      break;
    case capture::ResumeOutcome::kGone:
      out.error = "the process had already exited";
      ++stats_.failed;
      break;
    case capture::ResumeOutcome::kNotOurs:
      out.error = "the pid now names another process: left alone";
      ++stats_.refused;
      break;
    case capture::ResumeOutcome::kFailed:
      out.error = "the signal could not be sent";
      ++stats_.failed;
      break;
  }
  return out;
}

}  // namespace llmtap::action
