#pragma once
// Judges LLM calls against the current CompiledPolicy: model governance, data exfiltration
// (one scan of the request text by every detector, shared by all rules), volume over time
// and prompt-attack indicators. The policy can be swapped from another thread at any time;
// each call is judged by one policy, whole.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "llm/llm_call.h"
#include "policy/compiled_policy.h"
#include "policy/finding.h"
#include "policy/volume_tracker.h"

namespace llmtap::policy {

// Whether `rule` applies to `call`: its scope matches and none of its exceptions does.
bool rule_applies(const Rule& rule, const llm::LlmCall& call);

struct EngineOptions {
  std::string uid_prefix = "llmtap";  // finding uids: "<prefix>-f<sequence>"
  // The same rule and detector on the same connection within this window: one finding with
  // a count (its repeats are reported once, as an update, when the window ends).
  uint64_t dedupe_window_ns = 60'000'000'000ull;
  size_t max_dedupe_entries = 65536;
};

struct EngineStats {
  uint64_t calls = 0;
  uint64_t findings = 0;
  uint64_t suppressed_repeats = 0;
  uint64_t scanned_bytes = 0;
  uint64_t dropped_detections = 0;  // past a scan's detection limit
  uint64_t policy_swaps = 0;
  // Texts whose scan was reused: the same body judged again (the two ends of a call made on
  // this host, both captured, carry the same bodies).
  uint64_t scan_cache_hits = 0;
};

class PolicyEngine {
 public:
  PolicyEngine(std::shared_ptr<const CompiledPolicy> policy, EngineOptions options = {});

  // Atomic: calls judged after this returns use `policy`; a call being judged keeps the one
  // it started with.
  void set_policy(std::shared_ptr<const CompiledPolicy> policy);
  std::shared_ptr<const CompiledPolicy> policy() const;

  // The findings for `call`, whose request and response bodies (decoded, as sent) are given;
  // plus updates for repeats whose dedupe window has ended. Not thread-safe (one pipeline).
  std::vector<Finding> judge(const llm::LlmCall& call, std::string_view request_body,
                             std::string_view response_body);
  // Updates for every repeat still counted (at exit).
  std::vector<Finding> flush();

  const EngineStats& stats() const { return stats_; }

  // Recent scans kept for reuse, and the largest text kept among them; of longer texts only the
  // last one is kept (the other end of the same call, when both are on this host). A scan
  // depends on the text and the scanner only, so a text equal byte for byte to a kept one gets
  // the kept detections.
  static constexpr size_t kScanCacheEntries = 4;
  static constexpr size_t kMaxCachedScanBytes = 64 * 1024;

 private:
  struct CachedScan {
    std::shared_ptr<const ContentScanner> scanner;  // null: the entry is empty
    std::string text;
    std::vector<Detection> detections;
    size_t dropped = 0;
  };

  struct Pending {
    Finding first;  // as reported
    uint64_t window_end_ns = 0;
    uint64_t repeats = 0;
  };
  using DedupeKey = std::tuple<std::string, uint64_t, std::string>;  // rule, connection, what

  // A model rule's deny and allow lists, judged for one provider and pair of models: a host's
  // calls repeat a few, and the lists can be long. Entries hold their policy, so a rule's
  // address is never another policy's while kept; a policy swapped out drops them.
  struct ModelVerdict {
    std::shared_ptr<const CompiledPolicy> policy;  // null: the entry is empty
    const CompiledRule* rule = nullptr;
    std::string provider;
    std::string request_model;
    std::string response_model;
    int deny = -1;         // the first deny pattern that matched, -1 for none
    bool allowed = false;  // an allow pattern matched (meaningful when the rule has some)
  };
  static constexpr size_t kModelVerdicts = 8;
  const ModelVerdict& model_verdict(const CompiledRule& r, const llm::LlmCall& call);

  void judge_model(const CompiledRule& r, const llm::LlmCall& call, std::vector<Finding>& out);
  void judge_data(const CompiledRule& r, const CompiledPolicy& p, const llm::LlmCall& call,
                  std::vector<Finding>& out);
  void judge_volume(const CompiledRule& r, const llm::LlmCall& call, std::vector<Finding>& out);
  void judge_attack(const CompiledRule& r, const CompiledPolicy& p, const llm::LlmCall& call,
                    std::vector<Finding>& out);
  Finding make(const CompiledRule& r, const llm::LlmCall& call, FindingKind kind);
  // True when `key` was reported within its window (the repeat is then counted).
  bool repeat(const DedupeKey& key, uint64_t now_ns);
  void remember(const DedupeKey& key, const Finding& f, uint64_t now_ns);
  void expire(uint64_t now_ns, std::vector<Finding>& out);
  // Scans `text` (or reuses the scan of an equal text) and adds its detections to `hits`.
  // `text` may be left holding anything (its buffer can be swapped into the cache).
  void scan_text(const std::shared_ptr<const ContentScanner>& scanner, std::string& text,
                 std::vector<Evidence>& hits, EvidenceSource source);

  std::shared_ptr<const CompiledPolicy> policy_;  // read and written with std::atomic_*
  EngineOptions options_;
  EngineStats stats_;
  uint64_t sequence_ = 0;
  std::map<DedupeKey, Pending> dedupe_;
  uint64_t next_expiry_ns_ = UINT64_MAX;  // the earliest window end in dedupe_
  uint64_t now_ns_ = 0;                   // CLOCK_REALTIME when the current call's judging began
  std::map<std::string, VolumeTracker> volume_;  // by rule id
  // This call's scans (one per body, shared by every rule).
  std::string request_text_;
  std::string response_text_;
  std::vector<Evidence> request_hits_;
  std::vector<Evidence> response_hits_;
  // The latest texts scanned and their results (the newest replaces the oldest). They hold
  // copies of recent bodies, as the two text buffers above do of the last call's.
  std::array<CachedScan, kScanCacheEntries> scan_cache_;
  CachedScan last_long_scan_;  // a text over kMaxCachedScanBytes
  size_t scan_cache_next_ = 0;
  std::shared_ptr<const CompiledPolicy> judging_;  // the policy of the call being judged
  std::array<ModelVerdict, kModelVerdicts> model_verdicts_;
  size_t model_verdicts_next_ = 0;
};

}  // namespace llmtap::policy
