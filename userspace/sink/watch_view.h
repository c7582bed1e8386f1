#pragma once
// `llmtap watch`: one fixed-width terminal line per LLM call, for people rather than tools.

#include <string>
#include <string_view>

#include "llm/llm_call.h"
#include "sink/watch_style.h"
#include "sink/watch_summary.h"  // the periodic table that goes with the lines

namespace llmtap::sink {

// The column titles, aligned with format_watch_line (no newline).
std::string format_watch_header(const WatchStyle& style);

// One line for `call` (no newline): local start time, process, provider, model, tokens in/out,
// bytes sent/received, latency, time to first byte (streams), stream marker, status and the
// policy's `verdict`. Unknown values show as "-"; long ones are cut with "…".
std::string format_watch_line(const llm::LlmCall& call, const WatchStyle& style,
                              std::string_view verdict = "allow");

}  // namespace llmtap::sink
