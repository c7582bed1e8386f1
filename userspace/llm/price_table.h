#pragma once
// The price table: an estimated cost in USD for an LLM call from its provider, model and
// tokens. The table is data (policies/prices.yaml, built in and dated, plus optional user
// files); its header describes the format. An estimate from list prices, never a bill.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/llm_call.h"

namespace llmtap::llm {

struct CallCost {
  double usd = 0;
  bool partial = false;  // the call reported tokens of a kind its model has no price for
};

class PriceTable;

// One caller's recent lookups of a table, (provider, model) -> its price entry: a host's
// calls repeat a few models, and a provider's globs are tried in order. Not for sharing
// between threads; bound to one table (cleared when used with another, or after the table
// took overrides).
class PriceMemo {
 private:
  friend class PriceTable;
  struct Entry {
    bool used = false;
    std::string provider;
    std::string model;
    size_t block_index = kNone;  // into the table's blocks and that block's models
    size_t model_index = kNone;
  };
  static constexpr size_t kEntries = 8;
  static constexpr size_t kNone = SIZE_MAX;  // no price
  const PriceTable* table_ = nullptr;
  uint64_t generation_ = 0;
  Entry entries_[kEntries];
  size_t next_ = 0;
};

class PriceTable {
 public:
  PriceTable() = default;
  // Every table, copy or state of one has its own generation: a memo never takes one's
  // entries for another's, even at the same address.
  PriceTable(const PriceTable& other) : as_of_(other.as_of_), blocks_(other.blocks_) {}
  PriceTable(PriceTable&& other) noexcept
      : as_of_(std::move(other.as_of_)), blocks_(std::move(other.blocks_)) {
    other.generation_ = next_generation();
  }
  PriceTable& operator=(const PriceTable& other);
  PriceTable& operator=(PriceTable&& other) noexcept;

  // policies/prices.yaml as compiled into the binary (parsed once).
  static PriceTable builtin();
  // Throw llmtap::YamlError ("FILE:LINE:COL: what", common/yaml_reader.h).
  static PriceTable from_yaml(std::string_view yaml_text, std::string_view source_name);
  static PriceTable from_file(const std::string& path);

  // `user`'s models are tried before this table's, so a user file can correct a price or add a
  // model. as_of() becomes the older of the two dates.
  void add_overrides(const PriceTable& user);

  // Nullopt when the call reported no token counts or no model of its provider matches (the
  // response model is tried first, then the request model).
  std::optional<CallCost> cost_of(const LlmCall& call) const;
  // The same, looking models up through `memo` first (null: no memo).
  std::optional<CallCost> cost_of(const LlmCall& call, PriceMemo* memo) const;

  std::string as_of() const { return as_of_; }  // "YYYY-MM-DD", "" for an empty table
  size_t size() const;                          // model entries, over all providers
  std::vector<std::string> providers() const;   // provider ids with prices, sorted

  // USD per million tokens; nullopt: no price for that kind of token.
  struct ModelPrice {
    std::vector<std::string> globs;
    std::optional<double> input;
    std::optional<double> cached_input;
    std::optional<double> cache_write;
    std::optional<double> output;
  };
  struct ProviderPrices {
    std::vector<std::string> providers;  // catalog provider ids
    bool cached_included_in_input = true;
    bool reasoning_included_in_output = true;
    std::vector<ModelPrice> models;
  };

 private:
  PriceTable(std::string as_of, std::vector<ProviderPrices> blocks)
      : as_of_(std::move(as_of)), blocks_(std::move(blocks)) {}

  struct Match {
    const ProviderPrices* block = nullptr;  // null: no price
    const ModelPrice* price = nullptr;
  };
  Match match(std::string_view provider, std::string_view model) const;
  Match match(std::string_view provider, std::string_view model, PriceMemo* memo) const;
  static CallCost cost_at(const Match& m, const TokenUsage& t);

  std::string as_of_;
  std::vector<ProviderPrices> blocks_;  // in the order they are tried
  static uint64_t next_generation();
  uint64_t generation_ = next_generation();  // new whenever blocks_ may be (memos start over)
};

}  // namespace llmtap::llm
