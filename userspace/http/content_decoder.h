#pragma once
// Undoes the content codings named by a Content-Encoding value (RFC 9110 8.4): identity, gzip
// (x-gzip), deflate (zlib-wrapped or raw, as servers disagree), br and zstd, and lists of them
// (applied in order, so undone in reverse). Output never exceeds the caller's limit, so a
// decompression bomb costs at most that much memory and the work to produce it.

#include <cstddef>
#include <string>
#include <string_view>

namespace llmtap::http {

struct DecodedContent {
  // The decoded bytes, at most the limit. On error, as much as could be recovered: what the
  // failing coding produced before the bad data (or its input, for an unknown coding).
  std::string bytes;
  // The output stopped at the limit, or the input was already cut (input_truncated).
  bool truncated = false;
  std::string error;  // empty on success
};

// Codings in one Content-Encoding value beyond this are refused (each pass costs up to the
// output limit, so a long list multiplies the work).
inline constexpr size_t kMaxContentCodings = 4;

// `input_truncated` says the body was cut before its end (a body limit): a stream that stops
// early is then reported as truncated rather than as an error.
DecodedContent decode_content(std::string_view body, std::string_view content_encoding,
                              size_t max_output, bool input_truncated = false);

// True when the value names no coding other than identity (nothing to decode).
bool is_identity_encoding(std::string_view content_encoding);

}  // namespace llmtap::http
