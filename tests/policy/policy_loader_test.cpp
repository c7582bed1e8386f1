#include "policy/policy_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/yaml_reader.h"
#include "policy/compiled_policy.h"

namespace llmtap::policy {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Loads and compiles; the first error's text, or "" when the file is good.
std::string first_error(const std::string& text, const std::string& name) {
  try {
    Policy p;
    read_policy_file(text, name, p);
    std::vector<PolicyProblem> problems;
    if (compile_policy(std::move(p), {}, problems) == nullptr) {
      for (const auto& problem : problems) {
        if (problem.fatal) return problem.where + ": " + problem.message;
      }
    }
    return "";
  } catch (const YamlError& e) {
    return e.what();
  }
}

TEST(PolicyLoader, BuiltinPackLoadsAndCompiles) {
  std::vector<PolicyProblem> problems;
  const auto compiled = compile_policy(builtin_policy(), {}, problems);
  ASSERT_NE(compiled, nullptr);
  for (const auto& p : problems) EXPECT_FALSE(p.fatal) << p.where << ": " << p.message;
  EXPECT_GE(compiled->rules.size(), 5u);
  for (const auto& r : compiled->rules) EXPECT_EQ(r.rule.action, Action::kAlert) << r.rule.id;
}

TEST(PolicyLoader, EveryBrokenFileGivesItsErrorAndLocation) {
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(LLMTAP_POLICY_DATA "/broken")) {
    ++files;
    const std::string text = read(entry.path());
    const std::string name = entry.path().filename();
    const std::string first_line = text.substr(0, text.find('\n'));
    ASSERT_TRUE(first_line.starts_with("# expect: ")) << name;
    const std::string expected = first_line.substr(10);
    const std::string error = first_error(text, name);
    EXPECT_TRUE(error.starts_with(expected))
        << name << "\n  expected: " << expected << "\n  got:      " << error;
  }
  EXPECT_GE(files, 12u);
}

TEST(PolicyLoader, LaterFilesReplaceRulesByIdAndDisableOthers) {
  Policy p = builtin_policy();
  const size_t builtin_rules = p.rules.size();
  read_policy_file(R"(
version: 1
disable: [prompt-attack-indicators]
rules:
  - id: deepseek-models
    severity: critical
    model: {deny: [{provider: deepseek}]}
  - id: only-sanctioned
    description: only OpenAI gpt-4o*/gpt-5* and Anthropic
    model:
      allow:
        - {provider: openai, models: ["gpt-4o*", "gpt-5*"]}
        - {provider: anthropic}
)",
                   "mine.yaml", p);
  EXPECT_EQ(p.rules.size(), builtin_rules + 1);
  std::vector<PolicyProblem> problems;
  const auto compiled = compile_policy(p, {}, problems);
  ASSERT_NE(compiled, nullptr);
  bool replaced = false;
  for (const auto& r : compiled->rules) {
    EXPECT_NE(r.rule.id, "prompt-attack-indicators");
    if (r.rule.id == "deepseek-models") replaced = r.rule.severity == Severity::kCritical;
  }
  EXPECT_TRUE(replaced);
}

TEST(PolicyLoader, ActionsModesAndWhatCannotHold) {
  Policy p;
  read_policy_file(R"(rules:
  - id: h
    action: hold
    block: kill-process
    mode: audit
    data: {detectors: ["aws-*"]}
  - id: v
    action: hold
    volume: {per: process, window: 60s, max_tokens: 10}
)",
                   "actions.yaml", p);
  ASSERT_GE(p.rules.size(), 2u);
  const Rule& h = p.rules[p.rules.size() - 2];
  EXPECT_EQ(h.action, Action::kHold);
  EXPECT_TRUE(h.hold_kills_process);
  EXPECT_EQ(h.mode, RuleMode::kAudit);
  std::vector<PolicyProblem> problems;
  const auto compiled = compile_policy(std::move(p), {}, problems);
  ASSERT_NE(compiled, nullptr);
  bool warned = false;
  for (const auto& problem : problems) {
    EXPECT_FALSE(problem.fatal) << problem.message;
    warned |= problem.message.find("rule v: a volume rule") != std::string::npos &&
              problem.message.find("cannot hold") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  // `block` goes with hold only.
  Policy bad;
  EXPECT_THROW(read_policy_file("rules:\n  - id: b\n    action: alert\n    block: kill-process\n"
                                "    model: {unknown: true}\n",
                                "b.yaml", bad),
               std::exception);
}

TEST(PolicyLoader, HostileInputIsAClearErrorNotACrash) {
  EXPECT_NE(first_error(std::string(1000, '['), "deep.yaml"), "");
  EXPECT_NE(first_error("rules:\n" + std::string(20000, '-'), "dashes.yaml"), "");
  EXPECT_NE(first_error("a: 1\n---\nb: 2\n", "two.yaml"), "");
  EXPECT_NE(first_error("rules:\n  - id: x\n    model: {unknown: true}\n    description: " +
                            std::string(100000, 'x') + "\n",
                        "long.yaml"),
            "");
  EXPECT_EQ(first_error("", "empty.yaml"), "");
}

}  // namespace
}  // namespace llmtap::policy
