#pragma once
// How `llmtap watch` draws: shared by the call lines and the summary table.

namespace llmtap::sink {

struct WatchStyle {
  bool color = false;  // ANSI colours: errors red, verdicts other than "allow" highlighted
};

}  // namespace llmtap::sink
