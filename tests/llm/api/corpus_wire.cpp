#include "corpus_wire.h"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace llmtap::testing {
namespace {

using ordered_json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error(file.string() + ": " + what);
}

}  // namespace

std::string http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 529:
      return "Overloaded";
    default:
      return status >= 200 && status < 300 ? "OK" : "Error";
  }
}

namespace {

std::string zlib_compress(const std::string& body, int window_bits) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

// The body text of a JSON value given in a case: strings as they are, anything else compact.
std::string text_of(const ordered_json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct FramedBody {
  std::string body;
  std::string framing;
  std::string default_content_type;
  std::vector<llm::StreamEvent> events;
};

FramedBody framed(std::string framing, std::string default_content_type) {
  FramedBody out;
  out.framing = std::move(framing);
  out.default_content_type = std::move(default_content_type);
  return out;
}

// The object under `key`, copied (a range-for over a temporary's items() would dangle).
ordered_json object_at(const ordered_json& parent, const char* key) {
  return parent.value(key, ordered_json::object());
}

FramedBody frame_sse(const ordered_json& events) {
  FramedBody out = framed("sse", "text/event-stream");
  for (const ordered_json& e : events) {
    llm::StreamEvent event;
    if (e.contains("event")) {
      event.type = e["event"].get<std::string>();
      out.body += "event: " + event.type + "\n";
    }
    if (e.contains("data")) {
      event.data = text_of(e["data"]);
      std::istringstream lines(event.data);
      for (std::string line; std::getline(lines, line);) out.body += "data: " + line + "\n";
      if (event.data.empty()) out.body += "data: \n";
    }
    out.body += "\n";
    out.events.push_back(std::move(event));
  }
  return out;
}

FramedBody frame_ndjson(const ordered_json& lines) {
  FramedBody out = framed("ndjson", "application/x-ndjson");
  for (const ordered_json& line : lines) {
    out.events.push_back({.type = "", .data = line.dump()});
    out.body += line.dump() + "\n";
  }
  return out;
}

// Gemini's streamed array: one element per write, separated by ",\r\n".
FramedBody frame_json_array(const ordered_json& elements) {
  FramedBody out = framed("json_array", "application/json");
  out.body = "[";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out.body += ",\r\n";
    out.body += elements[i].dump();
    out.events.push_back({.type = "", .data = elements[i].dump()});
  }
  out.body += "]";
  return out;
}

FramedBody frame_aws_event_stream(const ordered_json& messages) {
  FramedBody out = framed("aws_event_stream", "application/vnd.amazon.eventstream");
  for (const ordered_json& m : messages) {
    std::vector<std::pair<std::string, std::string>> headers;
    const ordered_json header_object = object_at(m, "headers");
    for (const auto& [name, value] : header_object.items()) {
      headers.emplace_back(name, value.get<std::string>());
    }
    std::string payload;
    if (m.contains("chunk")) {
      payload = ordered_json{{"bytes", base64_encode(m["chunk"].dump())}}.dump();
    } else if (m.contains("payload_text")) {
      payload = m["payload_text"].get<std::string>();
    } else if (m.contains("payload")) {
      payload = m["payload"].dump();
    }
    llm::StreamEvent event;
    const auto header_value = [&](std::string_view name) -> std::string {
      for (const auto& [n, v] : headers) {
        if (n == name) return v;
      }
      return {};
    };
    const std::string message_type = header_value(":message-type");
    event.is_exception = message_type == "exception" || message_type == "error";
    event.type = message_type == "exception" ? header_value(":exception-type")
                 : message_type == "error"   ? header_value(":error-code")
                                             : header_value(":event-type");
    event.data = payload;
    out.events.push_back(std::move(event));
    out.body += encode_aws_event_message(headers, payload);
  }
  return out;
}

FramedBody frame_response_body(const std::filesystem::path& file, const ordered_json& response) {
  const char* kinds[] = {"body", "body_text", "sse", "ndjson", "json_array", "aws_event_stream"};
  int present = 0;
  for (const char* kind : kinds) present += response.contains(kind) ? 1 : 0;
  if (present != 1) fail(file, "response needs exactly one body kind");
  if (response.contains("body")) {
    FramedBody out = framed("", "application/json");
    out.body = response["body"].dump();
    return out;
  }
  if (response.contains("body_text")) {
    FramedBody out = framed("", "text/plain");
    out.body = response["body_text"].get<std::string>();
    return out;
  }
  if (response.contains("sse")) return frame_sse(response["sse"]);
  if (response.contains("ndjson")) return frame_ndjson(response["ndjson"]);
  if (response.contains("json_array")) return frame_json_array(response["json_array"]);
  return frame_aws_event_stream(response["aws_event_stream"]);
}

std::optional<uint64_t> optional_count(const ordered_json& expect, const char* key) {
  if (!expect.contains(key) || expect[key].is_null()) return std::nullopt;
  return expect[key].get<uint64_t>();
}

CorpusExpect read_expect(const ordered_json& e) {
  CorpusExpect out;
  out.provider = e.at("provider").get<std::string>();
  out.api = e.at("api").get<std::string>();
  out.request_model = e.value("request_model", "");
  out.response_model = e.contains("response_model") && !e["response_model"].is_null()
                           ? e["response_model"].get<std::string>()
                           : "";
  out.stream = e.value("stream", false);
  out.status = e.at("status").get<int>();
  out.input_tokens = optional_count(e, "input_tokens");
  out.output_tokens = optional_count(e, "output_tokens");
  out.total_tokens = optional_count(e, "total_tokens");
  out.cached_tokens = optional_count(e, "cached_tokens");
  out.reasoning_tokens = optional_count(e, "reasoning_tokens");
  if (e.contains("error_type") && !e["error_type"].is_null()) {
    out.error_type = e["error_type"].get<std::string>();
  }
  return out;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string encode_content(const std::string& body, const std::string& coding) {
  if (coding.empty() || coding == "identity") return body;
  if (coding == "gzip") return zlib_compress(body, 15 + 16);
  if (coding == "deflate") return zlib_compress(body, 15);  // HTTP deflate is zlib-wrapped
  if (coding == "br") {
    std::string out(BrotliEncoderMaxCompressedSize(body.size()) + 16, '\0');
    size_t size = out.size();
    if (!BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT,
                               body.size(), reinterpret_cast<const uint8_t*>(body.data()), &size,
                               reinterpret_cast<uint8_t*>(out.data()))) {
      throw std::runtime_error("brotli compression failed");
    }
    out.resize(size);
    return out;
  }
  if (coding == "zstd") {
    std::string out(ZSTD_compressBound(body.size()), '\0');
    const size_t size = ZSTD_compress(out.data(), out.size(), body.data(), body.size(), 3);
    if (ZSTD_isError(size)) throw std::runtime_error("zstd compression failed");
    out.resize(size);
    return out;
  }
  throw std::runtime_error("unknown content coding " + coding);
}

std::string encode_chunked(const std::string& body, size_t chunk_size) {
  std::string out;
  chunk_size = std::max<size_t>(chunk_size, 1);
  char size_line[32];
  for (size_t at = 0; at < body.size(); at += chunk_size) {
    const size_t n = std::min(chunk_size, body.size() - at);
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
    out += size_line;
    out.append(body, at, n);
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

std::string encode_aws_event_message(
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& payload) {
  std::string header_bytes;
  for (const auto& [name, value] : headers) {
    header_bytes += static_cast<char>(name.size());
    header_bytes += name;
    header_bytes += static_cast<char>(7);  // header value type 7: string
    header_bytes += static_cast<char>((value.size() >> 8) & 0xFF);
    header_bytes += static_cast<char>(value.size() & 0xFF);
    header_bytes += value;
  }
  const auto put_u32 = [](std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
  };
  const auto crc = [](const std::string& bytes) {
    return static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
  };
  std::string message;
  put_u32(message, static_cast<uint32_t>(12 + header_bytes.size() + payload.size() + 4));
  put_u32(message, static_cast<uint32_t>(header_bytes.size()));
  put_u32(message, crc(message));
  message += header_bytes;
  message += payload;
  put_u32(message, crc(message));
  return message;
}

CorpusCase load_corpus_case(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open");
  ordered_json doc;
  try {
    doc = ordered_json::parse(in);
  } catch (const std::exception& e) {
    fail(file, std::string("not JSON: ") + e.what());
  }
  CorpusCase c;
  try {
    c.name = file.parent_path().filename().string() + "/" + file.stem().string();
    c.raw = nlohmann::json::parse(doc.dump());
    const ordered_json& request = doc.at("request");
    const ordered_json& response = doc.at("response");
    c.expect = read_expect(doc.at("expect"));
    c.method = request.value("method", "POST");
    c.host = request.at("host").get<std::string>();
    c.path = request.at("path").get<std::string>();

    if (request.contains("body")) {
      c.request_body = request["body"].dump();
    } else if (request.contains("body_text")) {
      c.request_body = request["body_text"].get<std::string>();
    }
    c.request_bytes = c.method + " " + c.path + " HTTP/1.1\r\nHost: " + c.host + "\r\n";
    const ordered_json request_headers = object_at(request, "headers");
    for (const auto& [name, value] : request_headers.items()) {
      c.request_bytes += name + ": " + value.get<std::string>() + "\r\n";
    }
    c.request_bytes += "Content-Length: " + std::to_string(c.request_body.size()) + "\r\n\r\n";
    c.request_bytes += c.request_body;

    FramedBody framed = frame_response_body(file, response);
    c.response_body_unencoded = framed.body;
    c.response_framing = framed.framing;
    c.stream_events = std::move(framed.events);
    const int status = response.at("status").get<int>();
    const std::string coding = response.value("content_encoding", "");
    const bool chunked = response.value("transfer", "length") == "chunked";
    std::string head =
        "HTTP/1.1 " + std::to_string(status) + " " + http_reason_phrase(status) + "\r\n";
    const ordered_json response_headers = object_at(response, "headers");
    for (const auto& [name, value] : response_headers.items()) {
      head += name + ": " + value.get<std::string>() + "\r\n";
      if (lower(name) == "content-type") c.response_content_type = value.get<std::string>();
    }
    if (c.response_content_type.empty()) {
      c.response_content_type = framed.default_content_type;
      head += "Content-Type: " + c.response_content_type + "\r\n";
    }
    const std::string encoded = encode_content(framed.body, coding);
    if (!coding.empty()) head += "Content-Encoding: " + coding + "\r\n";
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\n\r\n";
      c.response_bytes = head + encode_chunked(encoded, response.value("chunk_size", 256));
    } else {
      head += "Content-Length: " + std::to_string(encoded.size()) + "\r\n\r\n";
      c.response_bytes = head + encoded;
    }
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).starts_with(file.string())) throw;
    fail(file, e.what());
  } catch (const std::exception& e) {
    fail(file, e.what());
  }
  return c;
}

std::vector<std::filesystem::path> corpus_case_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace llmtap::testing
