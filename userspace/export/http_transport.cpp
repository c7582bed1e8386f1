#include "export/http_transport.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <climits>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace llmtap::exporter {
namespace {

constexpr size_t kMaxReasonBytes = 200;
// A bulk answer is read whole (one item a record); any other answer only for its reason.
constexpr size_t kMaxBulkAnswerBytes = size_t{32} << 20;
constexpr size_t kMaxOtherAnswerBytes = size_t{64} << 10;
constexpr size_t kMaxTokenFileBytes = size_t{64} << 10;
constexpr std::chrono::milliseconds kConnectTimeout{5000};

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view kind_name(HttpTarget::Kind kind) {
  switch (kind) {
    case HttpTarget::Kind::kSplunkHec:
      return "splunk-hec";
    case HttpTarget::Kind::kElasticBulk:
      return "elastic-bulk";
    case HttpTarget::Kind::kWebhook:
      return "webhook";
  }
  return "http";
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view text) {
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

// ---- URLs, through libcurl's own parser so we judge a URL exactly as it will be used.

struct UrlParts {
  std::string scheme, user, password, host, port, path, query;
};

struct CurlUrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlFree>;

std::string url_part(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

// The parsed URL, or nullopt with `error` set.
std::optional<UrlParts> parse_url(const std::string& text, CurlUrl& url, std::string& error) {
  init_curl_once();
  url.reset(curl_url());
  if (!url) {
    error = "url: out of memory";
    return std::nullopt;
  }
  if (text.empty()) {
    error = "url is empty";
    return std::nullopt;
  }
  if (const CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0);
      rc != CURLUE_OK) {
    // Not the URL itself in the message: it may carry a secret.
    error = std::string("url is not valid: ") + curl_url_strerror(rc);
    return std::nullopt;
  }
  UrlParts parts{.scheme = lower(url_part(url.get(), CURLUPART_SCHEME)),
                 .user = url_part(url.get(), CURLUPART_USER),
                 .password = url_part(url.get(), CURLUPART_PASSWORD),
                 .host = url_part(url.get(), CURLUPART_HOST),
                 .port = url_part(url.get(), CURLUPART_PORT),
                 .path = url_part(url.get(), CURLUPART_PATH),
                 .query = url_part(url.get(), CURLUPART_QUERY)};
  if (parts.scheme != "https" && parts.scheme != "http") {
    error = "url must be https:// or http://";
    return std::nullopt;
  }
  if (parts.host.empty()) {
    error = "url has no host";
    return std::nullopt;
  }
  return parts;
}

// ---- Validation

bool header_value_ok(std::string_view value) {
  // CR, LF or NUL would split or cut the header: request smuggling from a config value.
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool header_name_ok(std::string_view name) {
  static constexpr std::string_view kTokenPunctuation = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || kTokenPunctuation.find(static_cast<char>(c)) != std::string::npos;
  });
}

// Elasticsearch's index name rules: a bad name would reject every document of every batch.
std::string elastic_index_error(std::string_view index) {
  if (index.size() > 255) return "index is longer than 255 bytes";
  if (index == "." || index == "..") return "index must not be . or ..";
  if (index.front() == '-' || index.front() == '_' || index.front() == '+') {
    return "index must not start with -, _ or +";
  }
  for (const unsigned char c : index) {
    if (std::isupper(c)) return "index must be lowercase";
    if (c <= ' ' ||
        std::string_view("\\/*?\"<>|,#:").find(static_cast<char>(c)) != std::string_view::npos) {
      return "index must not contain spaces or any of \\ / * ? \" < > | , # :";
    }
  }
  return "";
}

// ---- Bodies

// A JSON string literal for a configuration value (host, index, sourcetype).
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

// HEC's `time`: seconds since the epoch with the milliseconds as decimals ("1700000000.123").
void append_hec_time(std::string& out, uint64_t time_ms) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), time_ms / 1000).ptr;
  out.append(digits.data(), end);
  const auto ms = static_cast<unsigned>(time_ms % 1000);
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
}

size_t payload_bytes(std::span<const OutRecord> records) {
  size_t total = 0;
  for (const OutRecord& r : records) total += r.payload.size();
  return total;
}

// ---- Gzip

// Fast level: a node agent's CPU is the workload's; level 1 already shrinks JSON several times.
bool gzip_into(std::string_view input, std::string& output) {
  if (input.size() > UINT_MAX) return false;
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  output.resize(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(output.data());
  zs.avail_out = static_cast<uInt>(std::min<size_t>(output.size(), UINT_MAX));
  const int rc = deflate(&zs, Z_FINISH);
  output.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

// ---- Answers

// A reason fit for logs: secrets we sent blanked out (a server may echo a header back),
// control characters flattened, at most 200 bytes cut on a UTF-8 boundary.
std::string clean_reason(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < 4) continue;  // too short to be a real credential; would mangle text
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 10)) {
      text.replace(at, secret.size(), "[redacted]");
    }
  }
  std::string out;
  for (const char ch : text) {
    const bool space = static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f || ch == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : ch;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxReasonBytes) {
    size_t cut = kMaxReasonBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

// Elasticsearch echoes a preview of the offending field's value; that is event content.
std::string without_value_preview(std::string reason) {
  if (const size_t at = reason.find(". Preview of field's value:"); at != std::string::npos) {
    reason.resize(at);
  }
  return reason;
}

// The reason in an error answer: Elasticsearch's error.type/reason, HEC's text, a generic
// message, or the text itself.
std::string reason_from_body(std::string_view body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object()) {
    if (const auto error = doc.find("error"); error != doc.end()) {
      if (error->is_string()) return error->get<std::string>();
      if (error->is_object()) {
        std::string type = error->value("type", "");
        std::string reason = without_value_preview(error->value("reason", ""));
        if (!type.empty() && !reason.empty()) return type + ": " + reason;
        if (!type.empty() || !reason.empty()) return type + reason;
      }
    }
    for (const char* key : {"text", "message", "reason"}) {
      if (const auto it = doc.find(key); it != doc.end() && it->is_string()) {
        return it->get<std::string>();
      }
    }
  }
  return std::string(body);
}

std::string status_error(long status, std::string_view body,
                         const std::vector<std::string>& secrets) {
  std::string what = "HTTP " + std::to_string(status);
  if (status >= 300 && status < 400) return what + ": redirects are not followed; check the url";
  const std::string reason = clean_reason(reason_from_body(body), secrets);
  return reason.empty() ? what : what + ": " + reason;
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

// ---- Public pure functions

std::string validate(const HttpTarget& target) {
  CurlUrl url;
  std::string error;
  const auto parts = parse_url(target.url, url, error);
  if (!parts) return error;
  if (!parts->user.empty() || !parts->password.empty()) {
    return "url must not carry credentials: use token, token_file or username/password";
  }
  if (target.timeout.count() <= 0) return "timeout must be positive";
  if (!target.ca_file.empty() && target.insecure_skip_verify) {
    return "ca_file and insecure_skip_verify exclude each other";
  }
  if (!header_value_ok(target.token)) return "token holds CR, LF or NUL";
  const bool has_token = !target.token.empty() || !target.token_file.empty();
  const bool has_basic = !target.username.empty() || !target.password.empty();
  if (has_token && has_basic) return "set a token or username/password, not both";
  if (!target.password.empty() && target.username.empty()) return "password without username";
  // Basic auth joins them with ':'; a ':' in the name would move the split.
  if (target.username.find(':') != std::string::npos) return "username must not contain ':'";
  switch (target.kind) {
    case HttpTarget::Kind::kSplunkHec:
      if (!has_token) return "splunk-hec needs a token or token_file (the HEC token)";
      if (has_basic) return "splunk-hec authenticates with a token, not username/password";
      break;
    case HttpTarget::Kind::kElasticBulk:
      if (std::string e =
              elastic_index_error(target.index.empty() ? kDefaultElasticIndex : target.index);
          !e.empty()) {
        return e;
      }
      break;
    case HttpTarget::Kind::kWebhook:
      break;
  }
  // What the transport sets itself: a second copy would make the request ambiguous.
  static constexpr std::array<std::string_view, 7> kReserved = {
      "host",       "content-length", "content-type", "content-encoding", "transfer-encoding",
      "connection", "expect"};
  for (const auto& [name, value] : target.headers) {
    if (!header_name_ok(name)) return "header name '" + name + "' is not a valid HTTP token";
    if (!header_value_ok(value)) return "header " + name + ": value holds CR, LF or NUL";
    const std::string key = lower(name);
    if (std::find(kReserved.begin(), kReserved.end(), key) != kReserved.end()) {
      return "header " + name + " is set by the transport";
    }
    if (key == "authorization" && (has_token || has_basic)) {
      return "header Authorization conflicts with token or username/password";
    }
  }
  return "";
}

std::string hec_body(const HttpTarget& target, std::span<const OutRecord> records) {
  // Everything between `time` and `event` is the same for every record.
  std::string fields;
  if (!target.host_field.empty()) {
    fields += ",\"host\":";
    append_json_string(fields, target.host_field);
  }
  if (!target.sourcetype.empty()) {
    fields += ",\"sourcetype\":";
    append_json_string(fields, target.sourcetype);
  }
  if (!target.index.empty()) {
    fields += ",\"index\":";
    append_json_string(fields, target.index);
  }
  fields += ",\"event\":";
  std::string body;
  body.reserve(payload_bytes(records) + records.size() * (fields.size() + 32));
  for (const OutRecord& record : records) {
    if (!body.empty()) body += '\n';
    body += "{\"time\":";
    append_hec_time(body, record.time_ms);
    body += fields;
    body += record.payload;
    body += '}';
  }
  return body;
}

std::string elastic_bulk_body(std::string_view index, std::span<const OutRecord> records) {
  std::string action = "{\"create\":{\"_index\":";
  append_json_string(action, index);
  action += "}}\n";
  std::string body;
  body.reserve(payload_bytes(records) + records.size() * (action.size() + 1));
  for (const OutRecord& record : records) {
    body += action;
    const size_t start = body.size();
    body += record.payload;
    // NDJSON frames by line. Raw CR/LF can only be whitespace between JSON tokens (inside a
    // string they are escaped), so turning them into spaces keeps the document as it was.
    if (record.payload.find_first_of("\r\n") != std::string::npos) {
      std::replace_if(
          body.begin() + static_cast<std::ptrdiff_t>(start), body.end(),
          [](char c) { return c == '\n' || c == '\r'; }, ' ');
    }
    body += '\n';
  }
  return body;
}

std::string webhook_body(std::span<const OutRecord> records) {
  std::string body;
  body.reserve(payload_bytes(records) + records.size() + 2);
  body += '[';
  for (const OutRecord& record : records) {
    if (&record != records.data()) body += ',';
    body += record.payload;
  }
  body += ']';
  return body;
}

SendResult bulk_response_result(std::string_view body, size_t records) {
  using Kind = SendResult::Kind;
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_boolean()) {
    // Nothing says what was indexed: send again rather than lose it.
    return {Kind::kRetry, "bulk: HTTP 200 but the answer is not a bulk response"};
  }
  if (!doc["errors"].get<bool>()) return {Kind::kSent, ""};
  const auto items = doc.find("items");
  if (items == doc.end() || !items->is_array()) {
    return {Kind::kRetry, "bulk: errors reported but no items in the answer"};
  }
  size_t retryable = 0;
  size_t rejected = 0;
  std::string first_retryable;
  std::string first_rejected;
  for (const auto& item : *items) {
    long status = 0;
    std::string reason;
    if (item.is_object() && !item.empty() && item.begin()->is_object()) {
      const auto& result = *item.begin();  // {"create": {...}}
      if (const auto s = result.find("status"); s != result.end() && s->is_number_integer()) {
        status = s->get<long>();
      }
      if (const auto e = result.find("error"); e != result.end()) {
        if (e->is_object()) {
          reason = e->value("type", "");
          const std::string text = without_value_preview(e->value("reason", ""));
          if (!text.empty()) reason += (reason.empty() ? "" : ": ") + text;
        } else if (e->is_string()) {
          reason = e->get<std::string>();
        }
      }
    }
    // 409 on create: a retry of a document that has an _id and is already there.
    if ((status >= 200 && status < 300) || status == 409) continue;
    const std::string what =
        "HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason);
    if (status == 0 || retryable_status(status)) {
      if (retryable++ == 0) first_retryable = what;
    } else if (rejected++ == 0) {
      first_rejected = what;
    }
  }
  // Items missing from the answer: their fate is unknown.
  if (items->size() < records) {
    if (retryable == 0) first_retryable = "items missing from the answer";
    retryable += records - items->size();
  }
  const std::string of = " of " + std::to_string(std::max(records, items->size())) + " items ";
  if (retryable > 0) {
    return {Kind::kRetry, "bulk: " + std::to_string(retryable) + of +
                              "failed, retrying the batch: " + clean_reason(first_retryable, {})};
  }
  if (rejected > 0) {
    return {Kind::kReject, "bulk: " + std::to_string(rejected) + of +
                               "rejected: " + clean_reason(first_rejected, {})};
  }
  return {Kind::kSent, ""};
}

// ---- The transport

struct HttpTransport::Curl {
  CURL* handle = nullptr;
  std::array<char, CURL_ERROR_SIZE> error{};
  std::string answer;  // the response body, up to answer_limit
  size_t answer_limit = 0;
  bool answer_too_large = false;

  Curl() = default;
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  ~Curl() {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }

  static size_t take(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Curl*>(user);
    const size_t n = size * count;
    const size_t room = self->answer_limit - std::min(self->answer_limit, self->answer.size());
    if (n > room) self->answer_too_large = true;
    // Read on to the end either way, so the connection stays reusable.
    self->answer.append(data, std::min(n, room));
    return n;
  }
};

namespace {

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

void add_header(HeaderList& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) throw std::bad_alloc();
  (void)list.release();
  list.reset(grown);
}

std::string read_token_file(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  std::string text(kMaxTokenFileBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  ok = !in.bad() && in.gcount() > 0 && in.gcount() < static_cast<std::streamsize>(text.size());
  text.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return trim(text);
}

std::string transfer_error(CURLcode rc, const char* detail, const HttpTarget& target) {
  std::string text = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return "timed out (" + std::to_string(target.timeout.count()) + " ms): " + text;
    case CURLE_PEER_FAILED_VERIFICATION:
      // The chain or the name: `text` says which.
      return "TLS: the collector's certificate failed verification against " +
             (target.ca_file.empty() ? std::string("the system store (set ca_file to its CA)")
                                     : "ca_file " + target.ca_file) +
             ": " + text;
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS: cannot load ca_file " + target.ca_file + " (" + text + ")";
    default:
      return text;
  }
}

}  // namespace

HttpTransport::HttpTransport(HttpTarget target) : target_(std::move(target)) {
  if (std::string error = validate(target_); !error.empty()) {
    throw std::invalid_argument(std::string(kind_name(target_.kind)) + ": " + error);
  }
  if (target_.kind == HttpTarget::Kind::kElasticBulk && target_.index.empty()) {
    target_.index = kDefaultElasticIndex;
  }

  CurlUrl url;
  std::string error;
  const UrlParts parts = *parse_url(target_.url, url, error);  // validate() parsed it
  std::string path = parts.path;
  if (target_.kind == HttpTarget::Kind::kSplunkHec && (path.empty() || path == "/")) {
    path = "/services/collector/event";
  } else if (target_.kind == HttpTarget::Kind::kElasticBulk && !path.ends_with("/_bulk")) {
    while (!path.empty() && path.back() == '/') path.pop_back();
    path += "/_bulk";
  }
  if (target_.kind == HttpTarget::Kind::kWebhook) {
    request_url_ = target_.url;
  } else {
    curl_url_set(url.get(), CURLUPART_PATH, path.c_str(), 0);
    request_url_ = url_part(url.get(), CURLUPART_URL);
  }
  description_ = std::string(kind_name(target_.kind)) + " " + parts.scheme + "://" + parts.host +
                 (parts.port.empty() ? "" : ":" + parts.port);
  if (target_.kind != HttpTarget::Kind::kWebhook && parts.path != "/") description_ += parts.path;

  curl_ = std::make_unique<Curl>();
  curl_->handle = curl_easy_init();
  if (curl_->handle == nullptr) throw std::runtime_error(description_ + ": curl_easy_init failed");
  CURL* h = curl_->handle;
  // Set once: every request reuses the handle, hence its connection and TLS session.
  curl_easy_setopt(h, CURLOPT_URL, request_url_.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, parts.scheme.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we are threaded
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(kConnectTimeout, target_.timeout).count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(target_.timeout.count()));
  // Idle keep-alive connections through NAT and load balancers that forget quiet flows.
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (target_.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!target_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, target_.ca_file.c_str());
  if (target_.token.empty() && target_.token_file.empty() && !target_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, target_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, target_.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);   // never carry a batch and its auth elsewhere
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // bulk answers can be large: take gzip
  curl_easy_setopt(h, CURLOPT_USERAGENT, "llmtap");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_->error.data());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Curl::take);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, curl_.get());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
}

HttpTransport::~HttpTransport() = default;

std::string HttpTransport::current_token(std::string& error) {
  if (target_.token_file.empty()) return target_.token;
  bool ok = false;
  std::string token = read_token_file(target_.token_file, ok);
  if (ok && !token.empty() && header_value_ok(token)) {
    last_file_token_ = token;
    return token;
  }
  // A file being replaced (a rotation) can be briefly missing or empty: keep the last token.
  if (!last_file_token_.empty()) return last_file_token_;
  error = "no usable token in token_file " + target_.token_file;
  return "";
}

SendResult HttpTransport::send(std::span<const OutRecord> records) {
  using Kind = SendResult::Kind;
  if (records.empty()) return {Kind::kSent, ""};

  std::string error;
  const std::string token = current_token(error);
  if (!error.empty()) return {Kind::kRetry, error};  // records are kept until the file is fixed

  HeaderList headers;
  switch (target_.kind) {
    case HttpTarget::Kind::kSplunkHec:
      body_ = hec_body(target_, records);
      add_header(headers, "Content-Type: application/json");
      add_header(headers, "Authorization: Splunk " + token);
      break;
    case HttpTarget::Kind::kElasticBulk:
      body_ = elastic_bulk_body(target_.index, records);
      add_header(headers, "Content-Type: application/x-ndjson");
      if (!token.empty()) add_header(headers, "Authorization: ApiKey " + token);
      break;
    case HttpTarget::Kind::kWebhook:
      body_ = webhook_body(records);
      add_header(headers, "Content-Type: application/json");
      if (!token.empty()) add_header(headers, "Authorization: Bearer " + token);
      break;
  }
  add_header(headers, "Accept: application/json");
  // No "Expect: 100-continue": libcurl would wait up to a second on every large batch for an
  // interim answer that many collectors and proxies never send.
  add_header(headers, "Expect:");
  for (const auto& [name, value] : target_.headers) {
    std::string line = name;
    line += ": ";
    line += value;
    add_header(headers, line);
  }

  std::string_view wire = body_;
  if (target_.gzip && gzip_into(body_, compressed_)) {
    wire = compressed_;
    add_header(headers, "Content-Encoding: gzip");
  }

  CURL* h = curl_->handle;
  curl_->answer.clear();
  curl_->answer_too_large = false;
  curl_->answer_limit =
      target_.kind == HttpTarget::Kind::kElasticBulk ? kMaxBulkAnswerBytes : kMaxOtherAnswerBytes;
  curl_->error[0] = '\0';
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(wire.size()));
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, wire.data());
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);  // `headers` is freed on return
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);

  // Anything sent that a collector could echo back in an error text.
  std::vector<std::string> secrets = {token, target_.token, target_.password};
  for (const auto& [name, value] : target_.headers) secrets.push_back(value);

  if (rc != CURLE_OK) return {Kind::kRetry, transfer_error(rc, curl_->error.data(), target_)};
  if (status >= 200 && status < 300) {
    if (target_.kind != HttpTarget::Kind::kElasticBulk) return {Kind::kSent, ""};
    if (curl_->answer_too_large) {
      return {Kind::kRetry, "bulk: the answer is larger than " +
                                std::to_string(kMaxBulkAnswerBytes >> 20) + " MiB"};
    }
    return bulk_response_result(curl_->answer, records.size());
  }
  const std::string what = status_error(status, curl_->answer, secrets);
  if (status >= 400 && status < 500 && !retryable_status(status)) return {Kind::kReject, what};
  return {Kind::kRetry, what};  // 408, 429, 5xx; a redirect or an odd status: keep the records
}

}  // namespace llmtap::exporter
