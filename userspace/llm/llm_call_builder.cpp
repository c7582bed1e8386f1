#include "llm/llm_call_builder.h"

#include <string>
#include <vector>

#include "common/credential_shapes.h"
#include "llm/catalog/auth_style.h"
#include "llm/catalog/request_host.h"
#include "llm/catalog/request_target.h"
#include "llm/stream/stream_body.h"

namespace llmtap::llm {
namespace {

bool is_streaming_family(ApiFamily family) {
  return family == ApiFamily::kGeminiStreamGenerateContent ||
         family == ApiFamily::kBedrockInvokeStream || family == ApiFamily::kBedrockConverseStream;
}

std::string version_name(const http::HttpExchange& exchange) {
  if (exchange.version == http::HttpVersion::kHttp2) return "2";
  return exchange.request.version_minor == 0 ? "1.0" : "1.1";
}

}  // namespace

std::string host_without_port(std::string_view authority) {
  // Userinfo ("user:password@host") never reaches a record.
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  return std::string(RequestHost(authority).name());
}

std::string_view request_authority(const http::HttpMessage& request) {
  // HTTP/2's :authority arrives as a host header (see Http2StreamParser).
  if (auto host = http::header(request, "host")) return *host;
  return split_target(request.target).authority;  // absolute form, through a proxy
}

LlmCallBuilder::LlmCallBuilder(ExtractOptions options) : options_(options), memo_(options) {}

LlmCall LlmCallBuilder::build(const http::HttpExchange& exchange, const CatalogMatch& match) {
  ++stats_.calls;
  const http::HttpMessage& request = exchange.request;
  const http::HttpMessage& response = exchange.response;
  LlmCall call;
  call.provider = match.provider;
  call.api = std::string(to_string(match.family));
  call.operation = std::string(api_operation(match.family));
  call.auth_style = match.auth_style;
  if (const std::string_view key = api_key_of(request.headers, split_target(request.target).query);
      !key.empty()) {
    call.api_key_sha256 = key_fingerprints_.sha256_hex_of(key);
  }
  call.method = request.method;
  call.path = std::string(split_target(request.target).path);  // never the query: it can carry keys
  call.server_name = host_without_port(request_authority(request));
  call.http_version = version_name(exchange);
  call.user_agent = std::string(http::header(request, "user-agent").value_or(""));

  call.start_mono_ns = exchange.request_first_ns;
  if (exchange.has_response && exchange.response_first_ns >= exchange.request_first_ns) {
    call.ttfb_ns = exchange.response_first_ns - exchange.request_first_ns;
  }
  // Latency is to the response's end: a call without a response has none.
  if (exchange.has_response && exchange.response_last_ns >= exchange.request_first_ns) {
    call.latency_ns = exchange.response_last_ns - exchange.request_first_ns;
  }

  call.request_bytes = exchange.request_wire_bytes;
  call.response_bytes = exchange.response_wire_bytes;
  call.request_body_bytes = request.body_bytes;
  call.response_body_bytes = exchange.has_response ? response.body_bytes : 0;
  call.request_truncated = request.body_truncated;
  call.response_truncated = exchange.has_response && response.body_truncated;
  call.response_incomplete = exchange.response_incomplete;

  const RequestFacts asked = memo_.request(match.family, request.body, request.body.capacity());
  if (!asked.parsed && request.body_bytes != 0) ++stats_.request_parse_failures;
  // The path routes the call where it names the model (Gemini, Bedrock), so it wins over the
  // body; Gemini bodies that repeat it say "models/NAME".
  call.request_model = !match.model_from_path.empty() ? match.model_from_path
                       : !asked.model.empty()         ? asked.model
                                                      : match.deployment;
  call.prompt_text = asked.prompt_text;
  call.stream = asked.stream.value_or(false) || is_streaming_family(match.family);

  if (!exchange.has_response) {
    call.error_type = exchange.response_incomplete ? "incomplete" : "no_response";
    return call;
  }
  call.status = response.status;
  ResponseFacts answer;
  const StreamFraming framing =
      framing_for_response(match.family, http::header(response, "content-type").value_or(""));
  if (framing != StreamFraming::kNone) {
    call.stream = true;
    StreamDecodeStats decode_stats;
    const std::vector<StreamEvent> events =
        decode_stream_body(framing, response.body, &decode_stats);
    if (decode_stats.errors != 0) ++stats_.stream_decode_errors;
    answer = extract_stream(match.family, events, options_);
    if (!answer.saw_stream_end && response.status < 400) ++stats_.streams_without_end;
  } else {
    answer = memo_.response(match.family, response.status, response.headers, response.body);
  }
  if (!answer.parsed && response.body_bytes != 0) ++stats_.response_parse_failures;
  call.response_model = std::move(answer.model);
  call.tokens = answer.tokens;  // total already input + output where the provider gave none
  call.error_type = std::move(answer.error_type);
  call.error_message = std::move(answer.error_message);
  call.finish_reason = std::move(answer.finish_reason);
  call.response_id = std::move(answer.response_id);
  call.completion_text = std::move(answer.completion_text);
  // Text that came from traffic: a proxy may echo the key it got, a prompt may carry one.
  common::redact_credential_shapes(call.error_message);
  if (call.prompt_text) common::redact_credential_shapes(*call.prompt_text);
  if (call.completion_text) common::redact_credential_shapes(*call.completion_text);
  call.stream_events = answer.stream_events;
  if (call.error_type.empty()) {
    if (response.status >= 400) {
      call.error_type = "http_" + std::to_string(response.status);
    } else if (exchange.response_incomplete) {
      call.error_type = "incomplete";
    }
  }
  return call;
}

}  // namespace llmtap::llm
