#include "http/content_decoder.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <vector>

#include "common/wire_text.h"

namespace llmtap::http {
namespace {

// Output grows geometrically between these steps: a short body never reserves (and
// zero-fills) more than a few KiB, a long one is not decoded in thousands of small calls.
constexpr size_t kMinOutputStep = 4 * 1024;
constexpr size_t kMaxOutputStep = 1024 * 1024;
// RFC 8878 3.1.1.1.2: HTTP decoders need windows of at most 8 MiB; larger ones are refused
// rather than allocated.
constexpr int kZstdWindowLogMax = 23;

enum class StageEnd { kDone, kOutputFull, kInputEnded, kCorrupt };

struct StageResult {
  StageEnd end = StageEnd::kDone;
  std::string why;  // kCorrupt only
};

// Hands a decoder room to write into: a slice of `out` while under the limit, then a one-byte
// probe whose only purpose is to tell "finished exactly at the limit" from "would go on".
class OutputWindow {
 public:
  OutputWindow(std::string& out, size_t max) : out_(out), max_(max) {}

  // Room for the next decoder call.
  std::pair<uint8_t*, size_t> next() {
    const size_t step = std::clamp(out_.size(), kMinOutputStep, kMaxOutputStep);
    const size_t room = std::min(max_ - std::min(out_.size(), max_), step);
    probing_ = room == 0;
    if (probing_) return {&probe_, 1};
    used_before_ = out_.size();
    out_.resize(used_before_ + room);
    return {reinterpret_cast<uint8_t*>(out_.data() + used_before_), room};
  }
  // The decoder left `unused` bytes of that room; returns how many it wrote.
  size_t commit(size_t unused) {
    if (probing_) return 1 - unused;
    const size_t written = out_.size() - used_before_ - unused;
    out_.resize(out_.size() - unused);
    return written;
  }
  bool probing() const { return probing_; }

 private:
  std::string& out_;
  size_t max_;
  size_t used_before_ = 0;
  bool probing_ = false;
  uint8_t probe_ = 0;
};

bool has_gzip_magic(std::string_view in) {
  return in.size() >= 2 && static_cast<uint8_t>(in[0]) == 0x1f &&
         static_cast<uint8_t>(in[1]) == 0x8b;
}

// RFC 1950 header check: CM 8, window <= 32K, FCHECK makes the pair a multiple of 31.
bool has_zlib_header(std::string_view in) {
  if (in.size() < 2) return false;
  const auto cmf = static_cast<uint8_t>(in[0]);
  const auto flg = static_cast<uint8_t>(in[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

// gzip (window_bits 16+15, members may be concatenated), zlib (15) or raw deflate (-15).
StageResult run_zlib(std::string_view in, int window_bits, size_t max, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return {StageEnd::kCorrupt, "zlib init failed"};
  const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  const bool gzip = window_bits > 15;
  OutputWindow window(out, max);
  size_t offset = 0;  // input handed to zlib so far (avail_in is 32-bit)
  while (true) {
    if (z.avail_in == 0 && offset < in.size()) {
      const size_t piece = std::min<size_t>(in.size() - offset, UINT_MAX);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + offset));
      z.avail_in = static_cast<uInt>(piece);
      offset += piece;
    }
    auto [room, room_size] = window.next();
    z.next_out = room;
    z.avail_out = static_cast<uInt>(room_size);
    const int rc = inflate(&z, Z_NO_FLUSH);
    const bool probing = window.probing();
    const size_t written = window.commit(z.avail_out);
    if (probing && written > 0) return {StageEnd::kOutputFull, {}};
    const size_t input_left = z.avail_in + (in.size() - offset);
    if (rc == Z_STREAM_END) {
      const std::string_view rest = in.substr(in.size() - input_left);
      if (gzip && has_gzip_magic(rest)) {  // another member follows
        inflateReset(&z);
        continue;
      }
      return {StageEnd::kDone, {}};  // trailing bytes after the stream are ignored
    }
    if (rc == Z_BUF_ERROR && input_left == 0) return {StageEnd::kInputEnded, {}};
    if (rc != Z_OK) {
      return {StageEnd::kCorrupt, z.msg != nullptr ? z.msg : "invalid compressed data"};
    }
  }
}

StageResult run_deflate(std::string_view in, size_t max, std::string& out) {
  return run_zlib(in, has_zlib_header(in) ? 15 : -15, max, out);
}

StageResult run_brotli(std::string_view in, size_t max, std::string& out) {
  const std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return {StageEnd::kCorrupt, "brotli init failed"};
  OutputWindow window(out, max);
  size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  while (true) {
    auto [next_out, avail_out] = window.next();
    const BrotliDecoderResult rc = BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in,
                                                                 &avail_out, &next_out, nullptr);
    const bool probing = window.probing();
    const size_t written = window.commit(avail_out);
    if (probing && written > 0) return {StageEnd::kOutputFull, {}};
    switch (rc) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        return {StageEnd::kDone, {}};
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        return {StageEnd::kInputEnded, {}};
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        break;
      case BROTLI_DECODER_RESULT_ERROR:
        return {StageEnd::kCorrupt,
                BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get()))};
    }
  }
}

StageResult run_zstd(std::string_view in, size_t max, std::string& out) {
  const std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return {StageEnd::kCorrupt, "zstd init failed"};
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
  OutputWindow window(out, max);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  while (true) {
    auto [room, room_size] = window.next();
    ZSTD_outBuffer output{room, room_size, 0};
    const size_t consumed_before = input.pos;
    const size_t rc = ZSTD_decompressStream(dctx.get(), &output, &input);
    const bool probing = window.probing();
    const size_t written = window.commit(room_size - output.pos);
    if (ZSTD_isError(rc)) return {StageEnd::kCorrupt, ZSTD_getErrorName(rc)};
    if (probing && written > 0) return {StageEnd::kOutputFull, {}};
    const bool input_done = input.pos == input.size;
    if (rc == 0 && input_done) return {StageEnd::kDone, {}};  // every frame ended
    if (written == 0 && input.pos == consumed_before && input_done) {
      return {StageEnd::kInputEnded, {}};
    }
  }
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The codings in the order they were applied, lower-cased, identity left out.
std::vector<std::string> coding_list(std::string_view value) {
  std::vector<std::string> codings;
  while (true) {
    const size_t comma = value.find(',');
    std::string coding(common::trim(value.substr(0, comma)));
    std::ranges::transform(coding, coding.begin(), ascii_lower);
    if (!coding.empty() && coding != "identity") codings.push_back(std::move(coding));
    if (comma == std::string_view::npos) return codings;
    value.remove_prefix(comma + 1);
  }
}

// Runs one coding's decoder; false when the coding is not one we decode.
bool run_coding(std::string_view coding, std::string_view in, size_t max, std::string& out,
                StageResult& result) {
  if (coding == "gzip" || coding == "x-gzip") {
    result = run_zlib(in, 16 + MAX_WBITS, max, out);
  } else if (coding == "deflate") {
    result = run_deflate(in, max, out);
  } else if (coding == "br") {
    result = run_brotli(in, max, out);
  } else if (coding == "zstd") {
    result = run_zstd(in, max, out);
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool is_identity_encoding(std::string_view content_encoding) {
  return coding_list(content_encoding).empty();
}

DecodedContent decode_content(std::string_view body, std::string_view content_encoding,
                              size_t max_output, bool input_truncated) {
  DecodedContent result;
  const std::vector<std::string> codings = coding_list(content_encoding);
  const auto pass_through = [&](std::string_view in, bool in_truncated) {
    result.bytes.assign(in.substr(0, max_output));
    result.truncated = in_truncated || in.size() > max_output;
  };
  if (codings.size() > kMaxContentCodings) {
    pass_through(body, input_truncated);
    result.error = "too many content codings";
    return result;
  }
  std::string stage_output;
  std::string_view in = body;
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    std::string out;
    StageResult stage;
    if (!run_coding(*it, in, max_output, out, stage)) {
      pass_through(in, input_truncated);
      result.error = "unsupported content coding: " + *it;
      return result;
    }
    switch (stage.end) {
      case StageEnd::kDone:
        break;
      case StageEnd::kOutputFull:
        input_truncated = true;  // the next coding sees a cut stream
        break;
      case StageEnd::kInputEnded:
        if (!input_truncated) stage.why = *it + ": compressed data ends early";
        break;
      case StageEnd::kCorrupt:
        stage.why = *it + ": " + stage.why;
        break;
    }
    if (!stage.why.empty()) {
      result.bytes = std::move(out);
      result.truncated = input_truncated;
      result.error = std::move(stage.why);
      return result;
    }
    stage_output = std::move(out);
    in = stage_output;
  }
  if (codings.empty()) {
    pass_through(body, input_truncated);
  } else {
    result.bytes = std::move(stage_output);
    result.truncated = input_truncated;
  }
  return result;
}

}  // namespace llmtap::http
