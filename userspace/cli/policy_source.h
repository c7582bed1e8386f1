#pragma once
// Where the running policy comes from: the built-in pack, `--policy` files and
// `--secrets-rules` gitleaks files, compiled together. Reloaded on SIGHUP and when a file
// changes: compiled on a thread of its own (Hyperscan compiles take a while), swapped in whole
// when it is good; a broken file keeps the old policy and logs why.

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "policy/compiled_policy.h"

namespace llmtap::cli {

struct PolicyFiles {
  std::vector<std::string> policies;       // --policy, in order (later wins)
  std::vector<std::string> secrets_rules;  // --secrets-rules (gitleaks TOML)
};

struct PolicyBuild {
  std::shared_ptr<const policy::CompiledPolicy> policy;  // null when a problem is fatal
  std::vector<policy::PolicyProblem> problems;
};

// Loads and compiles; never throws (errors become fatal problems).
PolicyBuild build_policy(const PolicyFiles& files);

class PolicySource {
 public:
  // Throws std::runtime_error with every fatal problem when the first build fails.
  explicit PolicySource(PolicyFiles files);
  ~PolicySource();

  std::shared_ptr<const policy::CompiledPolicy> current() const { return current_; }
  // From the poll loop: starts a rebuild on SIGHUP or a changed file (checked every 2 s);
  // returns the new policy the moment one is ready and good, else null.
  std::shared_ptr<const policy::CompiledPolicy> poll(bool reload_requested, uint64_t now_mono_ns);
  uint64_t reloads() const { return reloads_; }
  uint64_t failed_reloads() const { return failed_reloads_; }

 private:
  // What says a file changed: the file the path leads to now (through symbolic links, as a
  // ConfigMap volume's `..data` swap), its size and modification time.
  struct FileStamp {
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  std::vector<FileStamp> stamps() const;

  PolicyFiles files_;
  std::shared_ptr<const policy::CompiledPolicy> current_;
  std::vector<FileStamp> stamps_;
  std::future<PolicyBuild> pending_;
  uint64_t next_check_ns_ = 0;
  uint64_t reloads_ = 0;
  uint64_t failed_reloads_ = 0;
};

}  // namespace llmtap::cli
