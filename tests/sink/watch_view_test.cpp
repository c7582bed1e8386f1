#include "sink/watch_view.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <iterator>
#include <sstream>
#include <vector>

#include "llm_call_samples.h"
#include "sink/terminal_text.h"

namespace llmtap::sink {
namespace {

using testing::full_call;

class WatchViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_tz_ = tz ? std::optional<std::string>(tz) : std::nullopt;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (saved_tz_) {
      setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> saved_tz_;
};

const WatchStyle kPlain{};
const WatchStyle kColor{.color = true};

TEST_F(WatchViewTest, LineHasEveryColumn) {
  const std::string line = format_watch_line(full_call(), kPlain);
  EXPECT_EQ(line.rfind("22:13:20.123 python3[4242]", 0), 0u) << line;
  for (const char* part : {" openai ", " gpt-4o-mini-2024-07-18 ", " 1200 ", " 350 ", " 5.2K ",
                           " 47K ", " 1.9s ", " 310ms ", " ~ ", " 200 ", " allow"}) {
    EXPECT_NE(line.find(part), std::string::npos) << part << " in\n" << line;
  }
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
}

TEST_F(WatchViewTest, LinesAreAsWideAsTheHeader) {
  const size_t width = display_width(format_watch_header(kPlain));
  auto call = full_call();
  EXPECT_EQ(display_width(format_watch_line(call, kPlain)), width);
  call.response_model = std::string(200, 'm');
  call.process.comm = "a-very-long-process-name-indeed";
  call.process.pid = 4194304;
  call.error_type = "an_extremely_long_error_type_name";
  call.status = 529;
  call.tokens.input = 123456789012;
  EXPECT_EQ(display_width(format_watch_line(call, kPlain, "block-and-report")), width);
  EXPECT_EQ(display_width(format_watch_line(testing::bare_call(), kPlain)), width);
}

TEST_F(WatchViewTest, PodsAreShownAsNamespaceSlashPod) {
  llm::LlmCall call = full_call();
  call.process.workload = testing::pod_workload();
  const std::string line = format_watch_line(call, kPlain);
  EXPECT_NE(line.find("ml-team/agent-6d8…"), std::string::npos) << line;
  EXPECT_EQ(line.find("python3[4242]"), std::string::npos) << line;
  // A container without a known pod: still the process.
  call.process.workload = testing::container_workload();
  EXPECT_NE(format_watch_line(call, kPlain).find("python3[4242]"), std::string::npos);
}

TEST_F(WatchViewTest, LongValuesAreCutWithAnEllipsis) {
  auto call = full_call();
  call.response_model = "claude-3-5-sonnet-20241022-with-a-suffix";
  call.process.comm = "a-very-long-process-name";
  const std::string line = format_watch_line(call, kPlain);
  EXPECT_NE(line.find("claude-3-5-sonnet-20241\xE2\x80\xA6"), std::string::npos) << line;
  EXPECT_NE(line.find("a-very-long\xE2\x80\xA6[4242]"), std::string::npos) << line;
}

TEST_F(WatchViewTest, UnknownValuesShowAsDash) {
  auto call = testing::bare_call();
  call.stream = false;
  const std::string line = format_watch_line(call, kPlain);
  std::istringstream words(line);
  const std::vector<std::string> cells{std::istream_iterator<std::string>(words), {}};
  const std::vector<std::string> expected{"22:13:20.123", "?[7]", "openai", "-", "-",   "-",
                                          "0B",           "0B",   "2ms",    "-", "200", "allow"};
  EXPECT_EQ(cells, expected) << line;  // no comm, model, tokens or TTFB
}

TEST_F(WatchViewTest, TtfbAndMarkerOnlyForStreams) {
  auto call = full_call();
  call.stream = false;
  const std::string line = format_watch_line(call, kPlain);
  EXPECT_EQ(line.find("310ms"), std::string::npos) << line;
  EXPECT_EQ(line.find('~'), std::string::npos) << line;
}

TEST_F(WatchViewTest, ErrorsAndNoResponse) {
  auto call = full_call();
  call.status = 429;
  call.error_type = "rate_limit_error";
  EXPECT_NE(format_watch_line(call, kPlain).find(" 429 rate_limit_error "), std::string::npos);
  call.status = 0;
  call.error_type = "incomplete";
  call.latency_ns = 0;
  const std::string line = format_watch_line(call, kPlain);
  EXPECT_NE(line.find(" - incomplete "), std::string::npos) << line;
}

TEST_F(WatchViewTest, ColourMarksErrorsAndVerdicts) {
  auto call = full_call();
  EXPECT_EQ(format_watch_line(call, kColor).find(Ansi::kRed), std::string::npos);
  EXPECT_NE(format_watch_line(call, kColor, "block").find(std::string(Ansi::kRed) + "block"),
            std::string::npos);
  EXPECT_NE(format_watch_line(call, kColor, "alert").find(std::string(Ansi::kYellow) + "alert"),
            std::string::npos);
  call.status = 500;
  EXPECT_NE(format_watch_line(call, kColor).find(std::string(Ansi::kRed) + "500"),
            std::string::npos);
  EXPECT_EQ(format_watch_line(call, kPlain).find('\x1b'), std::string::npos);
  EXPECT_EQ(format_watch_header(kColor).rfind(Ansi::kBold, 0), 0u);
}

TEST_F(WatchViewTest, HostileTextCannotReachTheTerminal) {
  auto call = full_call();
  call.response_model =
      "gpt\x1b]0;owned\x07\xff\xc2\x9b"
      "2J";
  call.process.comm = "x\r\ny";
  const std::string line = format_watch_line(call, kPlain);
  EXPECT_EQ(line.find_first_of("\x1b\x07\r\n"), std::string::npos);
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos);  // C1 CSI
  EXPECT_NE(line.find("gpt?]0;owned???2J"), std::string::npos) << line;
  EXPECT_NE(line.find("x??y[4242]"), std::string::npos) << line;
}

TEST(TerminalText, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0B");
  EXPECT_EQ(human_bytes(1023), "1023B");
  EXPECT_EQ(human_bytes(1024), "1.0K");
  EXPECT_EQ(human_bytes(1229), "1.2K");
  EXPECT_EQ(human_bytes(48213), "47K");
  EXPECT_EQ(human_bytes(3565158), "3.4M");
  EXPECT_EQ(human_bytes(5ULL << 30), "5.0G");
}

TEST(TerminalText, HumanDuration) {
  EXPECT_EQ(human_duration(0), "0ms");
  EXPECT_EQ(human_duration(850'000'000), "850ms");
  EXPECT_EQ(human_duration(1'234'000'000), "1.2s");
  EXPECT_EQ(human_duration(42'000'000'000), "42s");
  EXPECT_EQ(human_duration(720'000'000'000), "12m");
}

TEST(TerminalText, CellsHaveExactWidth) {
  std::string out;
  append_cell(out, "abc", 5, Align::kRight);
  EXPECT_EQ(out, "  abc");
  out.clear();
  append_cell(out, "h\xC3\xA9llo", 4, Align::kLeft);
  EXPECT_EQ(out, "h\xC3\xA9l\xE2\x80\xA6");
  EXPECT_EQ(display_width(out), 4u);
}

}  // namespace
}  // namespace llmtap::sink
