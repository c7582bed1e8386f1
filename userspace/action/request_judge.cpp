#include "action/request_judge.h"

#include <algorithm>

namespace llmtap::action {
namespace {

// A request body kept for judging it whole when it completes (beyond: counted, not kept; its
// pieces were judged as they came).
constexpr size_t kMaxPending = 16u << 20;
// Bytes of the previous piece judged again with the next one: a secret split between two
// writes is whole in one judgement. Each piece is judged once: a large upload costs linear time.
constexpr size_t kOverlap = 8u << 10;
constexpr size_t kMaxHead = 64u << 10;

// The last `n` bytes of `text`.
std::string_view last_bytes(std::string_view text, size_t n) {
  return text.size() > n ? text.substr(text.size() - n) : text;
}

http::Http1StreamParser::Limits parser_limits() {
  http::Http1StreamParser::Limits limits;
  limits.max_body_kept = kMaxPending;
  return limits;
}

policy::EngineOptions engine_options(std::string uid_prefix) {
  policy::EngineOptions o;
  o.uid_prefix = std::move(uid_prefix) + "-hold";
  // Every held write is judged afresh: a repeat must block as the first one did.
  o.dedupe_window_ns = 0;
  o.max_dedupe_entries = 0;
  return o;
}

bool is_whole_request_kind(policy::FindingKind k) { return k != policy::FindingKind::kVolume; }
bool is_partial_kind(policy::FindingKind k) {
  return k == policy::FindingKind::kDataExfiltration || k == policy::FindingKind::kPromptAttack;
}

}  // namespace

// What the first bytes a connection writes say it is: an HTTP/1 request line ("POST /v1/x
// HTTP/1.1"), the HTTP/2 client preface, or something else (a server's response, another
// protocol), which is not judged.
RequestJudge::Stream RequestJudge::stream_kind(std::string_view first) {
  if (first.starts_with("PRI * HTTP/2.0")) return Stream::kOther;
  const size_t space = first.find(' ');
  if (space == std::string_view::npos || space == 0 || space > 16)
    return Stream::kNotARequestStream;
  for (size_t i = 0; i < space; ++i) {
    if (first[i] < 'A' || first[i] > 'Z') return Stream::kNotARequestStream;
  }
  return Stream::kHttp1;
}

RequestJudge::Connection::Connection()
    : parser(http::Http1StreamParser::Role::kRequest, parser_limits()) {}

RequestJudge::RequestJudge(const llm::ProviderCatalog& catalog,
                           std::shared_ptr<const policy::CompiledPolicy> policy,
                           enrich::ProcessIdentityCache& processes, std::string uid_prefix,
                           std::vector<policy::Action> actions, bool all_requests)
    : catalog_(catalog),
      processes_(processes),
      actions_(std::move(actions)),
      all_requests_(all_requests),
      engine_(std::move(policy), engine_options(std::move(uid_prefix))) {}

void RequestJudge::set_policy(std::shared_ptr<const policy::CompiledPolicy> policy) {
  engine_.set_policy(std::move(policy));
}

bool RequestJudge::acts(const policy::CompiledPolicy& policy,
                        const std::vector<policy::Action>& actions) {
  return std::any_of(policy.rules.begin(), policy.rules.end(), [&](const policy::CompiledRule& r) {
    return r.rule.mode != policy::RuleMode::kAudit &&
           std::find(actions.begin(), actions.end(), r.rule.action) != actions.end();
  });
}

void RequestJudge::keep_blocking(std::vector<policy::Finding>& findings, bool whole,
                                 RequestVerdict& v) {
  for (policy::Finding& f : findings) {
    if (f.update || f.mode == policy::RuleMode::kAudit ||
        std::find(actions_.begin(), actions_.end(), f.action) == actions_.end()) {
      continue;
    }
    if (whole ? !is_whole_request_kind(f.kind) : !is_partial_kind(f.kind)) continue;
    v.kill_process |= f.hold_kills_process;
    v.findings.push_back(std::move(f));
  }
}

RequestVerdict RequestJudge::judge(const capture::TlsCall& write, uint64_t realtime_ns) {
  ++stats_.judged;
  RequestVerdict v;
  Connection& c = connections_[{write.pid, write.ssl}];
  if (write.conn_id != 0 && c.conn_id != 0 && c.conn_id != write.conn_id) {
    c = Connection();  // the SSL* was reused by a new connection
  }
  c.conn_id = write.conn_id;

  llm::LlmCall& call = v.call;
  call.start_mono_ns = write.mono_ns;
  call.start_realtime_ns = realtime_ns;
  call.conn_id = write.conn_id;
  call.local = write.local;
  call.remote = write.remote;
  call.tls_lib = write.lib;
  call.process = processes_.lookup(write.pid, write.uid, write.cgroup_id, write.comm);
  call.process.start_boottime_ns = write.start_boottime_ns;

  if (const auto policy = engine_.policy();
      !policy ||
      std::none_of(policy->rules.begin(), policy->rules.end(), [&](const policy::CompiledRule& r) {
        return r.rule.mode != policy::RuleMode::kAudit &&
               std::find(actions_.begin(), actions_.end(), r.rule.action) != actions_.end() &&
               policy::rule_applies(r.rule, call);
      })) {
    v.out_of_scope = true;
    return v;
  }
  const std::string_view bytes = write.data;
  if (c.stream == Stream::kUnknown) c.stream = stream_kind(bytes);
  if (c.stream == Stream::kNotARequestStream) {
    ++stats_.not_requests;
    v.not_llm = true;
    return v;
  }
  // HTTP/2 and other streams are not read at hold time: no catalog can say they are LLM calls.
  if (c.stream == Stream::kOther) v.not_llm = true;
  std::vector<http::HttpMessage> complete;
  if (c.stream == Stream::kHttp1) {
    c.parser.feed(bytes, write.mono_ns, complete);
    if (c.parser.state() == http::Http1StreamParser::State::kError) c.stream = Stream::kOther;
  }
  if (!complete.empty()) {
    for (http::HttpMessage& request : complete) {
      http::HttpExchange exchange;
      exchange.request = std::move(request);
      exchange.request_first_ns = write.mono_ns;
      const auto match =
          catalog_.match(llm::request_authority(exchange.request), exchange.request.method,
                         exchange.request.target, exchange.request.headers);
      llm::LlmCall whole = call;
      (match ? v.llm_request : v.not_llm) = true;
      c.llm |= match.has_value();
      if (!match && !all_requests_) continue;
      if (match) {
        whole = builder_.build(exchange, *match);
        whole.start_mono_ns = call.start_mono_ns;
        whole.start_realtime_ns = call.start_realtime_ns;
        whole.conn_id = call.conn_id;
        whole.local = call.local;
        whole.remote = call.remote;
        whole.tls_lib = call.tls_lib;
        whole.process = call.process;
      }
      // Judged in pieces already: only what those judgements did not see (and the overlap).
      std::string last_piece;
      if (c.pieces != 0) {
        last_piece = c.tail;
        last_piece.append(last_bytes(bytes, exchange.request.body.size()));
      }
      auto findings = engine_.judge(
          whole,
          c.pieces != 0 ? std::string_view(last_piece) : std::string_view(exchange.request.body),
          "");
      keep_blocking(findings, /*whole=*/true, v);
      if (!v.whole_request || !v.findings.empty()) call = whole;
      v.whole_request = true;
    }
    ++stats_.whole_requests;
    c.head.clear();
    c.in_body = false;
    c.tail.clear();
    c.pieces = 0;
  } else {
    // A piece of a request (or not HTTP/1): its body bytes (a head carries the API key, which
    // is no leak) with the overlap of the previous piece, by the data rules.
    std::string_view body = bytes;
    if (c.stream == Stream::kHttp1 && !c.in_body) {
      const size_t before = c.head.size();
      c.head.append(bytes.substr(0, kMaxHead - std::min(kMaxHead, c.head.size())));
      const size_t head_end = c.head.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        c.in_body = true;
        body = bytes.substr(std::min(bytes.size(), head_end + 4 - before));
      } else {
        body = {};
      }
    }
    std::string text = c.tail;
    text.append(body);
    if (all_requests_ || c.llm) {
      auto findings = engine_.judge(call, text, "");
      keep_blocking(findings, /*whole=*/false, v);
    }
    c.tail.assign(last_bytes(text, kOverlap));
    ++c.pieces;
    ++stats_.partial;
  }
  v.block = !v.findings.empty();
  if (v.block) ++stats_.blocked;
  return v;
}

void RequestJudge::forget(uint32_t pid, uint64_t ssl) { connections_.erase({pid, ssl}); }

void RequestJudge::forget_process(uint32_t pid) {
  std::erase_if(connections_, [pid](const auto& entry) { return entry.first.first == pid; });
}

}  // namespace llmtap::action
