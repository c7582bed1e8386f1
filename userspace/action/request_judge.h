#pragma once
// Judges requests as the client writes them, for the rules that act on the connection or the
// process: in prevent mode, a write held at its entry (its plaintext sent ahead as a PREVIEW
// call) against the `hold` rules, before a byte of it is encrypted; otherwise each write as it
// is captured against the kill-connection, kill-process (and unheld `hold`) rules, so that the
// connection is reset before the model's answer comes back. Each write is judged with
// everything the connection has written since its request began:
//
// - HTTP/1.1: the connection's request stream is framed as it is held; the write that
//   completes a request is judged whole (provider, model, key, prompt: every kind of rule but
//   volume, which needs the response). A write that does not complete one (headers first, a
//   large body in pieces) is judged on what is held so far by the data and prompt-attack
//   rules, so a secret in the first piece stops the request there.
// - Anything else (HTTP/2, unparseable bytes): the held bytes themselves, by the data and
//   prompt-attack rules.
// Only client request streams are judged (an HTTP/1 request line or the HTTP/2 preface first);
// a server's writes are not. Findings of rules in audit mode, and of rules whose action is not
// one of the judge's, are left to the pipeline, which reports every call once it completes.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capture/tls_call.h"
#include "enrich/process_identity_cache.h"
#include "http/http1_stream_parser.h"
#include "llm/catalog/provider_catalog.h"
#include "llm/llm_call_builder.h"
#include "policy/policy_engine.h"

namespace llmtap::action {

struct RequestVerdict {
  bool block = false;          // a counted rule found something
  bool kill_process = false;   // a blocking rule says `block: kill-process`
  bool whole_request = false;  // judged on a complete HTTP request
  // No rule with the judge's actions applies to this process (scope, exceptions): nothing to
  // judge on this connection while the policy stays (prevent mode then stops holding it).
  bool out_of_scope = false;
  // What the connection is, as far as this write tells: an LLM API request (its catalog
  // matched), or certainly not one (a complete request no catalog entry matches, or a stream
  // that is not client requests). Neither: not known yet.
  bool llm_request = false;
  bool not_llm = false;
  std::vector<policy::Finding> findings;  // the blocking rules' findings
  llm::LlmCall call;                      // the call as far as the held bytes tell
};

struct RequestJudgeStats {
  uint64_t judged = 0;
  uint64_t not_requests = 0;  // writes of streams that are not client requests (servers)
  uint64_t whole_requests = 0;
  uint64_t partial = 0;  // judged on a part of a request, or on bytes that are not HTTP/1
  uint64_t blocked = 0;
};

class RequestJudge {
 public:
  // `actions`: the rules whose findings count (their other findings are dropped).
  // `all_requests`: judge every request (held writes: what goes to an LLM server, an upload
  // too); otherwise only LLM API calls (the catalog's), as the pipeline does, and pieces only
  // on connections that made one.
  RequestJudge(const llm::ProviderCatalog& catalog,
               std::shared_ptr<const policy::CompiledPolicy> policy,
               enrich::ProcessIdentityCache& processes, std::string uid_prefix,
               std::vector<policy::Action> actions, bool all_requests = true);

  void set_policy(std::shared_ptr<const policy::CompiledPolicy> policy);
  // Whether any rule of `policy` has one of `actions` in enforce mode.
  static bool acts(const policy::CompiledPolicy& policy,
                   const std::vector<policy::Action>& actions);

  // `write`: a client write (a PREVIEW in prevent mode); `realtime_ns`: its wall-clock time.
  RequestVerdict judge(const capture::TlsCall& write, uint64_t realtime_ns);
  // The connection ended (or its process): its request state goes.
  void forget(uint32_t pid, uint64_t ssl);
  void forget_process(uint32_t pid);

  const RequestJudgeStats& stats() const { return stats_; }

 private:
  enum class Stream { kUnknown, kHttp1, kOther, kNotARequestStream };
  struct Connection {
    Connection();
    uint64_t conn_id = 0;
    http::Http1StreamParser parser;
    // The request in progress: its head until complete (HTTP/1), whether its body has begun,
    // and the last bytes already judged (a secret may straddle two writes).
    std::string head;
    bool in_body = false;
    std::string tail;
    uint32_t pieces = 0;  // parts of this request judged before it completed
    bool llm = false;     // a request of this connection matched the catalog
    Stream stream = Stream::kUnknown;
  };

  static Stream stream_kind(std::string_view first);
  void keep_blocking(std::vector<policy::Finding>& findings, bool whole, RequestVerdict& v);

  const llm::ProviderCatalog& catalog_;
  enrich::ProcessIdentityCache& processes_;
  std::vector<policy::Action> actions_;
  bool all_requests_;
  policy::PolicyEngine engine_;
  llm::LlmCallBuilder builder_;
  std::map<std::pair<uint32_t, uint64_t>, Connection> connections_;
  RequestJudgeStats stats_;
};

}  // namespace llmtap::action
