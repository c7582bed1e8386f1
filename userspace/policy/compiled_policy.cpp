#include "policy/compiled_policy.h"

#include <algorithm>

#include "policy/detection/detector_catalog.h"
#include "policy/glob.h"

namespace llmtap::policy {
namespace {

// A data rule's selector ("aws-*", "category:secret") against one detector.
bool selects(const std::string& selector, const DetectorSpec& d) {
  constexpr std::string_view kCategory = "category:";
  if (selector.starts_with(kCategory)) {
    return glob_match(std::string_view(selector).substr(kCategory.size()),
                      category_name(d.category));
  }
  return glob_match(selector, d.id);
}

}  // namespace

std::shared_ptr<const CompiledPolicy> compile_policy(Policy policy,
                                                     std::vector<DetectorSpec> extra_detectors,
                                                     std::vector<PolicyProblem>& problems) {
  auto compiled = std::make_shared<CompiledPolicy>();
  const size_t problems_before = problems.size();
  std::vector<DetectorSpec> all = builtin_detectors();
  // The policy's own and extra detectors replace built-in ones of the same id.
  for (auto* extra : {&policy.detectors, &extra_detectors}) {
    for (const DetectorSpec& d : *extra) {
      auto same =
          std::find_if(all.begin(), all.end(), [&](const DetectorSpec& x) { return x.id == d.id; });
      if (same != all.end()) {
        *same = d;
      } else {
        all.push_back(d);
      }
    }
  }
  std::vector<DetectorProblem> detector_problems;
  compiled->scanner = ContentScanner::build(std::move(all), &detector_problems);
  for (const auto& p : detector_problems) {
    problems.push_back({p.source + ":" + std::to_string(p.line),
                        "detector " + p.detector_id + ": " + p.message, p.fatal});
  }
  const auto& detectors = compiled->scanner->detectors();
  for (size_t i = 0; i < detectors.size(); ++i) compiled->detector_index[detectors[i].id] = i;

  for (const std::string& id : policy.disabled) {
    if (std::none_of(policy.rules.begin(), policy.rules.end(),
                     [&](const Rule& r) { return r.id == id; })) {
      problems.push_back({policy.sources.empty() ? "" : policy.sources.back(),
                          "disable: no rule has the id '" + id + "'", false});
    }
  }
  for (const Rule& rule : policy.rules) {
    if (std::find(policy.disabled.begin(), policy.disabled.end(), rule.id) !=
        policy.disabled.end()) {
      continue;
    }
    CompiledRule cr{rule, std::vector<bool>(detectors.size(), false)};
    if (rule.action == Action::kHold && std::holds_alternative<VolumeRule>(rule.body)) {
      problems.push_back({rule.source,
                          "rule " + rule.id +
                              ": a volume rule counts answers, which come after the request: "
                              "it cannot hold, and resets the connection after the fact",
                          false});
    }
    if (rule.action == Action::kHold) {
      if (const auto* data = std::get_if<DataRule>(&rule.body);
          data != nullptr && data->scan_responses && !data->scan_requests) {
        problems.push_back({rule.source,
                            "rule " + rule.id +
                                ": a rule on responses only cannot hold (a hold stops what the "
                                "client writes); it resets the connection after the fact",
                            false});
      }
    }
    if (const auto* data = std::get_if<DataRule>(&rule.body)) {
      for (const std::string& selector : data->detectors) {
        bool any = false;
        for (size_t i = 0; i < detectors.size(); ++i) {
          if (selects(selector, detectors[i])) {
            cr.uses_detector[i] = true;
            any = true;
          }
        }
        if (!any) {
          problems.push_back(
              {rule.source, "rule " + rule.id + ": unknown detector '" + selector + "'", true});
        }
      }
      if (data->detectors.empty()) {
        // Every detector but the prompt-attack indicators (their own rule kind).
        for (size_t i = 0; i < detectors.size(); ++i) {
          cr.uses_detector[i] = detectors[i].category != DetectorCategory::kPromptAttack;
        }
      }
      compiled->scan_requests |= data->scan_requests;
      compiled->scan_responses |= data->scan_responses;
    } else if (std::holds_alternative<PromptAttackRule>(rule.body)) {
      for (size_t i = 0; i < detectors.size(); ++i) {
        cr.uses_detector[i] = detectors[i].category == DetectorCategory::kPromptAttack;
      }
      compiled->scan_requests = true;
    }
    compiled->rules.push_back(std::move(cr));
  }
  compiled->policy = std::move(policy);
  const bool fatal = std::any_of(problems.begin() + static_cast<long>(problems_before),
                                 problems.end(), [](const PolicyProblem& p) { return p.fatal; });
  return fatal ? nullptr : compiled;
}

}  // namespace llmtap::policy
