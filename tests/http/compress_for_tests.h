#pragma once
// Compresses test bodies with the real libraries, so decoding is tested by round trip.

#include <string>
#include <string_view>

namespace llmtap::http::test {

std::string gzip_compress(std::string_view in);
std::string zlib_compress(std::string_view in);         // "deflate" as RFC 9110 means it
std::string raw_deflate_compress(std::string_view in);  // "deflate" as some servers send it
std::string brotli_compress(std::string_view in);
std::string zstd_compress(std::string_view in);

}  // namespace llmtap::http::test
