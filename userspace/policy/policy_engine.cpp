#include "policy/policy_engine.h"

#include <time.h>

#include <algorithm>
#include <set>

#include "policy/glob.h"
#include "policy/scan_text.h"

namespace llmtap::policy {
namespace {

uint64_t realtime_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// A process glob with a '/' is matched against the executable's path, else against the
// command name and the executable's file name.
bool process_matches(const std::vector<std::string>& globs, const llm::ProcessIdentity& p) {
  for (const auto& g : globs) {
    if (g.find('/') != std::string::npos) {
      if (glob_match(g, p.exe)) return true;
    } else if (glob_match(g, p.comm) || (!p.exe.empty() && glob_match(g, base_name(p.exe)))) {
      return true;
    }
  }
  return false;
}

// Fields the event does not know (no pod outside a cluster) never match a non-empty list.
bool in_scope(const Scope& s, const llm::LlmCall& call) {
  if (!s.processes.empty() && !process_matches(s.processes, call.process)) return false;
  if (!s.uids.empty() &&
      std::find(s.uids.begin(), s.uids.end(), call.process.uid) == s.uids.end()) {
    return false;
  }
  const llm::WorkloadIdentity* w = call.process.workload.get();
  if (!s.namespaces.empty() &&
      (w == nullptr || !w->pod_known() || !any_glob_match(s.namespaces, w->pod_namespace))) {
    return false;
  }
  if (!s.pod_labels.empty()) {
    if (w == nullptr || !w->pod_known()) return false;
    for (const auto& wanted : s.pod_labels) {
      const auto it =
          std::find_if(w->pod_labels.begin(), w->pod_labels.end(),
                       [&](const auto& label) { return label.first == wanted.first; });
      if (it == w->pod_labels.end() || !glob_match(wanted.second, it->second)) return false;
    }
  }
  if (!s.containers.empty() &&
      (w == nullptr || !(any_glob_match(s.containers, w->container_id) ||
                         (!w->container_name.empty() &&
                          any_glob_match(s.containers, w->container_name))))) {
    return false;
  }
  return true;
}

}  // namespace

bool rule_applies(const Rule& rule, const llm::LlmCall& call) {
  if (!in_scope(rule.scope, call)) return false;
  for (const Scope& e : rule.exceptions) {
    if (!e.empty() && in_scope(e, call)) return false;
  }
  return true;
}

namespace {

// Deny: the requested or the answered model may match. Allow: the model asked for must (the
// answered one only when the request named none): a server answering with a sanctioned
// model's name does not make an unsanctioned request sanctioned.
bool pattern_matches(const ModelPattern& p, const llm::LlmCall& call, bool either_model) {
  if (!p.provider.empty() && !glob_match(p.provider, call.provider)) return false;
  if (p.models.empty()) return true;
  if (!call.request_model.empty() && any_glob_match(p.models, call.request_model)) return true;
  if (!call.request_model.empty() && !either_model) return false;
  return !call.response_model.empty() && any_glob_match(p.models, call.response_model);
}

std::string model_text(const llm::LlmCall& call) {
  const std::string& model = call.request_model.empty() ? call.response_model : call.request_model;
  return (model.empty() ? std::string("(no model)") : model) + " (" + call.provider + ")";
}

bool is_fallback_provider(std::string_view provider) { return provider.ends_with("-compatible"); }

}  // namespace

std::string_view finding_kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::kModelGovernance:
      return "model";
    case FindingKind::kDataExfiltration:
      return "data";
    case FindingKind::kVolume:
      return "volume";
    case FindingKind::kPromptAttack:
      return "prompt_attack";
  }
  return "model";
}

PolicyEngine::PolicyEngine(std::shared_ptr<const CompiledPolicy> policy, EngineOptions options)
    : policy_(std::move(policy)), options_(std::move(options)) {}

void PolicyEngine::set_policy(std::shared_ptr<const CompiledPolicy> policy) {
  std::atomic_store(&policy_, std::move(policy));
  ++stats_.policy_swaps;
}

std::shared_ptr<const CompiledPolicy> PolicyEngine::policy() const {
  return std::atomic_load(&policy_);
}

Finding PolicyEngine::make(const CompiledRule& r, const llm::LlmCall& call, FindingKind kind) {
  Finding f;
  f.rule_id = r.rule.id;
  f.rule_description = r.rule.description;
  f.kind = kind;
  f.severity = r.rule.severity;
  f.action = r.rule.action;
  f.mode = r.rule.mode;
  f.hold_kills_process = r.rule.hold_kills_process;
  f.time_realtime_ns = call.start_realtime_ns != 0 ? call.start_realtime_ns : now_ns_;
  f.uid = options_.uid_prefix + "-f" + std::to_string(++sequence_);
  f.call = call;
  f.call.prompt_text.reset();
  f.call.completion_text.reset();
  return f;
}

std::vector<Finding> PolicyEngine::judge(const llm::LlmCall& call, std::string_view request_body,
                                         std::string_view response_body) {
  const std::shared_ptr<const CompiledPolicy> policy = this->policy();  // one policy, whole
  std::vector<Finding> out;
  ++stats_.calls;
  now_ns_ = realtime_now_ns();  // one reading for the whole call
  expire(now_ns_, out);
  if (!policy) return out;

  request_hits_.clear();
  response_hits_.clear();
  // Entries of a policy swapped out are dropped (and their scanner released) at once.
  for (CachedScan& e : scan_cache_) {
    if (e.scanner && e.scanner != policy->scanner) e = CachedScan();
  }
  if (last_long_scan_.scanner && last_long_scan_.scanner != policy->scanner) {
    last_long_scan_ = CachedScan();
  }
  for (ModelVerdict& v : model_verdicts_) {
    if (v.policy && v.policy != policy) v = ModelVerdict();
  }
  judging_ = policy;
  auto scan = [&](std::string_view body, std::string& text, std::vector<Evidence>& hits,
                  EvidenceSource source) {
    json_unescaped(body, text);
    stats_.scanned_bytes += text.size();
    scan_text(policy->scanner, text, hits, source);
  };
  if (policy->scan_requests && !request_body.empty()) {
    scan(request_body, request_text_, request_hits_, EvidenceSource::kRequest);
  }
  if (policy->scan_responses && !response_body.empty()) {
    scan(response_body, response_text_, response_hits_, EvidenceSource::kResponse);
  }

  for (const CompiledRule& r : policy->rules) {
    if (!rule_applies(r.rule, call)) continue;
    switch (r.rule.body.index()) {
      case 0:
        judge_model(r, call, out);
        break;
      case 1:
        judge_data(r, *policy, call, out);
        break;
      case 2:
        judge_volume(r, call, out);
        break;
      default:
        judge_attack(r, *policy, call, out);
        break;
    }
  }
  for (const Finding& f : out) stats_.findings += f.update ? 0 : 1;
  judging_.reset();
  return out;
}

const PolicyEngine::ModelVerdict& PolicyEngine::model_verdict(const CompiledRule& r,
                                                              const llm::LlmCall& call) {
  for (const ModelVerdict& v : model_verdicts_) {
    if (v.rule == &r && v.policy == judging_ && v.provider == call.provider &&
        v.request_model == call.request_model && v.response_model == call.response_model) {
      return v;
    }
  }
  const auto& m = std::get<ModelRule>(r.rule.body);
  ModelVerdict& v = model_verdicts_[model_verdicts_next_];
  model_verdicts_next_ = (model_verdicts_next_ + 1) % kModelVerdicts;
  v.policy = judging_;
  v.rule = &r;
  v.provider = call.provider;
  v.request_model = call.request_model;
  v.response_model = call.response_model;
  v.deny = -1;
  for (size_t i = 0; i < m.deny.size(); ++i) {
    if (pattern_matches(m.deny[i], call, /*either_model=*/true)) {
      v.deny = static_cast<int>(i);
      break;
    }
  }
  v.allowed = std::any_of(m.allow.begin(), m.allow.end(),
                          [&](const ModelPattern& p) { return pattern_matches(p, call, false); });
  return v;
}

void PolicyEngine::scan_text(const std::shared_ptr<const ContentScanner>& scanner,
                             std::string& text, std::vector<Evidence>& hits,
                             EvidenceSource source) {
  const bool is_long = text.size() > kMaxCachedScanBytes;
  auto reuse = [&](const CachedScan& e) {
    ++stats_.scan_cache_hits;
    stats_.dropped_detections += e.dropped;
    for (const Detection& d : e.detections) hits.push_back({d, source});
  };
  if (is_long) {
    // Compared in full only at an equal length: a different text usually differs early.
    const CachedScan& e = last_long_scan_;
    if (e.scanner == scanner && e.text.size() == text.size() && e.text == text) return reuse(e);
  } else {
    for (const CachedScan& e : scan_cache_) {
      if (e.scanner == scanner && e.text == text) return reuse(e);
    }
  }
  ScanResult result = scanner->scan(text);
  stats_.dropped_detections += result.dropped;
  CachedScan& e = is_long ? last_long_scan_ : scan_cache_[scan_cache_next_];
  if (!is_long) scan_cache_next_ = (scan_cache_next_ + 1) % kScanCacheEntries;
  e.scanner = scanner;
  // No copy: the caller's buffer is refilled for the next call anyway. A short text's entry
  // keeps no buffer much larger than its bound (a huge body once grew the caller's); the long
  // entry trades buffers with the caller, so one long buffer stays either side.
  if (is_long || text.capacity() <= 2 * kMaxCachedScanBytes) {
    e.text.swap(text);
  } else {
    e.text.assign(text);
  }
  e.detections = result.detections;
  e.dropped = result.dropped;
  for (auto& d : result.detections) hits.push_back({std::move(d), source});
}

void PolicyEngine::judge_model(const CompiledRule& r, const llm::LlmCall& call,
                               std::vector<Finding>& out) {
  const auto& m = std::get<ModelRule>(r.rule.body);
  std::string title;
  std::string reason;
  const ModelVerdict& verdict = model_verdict(r, call);
  if (verdict.deny >= 0) {
    const ModelPattern& p = m.deny[static_cast<size_t>(verdict.deny)];
    title = "Denied model " + model_text(call);
    reason = "deny: " + (p.provider.empty() ? std::string() : "provider " + p.provider + " ") +
             (p.models.empty() ? std::string() : "models " + p.models.front());
  }
  if (title.empty() && !m.allow.empty() && !verdict.allowed) {
    title = "Unsanctioned model " + model_text(call);
    reason = "not in allow";
  }
  if (title.empty() && m.unknown &&
      (is_fallback_provider(call.provider) ||
       (call.request_model.empty() && call.response_model.empty()))) {
    title = "Model served by an unknown host: " + model_text(call) + " at " + call.server_name;
    reason = "unknown: the catalog knows " + call.server_name + " only by its API shape";
  }
  if (title.empty() && !m.organisation_key_sha256.empty() && !call.api_key_sha256.empty() &&
      (m.key_providers.empty() || any_glob_match(m.key_providers, call.provider)) &&
      std::find(m.organisation_key_sha256.begin(), m.organisation_key_sha256.end(),
                call.api_key_sha256) == m.organisation_key_sha256.end()) {
    title = "API key not of the organisation on " + call.provider + " (key " +
            call.api_key_sha256.substr(0, 12) + ")";
    reason = "organisation_keys";
  }
  if (title.empty()) return;
  const DedupeKey key{r.rule.id, call.conn_id, title};
  const uint64_t now = now_ns_;
  if (repeat(key, now)) return;
  Finding f = make(r, call, FindingKind::kModelGovernance);
  f.title = std::move(title);
  f.reason = std::move(reason);
  remember(key, f, now);
  out.push_back(std::move(f));
}

void PolicyEngine::judge_data(const CompiledRule& r, const CompiledPolicy& p,
                              const llm::LlmCall& call, std::vector<Finding>& out) {
  const auto& d = std::get<DataRule>(r.rule.body);
  const uint64_t now = now_ns_;
  std::vector<Evidence> fresh;
  std::set<std::string> distinct;
  for (const auto* hits : {&request_hits_, &response_hits_}) {
    for (const Evidence& e : *hits) {
      if ((e.source == EvidenceSource::kRequest && !d.scan_requests) ||
          (e.source == EvidenceSource::kResponse && !d.scan_responses)) {
        continue;
      }
      const auto idx = p.detector_index.find(e.detection.detector_id);
      if (idx == p.detector_index.end() || !r.uses_detector[idx->second]) continue;
      if (e.detection.confidence < d.min_confidence) continue;
      distinct.insert(e.detection.detector_id);
      if (!repeat({r.rule.id, call.conn_id, e.detection.detector_id}, now)) fresh.push_back(e);
    }
  }
  if (!fresh.empty()) {
    Finding f = make(r, call, FindingKind::kDataExfiltration);
    Severity highest = Severity::kInfo;
    Confidence confidence = Confidence::kLow;
    std::set<std::string> ids;
    for (const Evidence& e : fresh) {
      highest = std::max(highest, e.detection.severity);
      confidence = std::max(confidence, e.detection.confidence);
      ids.insert(e.detection.detector_id);
    }
    if (r.rule.severity_from_detectors) f.severity = highest;
    f.confidence = confidence;
    std::string names;
    for (const auto& id : ids) names += (names.empty() ? "" : ", ") + id;
    f.title = "Sensitive data sent to " + model_text(call) + ": " + names;
    f.reason = std::to_string(fresh.size()) + " detection(s)";
    f.evidence = std::move(fresh);
    for (const auto& id : ids) remember({r.rule.id, call.conn_id, id}, f, now);
    out.push_back(std::move(f));
  }
  if (d.max_distinct_detectors != 0 && distinct.size() >= d.max_distinct_detectors) {
    const DedupeKey key{r.rule.id, call.conn_id, "bulk:distinct-detectors"};
    if (!repeat(key, now)) {
      Finding f = make(r, call, FindingKind::kDataExfiltration);
      f.title = std::to_string(distinct.size()) +
                " different kinds of sensitive data in one request to " + model_text(call);
      f.reason = "max_distinct_detectors " + std::to_string(d.max_distinct_detectors);
      remember(key, f, now);
      out.push_back(std::move(f));
    }
  }
}

void PolicyEngine::judge_volume(const CompiledRule& r, const llm::LlmCall& call,
                                std::vector<Finding>& out) {
  const auto& v = std::get<VolumeRule>(r.rule.body);
  std::string key;
  switch (v.per) {
    case VolumePer::kProcess:
      key = "process:" + call.process.comm + "[" + std::to_string(call.process.pid) + "]";
      break;
    case VolumePer::kContainer:
      // Outside a container the process is what there is to count by.
      if (const auto& w = call.process.workload) {
        key = "container:" + (w->pod_known() ? w->pod_namespace + "/" + w->pod_name + "/" +
                                                   w->container_name
                                             : w->container_id.substr(0, 12));
      } else {
        key = "process:" + call.process.comm + "[" + std::to_string(call.process.pid) + "]";
      }
      break;
    case VolumePer::kPod:
      if (const auto& w = call.process.workload; w && !w->pod_uid.empty()) {
        key = "pod:" + (w->pod_known() ? w->pod_namespace + "/" + w->pod_name : w->pod_uid);
      } else if (w) {
        key = "container:" + w->container_id.substr(0, 12);
      } else {
        key = "process:" + call.process.comm + "[" + std::to_string(call.process.pid) + "]";
      }
      break;
  }
  auto it = volume_.find(r.rule.id);
  if (it == volume_.end()) it = volume_.emplace(r.rule.id, VolumeTracker(v.window_seconds)).first;
  const uint64_t tokens =
      call.tokens.total.value_or(call.tokens.input.value_or(0) + call.tokens.output.value_or(0));
  const uint64_t now_s = now_ns_ / 1'000'000'000;
  const VolumeTotals totals =
      it->second.add(key, now_s, tokens, call.request_bytes + call.response_bytes);
  const bool over = (v.max_tokens != 0 && totals.tokens > v.max_tokens) ||
                    (v.max_bytes != 0 && totals.bytes > v.max_bytes);
  if (!over || !it->second.report_once(key, now_s)) return;
  Finding f = make(r, call, FindingKind::kVolume);
  f.volume_tokens = totals.tokens;
  f.volume_bytes = totals.bytes;
  f.volume_window_seconds = v.window_seconds;
  f.volume_key = key;
  f.title = key + " sent " + std::to_string(totals.tokens) + " tokens / " +
            std::to_string(totals.bytes) + " bytes to AI models in " +
            std::to_string(v.window_seconds) + " s";
  f.reason = v.max_tokens != 0 && totals.tokens > v.max_tokens
                 ? "max_tokens " + std::to_string(v.max_tokens)
                 : "max_bytes " + std::to_string(v.max_bytes);
  out.push_back(std::move(f));
}

void PolicyEngine::judge_attack(const CompiledRule& r, const CompiledPolicy& p,
                                const llm::LlmCall& call, std::vector<Finding>& out) {
  const auto& a = std::get<PromptAttackRule>(r.rule.body);
  std::vector<Evidence> hits;
  std::set<std::string> indicators;
  for (const Evidence& e : request_hits_) {
    const auto idx = p.detector_index.find(e.detection.detector_id);
    if (idx == p.detector_index.end() || !r.uses_detector[idx->second]) continue;
    indicators.insert(e.detection.detector_id);
    hits.push_back(e);
  }
  if (indicators.size() < a.min_indicators) return;
  std::string names;
  for (const auto& id : indicators) names += (names.empty() ? "" : ", ") + id;
  const DedupeKey key{r.rule.id, call.conn_id, names};
  const uint64_t now = now_ns_;
  if (repeat(key, now)) return;
  Finding f = make(r, call, FindingKind::kPromptAttack);
  Confidence confidence = Confidence::kLow;
  for (const Evidence& e : hits) confidence = std::max(confidence, e.detection.confidence);
  f.confidence = indicators.size() > 1 ? std::max(confidence, Confidence::kMedium) : confidence;
  f.title = "Prompt attack indicators in a request to " + model_text(call) + ": " + names;
  f.reason = std::to_string(indicators.size()) + " indicator(s)";
  f.evidence = std::move(hits);
  remember(key, f, now);
  out.push_back(std::move(f));
}

bool PolicyEngine::repeat(const DedupeKey& key, uint64_t now_ns) {
  auto it = dedupe_.find(key);
  if (it == dedupe_.end() || now_ns >= it->second.window_end_ns) return false;
  ++it->second.repeats;
  ++stats_.suppressed_repeats;
  return true;
}

void PolicyEngine::remember(const DedupeKey& key, const Finding& f, uint64_t now_ns) {
  if (dedupe_.size() >= options_.max_dedupe_entries) return;  // bounded: then no dedupe
  Pending p;
  p.first = f;
  p.first.evidence.clear();
  p.window_end_ns = now_ns + options_.dedupe_window_ns;
  next_expiry_ns_ = std::min(next_expiry_ns_, p.window_end_ns);
  dedupe_[key] = std::move(p);
}

void PolicyEngine::expire(uint64_t now_ns, std::vector<Finding>& out) {
  if (now_ns < next_expiry_ns_) return;  // no window has ended: not a walk per call
  next_expiry_ns_ = UINT64_MAX;
  for (auto it = dedupe_.begin(); it != dedupe_.end();) {
    if (now_ns < it->second.window_end_ns) {
      next_expiry_ns_ = std::min(next_expiry_ns_, it->second.window_end_ns);
      ++it;
      continue;
    }
    if (it->second.repeats != 0) {
      Finding update = std::move(it->second.first);
      update.update = true;
      update.count = it->second.repeats + 1;
      update.time_realtime_ns = now_ns;
      out.push_back(std::move(update));
    }
    it = dedupe_.erase(it);
  }
}

std::vector<Finding> PolicyEngine::flush() {
  std::vector<Finding> out;
  expire(UINT64_MAX, out);
  return out;
}

}  // namespace llmtap::policy
