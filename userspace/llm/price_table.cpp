#include "llm/price_table.h"

#include "common/glob.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/yaml_reader.h"
#include "llm/builtin_price_text.h"

namespace llmtap::llm {
namespace {

constexpr std::string_view kTopKeys[] = {"version", "as_of", "providers"};
constexpr std::string_view kProviderKeys[] = {
    "provider", "source", "cached_included_in_input", "reasoning_included_in_output",
    "note",     "models"};
constexpr std::string_view kModelKeys[] = {"match",       "input",  "cached_input",
                                           "cache_write", "output", "note"};
constexpr double kMaxPrice = 1'000'000;  // USD per million tokens; above it is a typo
constexpr size_t kMaxGlobBytes = 256;
constexpr size_t kMaxIdBytes = 64;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "gpt-4o*" -> "gpt-4o": a glob that is a literal prefix and one trailing '*', else nullopt.
std::optional<std::string> plain_prefix(std::string_view glob) {
  if (glob.empty() || glob.back() != '*') return std::nullopt;
  const std::string_view prefix = glob.substr(0, glob.size() - 1);
  if (prefix.find_first_of("*?") != std::string_view::npos) return std::nullopt;
  std::string out(prefix);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_provider_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool is_date(std::string_view text) {
  auto digits = [&](size_t at, size_t n) {
    return std::all_of(text.begin() + at, text.begin() + at + n,
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  if (!digits(0, 4) || !digits(5, 2) || !digits(8, 2)) return false;
  const int month = (text[5] - '0') * 10 + (text[6] - '0');
  const int day = (text[8] - '0') * 10 + (text[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

class PriceReader {
 public:
  explicit PriceReader(std::string source) : reader_(std::move(source)) {}

  std::pair<std::string, std::vector<PriceTable::ProviderPrices>> read(const YAML::Node& root);

 private:
  PriceTable::ProviderPrices read_provider(const YAML::Node& node);
  PriceTable::ModelPrice read_model(const YAML::Node& node,
                                    const std::vector<std::pair<std::string, int>>& prefixes);
  std::optional<double> price(const std::unordered_map<std::string, YamlField>& f,
                              const std::string& key);

  YamlReader reader_;
};

std::optional<double> PriceReader::price(const std::unordered_map<std::string, YamlField>& f,
                                         const std::string& key) {
  const YAML::Node* node = reader_.optional(f, key);
  if (node == nullptr) return std::nullopt;
  const std::string text = reader_.scalar(*node, "'" + key + "'");
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    reader_.fail(*node,
                 "'" + key + "' must be a number (USD per million tokens), not '" + text + "'");
  }
  if (value < 0) reader_.fail(*node, "'" + key + "' is negative (" + text + ")");
  if (value > kMaxPrice) {
    reader_.fail(*node, "'" + key + "' is over 1000000 USD per million tokens (" + text + ")");
  }
  return value;
}

PriceTable::ModelPrice PriceReader::read_model(
    const YAML::Node& node, const std::vector<std::pair<std::string, int>>& prefixes) {
  const auto f = reader_.fields(node, "a model", kModelKeys);
  PriceTable::ModelPrice model;
  const YAML::Node& match = reader_.require(f, "match", node);
  model.globs = reader_.strings(match, "'match'");
  if (model.globs.empty()) reader_.fail(match, "'match' is an empty list");
  for (const std::string& glob : model.globs) {
    if (glob.empty() || glob.size() > kMaxGlobBytes) {
      reader_.fail(match, "a model glob must have 1 to 256 characters");
    }
    // An earlier "prefix*" that covers this glob would always win: the entry is dead, and the
    // order was most likely meant the other way round.
    std::string folded(glob);
    std::transform(folded.begin(), folded.end(), folded.begin(), lower);
    for (const auto& [prefix, line] : prefixes) {
      if (folded.starts_with(prefix)) {
        reader_.fail(match, "model '" + glob + "' is never used: '" + prefix + "*' (line " +
                                std::to_string(line) +
                                ") comes first and matches it; list the narrower glob first");
      }
    }
  }
  model.input = price(f, "input");
  if (!model.input) reader_.fail(node, "'input' is missing");
  model.cached_input = price(f, "cached_input");
  model.cache_write = price(f, "cache_write");
  model.output = price(f, "output");
  if (const YAML::Node* note = reader_.optional(f, "note")) reader_.scalar(*note, "'note'");
  return model;
}

PriceTable::ProviderPrices PriceReader::read_provider(const YAML::Node& node) {
  reader_.set_context("");
  const auto f = reader_.fields(node, "a provider", kProviderKeys);
  PriceTable::ProviderPrices out;
  const YAML::Node& provider = reader_.require(f, "provider", node);
  out.providers = reader_.strings(provider, "'provider'");
  if (out.providers.empty()) reader_.fail(provider, "'provider' is an empty list");
  std::string names;
  for (const std::string& id : out.providers) {
    if (!is_provider_id(id)) {
      reader_.fail(provider, "bad provider id '" + id + "' (a catalog provider id: [a-z0-9._-])");
    }
    names += (names.empty() ? "" : ", ") + id;
  }
  reader_.set_context("provider " + names);

  const YAML::Node& source = reader_.require(f, "source", node);
  const std::string url = reader_.scalar(source, "'source'");
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    reader_.fail(source, "'source' must be the URL the prices come from");
  }
  out.cached_included_in_input = reader_.boolean(
      reader_.require(f, "cached_included_in_input", node), "'cached_included_in_input'");
  if (const YAML::Node* flag = reader_.optional(f, "reasoning_included_in_output")) {
    out.reasoning_included_in_output = reader_.boolean(*flag, "'reasoning_included_in_output'");
  }
  if (const YAML::Node* note = reader_.optional(f, "note")) reader_.scalar(*note, "'note'");

  const YAML::Node& models = reader_.require(f, "models", node);
  std::vector<std::pair<std::string, int>> prefixes;  // "prefix*" globs so far, with lines
  for (const YAML::Node& model : reader_.sequence(models, "'models'")) {
    out.models.push_back(read_model(model, prefixes));
    for (const std::string& glob : out.models.back().globs) {
      if (auto prefix = plain_prefix(glob)) prefixes.emplace_back(*prefix, model.Mark().line + 1);
    }
  }
  if (out.models.empty()) reader_.fail(models, "'models' is an empty list");
  reader_.set_context("");
  return out;
}

std::pair<std::string, std::vector<PriceTable::ProviderPrices>> PriceReader::read(
    const YAML::Node& root) {
  if (root.IsNull()) reader_.fail(root, "empty price table: expected 'version: 1'");
  const auto f = reader_.fields(root, "the price table", kTopKeys);
  const YAML::Node& version = reader_.require(f, "version", root);
  if (reader_.scalar(version, "'version'") != "1") {
    reader_.fail(version, "unsupported version (want 1)");
  }
  const YAML::Node& as_of = reader_.require(f, "as_of", root);
  std::string date = reader_.scalar(as_of, "'as_of'");
  if (!is_date(date)) reader_.fail(as_of, "'as_of' must be a date, YYYY-MM-DD, not '" + date + "'");

  const YAML::Node& providers = reader_.require(f, "providers", root);
  std::vector<PriceTable::ProviderPrices> blocks;
  for (const YAML::Node& node : reader_.sequence(providers, "'providers'")) {
    blocks.push_back(read_provider(node));
  }
  return {std::move(date), std::move(blocks)};
}

}  // namespace

PriceTable PriceTable::builtin() {
  static const PriceTable kBuiltin = from_yaml(builtin_price_text(), kBuiltinPriceTableName);
  return kBuiltin;
}

PriceTable PriceTable::from_yaml(std::string_view yaml_text, std::string_view source_name) {
  const std::string source(source_name);
  const YAML::Node root = parse_yaml_document(std::string(yaml_text), source);
  auto [as_of, blocks] = PriceReader(source).read(root);
  return PriceTable(std::move(as_of), std::move(blocks));
}

PriceTable PriceTable::from_file(const std::string& path) {
  return from_yaml(read_config_file(path), path);
}

void PriceTable::add_overrides(const PriceTable& user) {
  std::vector<ProviderPrices> merged = user.blocks_;
  merged.insert(merged.end(), std::make_move_iterator(blocks_.begin()),
                std::make_move_iterator(blocks_.end()));
  blocks_ = std::move(merged);
  generation_ = next_generation();
  if (as_of_.empty() || (!user.as_of_.empty() && user.as_of_ < as_of_)) as_of_ = user.as_of_;
}

size_t PriceTable::size() const {
  size_t count = 0;
  for (const ProviderPrices& block : blocks_) count += block.models.size();
  return count;
}

std::vector<std::string> PriceTable::providers() const {
  std::set<std::string> ids;
  for (const ProviderPrices& block : blocks_) {
    ids.insert(block.providers.begin(), block.providers.end());
  }
  return {ids.begin(), ids.end()};
}

uint64_t PriceTable::next_generation() {
  static std::atomic<uint64_t> generations{0};
  return generations.fetch_add(1, std::memory_order_relaxed) + 1;
}

PriceTable& PriceTable::operator=(const PriceTable& other) {
  as_of_ = other.as_of_;
  blocks_ = other.blocks_;
  generation_ = next_generation();
  return *this;
}

PriceTable& PriceTable::operator=(PriceTable&& other) noexcept {
  as_of_ = std::move(other.as_of_);
  blocks_ = std::move(other.blocks_);
  generation_ = next_generation();
  other.generation_ = next_generation();
  return *this;
}

std::optional<CallCost> PriceTable::cost_of(const LlmCall& call) const {
  return cost_of(call, nullptr);
}

std::optional<CallCost> PriceTable::cost_of(const LlmCall& call, PriceMemo* memo) const {
  const TokenUsage& t = call.tokens;
  if (!t.input && !t.output && !t.cached && !t.cache_creation && !t.reasoning) return std::nullopt;
  if (!call.response_model.empty()) {
    if (const Match m = match(call.provider, call.response_model, memo); m.block) {
      return cost_at(m, t);
    }
  }
  if (!call.request_model.empty() && call.request_model != call.response_model) {
    if (const Match m = match(call.provider, call.request_model, memo); m.block) {
      return cost_at(m, t);
    }
  }
  return std::nullopt;
}

PriceTable::Match PriceTable::match(std::string_view provider, std::string_view model,
                                    PriceMemo* memo) const {
  if (memo == nullptr) return match(provider, model);
  if (memo->table_ != this || memo->generation_ != generation_) {
    *memo = PriceMemo();
    memo->table_ = this;
    memo->generation_ = generation_;
  }
  for (const PriceMemo::Entry& e : memo->entries_) {
    if (e.used && e.provider == provider && e.model == model) {
      if (e.block_index == PriceMemo::kNone) return {};
      const ProviderPrices& block = blocks_[e.block_index];
      return {&block, &block.models[e.model_index]};
    }
  }
  const Match m = match(provider, model);
  PriceMemo::Entry& e = memo->entries_[memo->next_];
  memo->next_ = (memo->next_ + 1) % PriceMemo::kEntries;
  e.used = true;
  e.provider.assign(provider);
  e.model.assign(model);
  e.block_index = m.block ? static_cast<size_t>(m.block - blocks_.data()) : PriceMemo::kNone;
  e.model_index =
      m.block ? static_cast<size_t>(m.price - m.block->models.data()) : PriceMemo::kNone;
  return m;
}

PriceTable::Match PriceTable::match(std::string_view provider, std::string_view model) const {
  for (const ProviderPrices& block : blocks_) {
    if (std::find(block.providers.begin(), block.providers.end(), provider) ==
        block.providers.end()) {
      continue;
    }
    for (const ModelPrice& price : block.models) {
      if (std::any_of(price.globs.begin(), price.globs.end(), [&](const std::string& glob) {
            return glob_match(glob, model, GlobCase::kIgnoreAscii);
          })) {
        return {&block, &price};
      }
    }
  }
  return {};
}

CallCost PriceTable::cost_at(const Match& m, const TokenUsage& t) {
  const ProviderPrices& block = *m.block;
  const ModelPrice& price = *m.price;
  CallCost cost;
  auto charge = [&](uint64_t tokens, const std::optional<double>& per_million) {
    if (tokens == 0) return;
    if (!per_million) {
      cost.partial = true;
      return;
    }
    cost.usd += static_cast<double>(tokens) * *per_million / 1e6;
  };
  const uint64_t cached = t.cached.value_or(0);
  uint64_t input = t.input.value_or(0);
  if (block.cached_included_in_input) input -= std::min(cached, input);
  uint64_t output = t.output.value_or(0);
  if (!block.reasoning_included_in_output) output += t.reasoning.value_or(0);
  charge(input, price.input);
  charge(cached, price.cached_input);
  charge(t.cache_creation.value_or(0), price.cache_write);
  charge(output, price.output);
  return cost;
}

}  // namespace llmtap::llm
