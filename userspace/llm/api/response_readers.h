#pragma once
// One reader per provider family. Each reads one parsed JSON document (a whole response body,
// or one stream event's data) into a ResponseBuilder; extract.cpp picks the reader by family
// and runs the stream loop. Readers never fail: what is absent or mistyped is skipped.

#include <string_view>

#include "llm/api/json_dom.h"
#include "llm/api/response_builder.h"

namespace llmtap::llm {

// Error bodies shaped like OpenAI's ({"error":{...}}, {"error":"text"}, vLLM's top-level
// {"object":"error",...}). True when one was found.
bool read_openai_error(JsonElement root, ResponseBuilder& out);
// Chat completions, legacy completions and embeddings, bodies and stream chunks alike, from
// OpenAI and the servers that copy its format (DeepSeek, Groq, Mistral, vLLM, ...).
void read_openai_chat(JsonElement root, ResponseBuilder& out);

void read_openai_responses_body(JsonElement root, ResponseBuilder& out);
void read_openai_responses_event(std::string_view type, JsonElement data, ResponseBuilder& out);

void read_anthropic_body(JsonElement root, ResponseBuilder& out);
void read_anthropic_event(std::string_view type, JsonElement data, ResponseBuilder& out);

// generateContent bodies and streamGenerateContent chunks share one shape.
void read_gemini(JsonElement root, bool streamed, ResponseBuilder& out);

// Bedrock InvokeModel: the body is in the model's native format, told apart by its shape.
void read_bedrock_invoke_body(JsonElement root, ResponseBuilder& out);
// One chunk of InvokeModelWithResponseStream, already base64-decoded.
void read_bedrock_invoke_chunk(JsonElement chunk, ResponseBuilder& out);

void read_bedrock_converse_body(JsonElement root, ResponseBuilder& out);
void read_bedrock_converse_event(std::string_view type, JsonElement data, ResponseBuilder& out);

void read_cohere_chat_body(JsonElement root, ResponseBuilder& out);
void read_cohere_chat_event(std::string_view type, JsonElement data, ResponseBuilder& out);
void read_cohere_embed_body(JsonElement root, ResponseBuilder& out);

// Chat, generate and embed bodies and NDJSON stream lines share one shape.
void read_ollama(JsonElement root, ResponseBuilder& out);

// Text of an array of content parts: strings, or objects with a "text" string, joined.
void add_parts_text(JsonElement parts, ResponseBuilder& out);

}  // namespace llmtap::llm
