#include "audit/environment_keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <utility>

#include "common/file_prefix.h"
#include "common/sha256.h"

namespace llmtap::audit {
namespace {

// Variable names SDKs and tools read, with the provider (catalog id, policies/providers.yaml)
// they belong to.
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kKeyVariables = {{
    {"OPENAI_API_KEY", "openai"},
    {"AZURE_OPENAI_API_KEY", "azure-openai"},
    {"ANTHROPIC_API_KEY", "anthropic"},
    {"CLAUDE_API_KEY", "anthropic"},
    {"GEMINI_API_KEY", "gemini"},
    {"GOOGLE_API_KEY", "gemini"},
    {"GOOGLE_GENERATIVE_AI_API_KEY", "gemini"},
    {"MISTRAL_API_KEY", "mistral"},
    {"DEEPSEEK_API_KEY", "deepseek"},
    {"GROQ_API_KEY", "groq"},
    {"XAI_API_KEY", "xai"},
    {"COHERE_API_KEY", "cohere"},
    {"CO_API_KEY", "cohere"},
    {"TOGETHER_API_KEY", "together"},
    {"FIREWORKS_API_KEY", "fireworks"},
    {"PERPLEXITY_API_KEY", "perplexity"},
    {"OPENROUTER_API_KEY", "openrouter"},
    {"HF_TOKEN", "huggingface"},
    {"HUGGINGFACEHUB_API_TOKEN", "huggingface"},
    {"HUGGING_FACE_HUB_TOKEN", "huggingface"},
    {"AWS_BEARER_TOKEN_BEDROCK", "bedrock"},
    {"OLLAMA_API_KEY", "ollama"},
}};

constexpr size_t kMaxEnvironBytes = size_t{1} << 20;

}  // namespace

std::vector<EnvironmentKey> provider_keys_in(std::string_view block) {
  std::vector<EnvironmentKey> out;
  while (!block.empty()) {
    const size_t end = std::min(block.find('\0'), block.size());
    const std::string_view entry = block.substr(0, end);
    block.remove_prefix(std::min(end + 1, block.size()));
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq + 1 == entry.size()) continue;
    const std::string_view name = entry.substr(0, eq);
    for (const auto& [variable, provider] : kKeyVariables) {
      if (name != variable) continue;
      EnvironmentKey k;
      k.variable = std::string(variable);
      k.provider = std::string(provider);
      k.fingerprint = sha256_hex(entry.substr(eq + 1)).substr(0, 12);
      out.push_back(std::move(k));
    }
  }
  return out;
}

std::vector<ProcessKeys> processes_with_provider_keys(const std::string& proc_root,
                                                      size_t* unreadable) {
  std::vector<ProcessKeys> out;
  size_t failed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root, ec)) {
    const std::string name = entry.path().filename().string();
    const auto digit = [](unsigned char c) { return std::isdigit(c) != 0; };
    if (name.empty() || !std::all_of(name.begin(), name.end(), digit)) continue;
    const auto environ = read_file_prefix(entry.path().string() + "/environ", kMaxEnvironBytes);
    if (!environ) {
      ++failed;
      continue;
    }
    std::vector<EnvironmentKey> keys = provider_keys_in(*environ);
    if (keys.empty()) continue;
    ProcessKeys p;
    p.pid = static_cast<uint32_t>(std::stoul(name));
    p.comm = read_file_prefix(entry.path().string() + "/comm", 64).value_or("");
    while (!p.comm.empty() && p.comm.back() == '\n') p.comm.pop_back();
    std::error_code link_ec;
    p.exe = std::filesystem::read_symlink(entry.path() / "exe", link_ec).string();
    p.keys = std::move(keys);
    out.push_back(std::move(p));
  }
  if (unreadable != nullptr) *unreadable = failed;
  std::sort(out.begin(), out.end(),
            [](const ProcessKeys& a, const ProcessKeys& b) { return a.pid < b.pid; });
  return out;
}

}  // namespace llmtap::audit
