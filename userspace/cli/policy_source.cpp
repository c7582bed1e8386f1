#include "cli/policy_source.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "common/yaml_reader.h"
#include "policy/detection/gitleaks_rules.h"
#include "policy/policy_loader.h"

namespace llmtap::cli {

PolicyBuild build_policy(const PolicyFiles& files) {
  PolicyBuild build;
  try {
    policy::Policy p = policy::load_policy(files.policies);
    std::vector<policy::DetectorSpec> extra;
    for (const std::string& file : files.secrets_rules) {
      policy::GitleaksRules rules = policy::load_gitleaks_rules(file);
      for (auto& problem : rules.problems) {
        build.problems.push_back({problem.source + ":" + std::to_string(problem.line),
                                  "rule " + problem.detector_id + ": " + problem.message, false});
      }
      extra.insert(extra.end(), std::make_move_iterator(rules.detectors.begin()),
                   std::make_move_iterator(rules.detectors.end()));
    }
    build.policy = policy::compile_policy(std::move(p), std::move(extra), build.problems);
    // Notes about the built-in detectors are for their tests, not for every run.
    std::erase_if(build.problems, [](const policy::PolicyProblem& problem) {
      return !problem.fatal && problem.where.starts_with("builtin:");
    });
  } catch (const YamlError& e) {
    build.problems.push_back({"", e.what(), true});
  } catch (const std::exception& e) {
    build.problems.push_back({"", e.what(), true});
  }
  return build;
}

namespace {

std::string describe(const policy::PolicyProblem& p) {
  return p.where.empty() ? p.message : p.where + ": " + p.message;
}

}  // namespace

PolicySource::PolicySource(PolicyFiles files) : files_(std::move(files)) {
  PolicyBuild build = build_policy(files_);
  std::string errors;
  for (const auto& p : build.problems) {
    if (p.fatal) {
      errors += "\n  " + describe(p);
    } else {
      spdlog::warn("policy: {}", describe(p));
    }
  }
  if (!build.policy) throw std::runtime_error("the policy does not load:" + errors);
  current_ = std::move(build.policy);
  stamps_ = stamps();
  spdlog::info("policy: {} rules, {} detectors", current_->rules.size(),
               current_->scanner->detector_count());
}

PolicySource::~PolicySource() {
  if (pending_.valid()) pending_.wait();
}

std::vector<PolicySource::FileStamp> PolicySource::stamps() const {
  std::vector<FileStamp> out;
  for (const auto* list : {&files_.policies, &files_.secrets_rules}) {
    for (const auto& f : *list) {
      FileStamp stamp;
      struct stat st{};
      if (::stat(f.c_str(), &st) == 0) {
        stamp = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                 static_cast<int64_t>(st.st_size),
                 static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
      }
      out.push_back(stamp);
    }
  }
  return out;
}

std::shared_ptr<const policy::CompiledPolicy> PolicySource::poll(bool reload_requested,
                                                                 uint64_t now_mono_ns) {
  if (pending_.valid()) {
    if (pending_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return nullptr;
    PolicyBuild build = pending_.get();
    for (const auto& p : build.problems) {
      if (!p.fatal) spdlog::warn("policy: {}", describe(p));
    }
    if (!build.policy) {
      ++failed_reloads_;
      for (const auto& p : build.problems) {
        if (p.fatal)
          spdlog::error("policy reload failed, the running policy stays: {}", describe(p));
      }
      return nullptr;
    }
    ++reloads_;
    current_ = std::move(build.policy);
    spdlog::info("policy reloaded: {} rules, {} detectors", current_->rules.size(),
                 current_->scanner->detector_count());
    return current_;
  }
  bool changed = false;
  if (now_mono_ns >= next_check_ns_) {
    next_check_ns_ = now_mono_ns + 2'000'000'000ull;
    auto now = stamps();
    changed = now != stamps_;
    stamps_ = std::move(now);
  }
  if (reload_requested || changed) {
    pending_ = std::async(std::launch::async, [files = files_] { return build_policy(files); });
  }
  return nullptr;
}

}  // namespace llmtap::cli
