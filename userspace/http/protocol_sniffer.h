#pragma once
// Tells from the first bytes of one direction of a connection what it speaks, so that a
// connection is parsed as HTTP/1.x or HTTP/2, with the right side as the requester, or
// left alone. Whole SSL_write buffers arrive together, so a few bytes decide.

#include <cstddef>
#include <string_view>

namespace llmtap::http {

enum class SniffedProtocol {
  kNeedMore,          // could still be any of the below
  kHttp1Request,      // "METHOD SP": this direction sends requests
  kHttp1Response,     // "HTTP/1.": this direction sends responses
  kHttp2Preface,      // the client connection preface: this direction sends requests
  kHttp2ServerStart,  // a SETTINGS frame: an HTTP/2 server that spoke before reading the preface
  kNotHttp,
};

// Bytes sniff_protocol needs at most to decide.
inline constexpr size_t kSniffBytes = 24;

SniffedProtocol sniff_protocol(std::string_view first_bytes);

}  // namespace llmtap::http
