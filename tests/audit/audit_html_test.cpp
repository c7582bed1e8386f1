// The audit's HTML page: escaping of host strings, the summary numbers and chart elements for a
// realistic report (tests/data/audit/report.json), an empty report, malformed reports, no
// external resources; then the page in headless Chromium: a screenshot with the charts'
// colours in it, the DOM after load, and no console messages.
#include "audit/audit_html.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>

#include "audit/audit_text.h"
#include "headless_chromium.h"

namespace llmtap::audit {
namespace {

using nlohmann::json;

json load(const std::string& name) {
  std::ifstream in(std::string(LLMTAP_AUDIT_DATA) + "/" + name);
  EXPECT_TRUE(in) << name;
  return json::parse(in);
}

size_t occurrences(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The text directly inside the element with id `id` (up to its first child tag).
std::string text_of_id(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "<no element " + id + ">";
  const size_t open = html.find('>', at);
  const size_t close = html.find('<', open);
  return html.substr(open + 1, close - open - 1);
}

// The attribute `name` of the element with id `id`.
std::string attribute_of_id(const std::string& html, const std::string& id,
                            const std::string& name) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "<no element " + id + ">";
  const size_t end = html.find('>', at);
  const size_t attr = html.find(" " + name + "=\"", at);
  if (attr == std::string::npos || attr > end) return "<no " + name + ">";
  const size_t value = attr + name.size() + 3;
  return html.substr(value, html.find('"', value) - value);
}

// The <svg> element with id `id`, whole.
std::string svg_of(const std::string& html, const std::string& id) {
  const size_t at = html.find("<svg id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</svg>", at) + 6 - at);
}

// The data-value of every bar in `svg`.
std::vector<double> bar_values(const std::string& svg) {
  static const std::regex kBar(R"re(<rect class="bar [^"]*"[^>]*data-value="([^"]*)")re");
  std::vector<double> values;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kBar); it != std::sregex_iterator();
       ++it) {
    values.push_back(std::stod((*it)[1].str()));
  }
  return values;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// Checks a page for everything the fixture report shows; `html` is the page as rendered or
// the browser's DOM after load.
void expect_fixture_page(const std::string& html) {
  EXPECT_EQ(text_of_id(html, "summary-calls"), "34");
  EXPECT_EQ(attribute_of_id(html, "summary-calls", "data-value"), "34");
  EXPECT_EQ(text_of_id(html, "summary-unsanctioned-calls"), "7");
  EXPECT_EQ(text_of_id(html, "summary-input-tokens"), "43,900");
  EXPECT_EQ(text_of_id(html, "summary-output-tokens"), "9,770");
  EXPECT_EQ(text_of_id(html, "summary-cost"), dollars(0.17959));
  EXPECT_EQ(attribute_of_id(html, "summary-cost", "data-value"), "0.17959");
  EXPECT_EQ(text_of_id(html, "summary-processes-calling"), "3");
  EXPECT_EQ(text_of_id(html, "summary-findings"), "8");
  EXPECT_EQ(attribute_of_id(html, "summary-findings-high", "data-value"), "7");
  EXPECT_EQ(attribute_of_id(html, "summary-findings-medium", "data-value"), "1");
  EXPECT_EQ(text_of_id(html, "summary-tls-visible"), "3");
  EXPECT_EQ(text_of_id(html, "summary-tls-not-visible"), "2");
  EXPECT_EQ(text_of_id(html, "summary-api-keys"), "2");
  EXPECT_EQ(text_of_id(html, "summary-model-servers"), "1");
  EXPECT_EQ(text_of_id(html, "summary-model-files"), "2");

  // Calls: 3 series over 12 buckets, 25 of the 36 (series, bucket) values not zero.
  const std::string calls = svg_of(html, "chart-calls");
  ASSERT_FALSE(calls.empty());
  EXPECT_NE(calls.find("class=\"chart stacked\""), std::string::npos);
  const auto call_bars = bar_values(calls);
  EXPECT_EQ(call_bars.size(), 25u);
  EXPECT_EQ(sum(call_bars), 34);
  EXPECT_GE(occurrences(calls, "<title>"), call_bars.size() + 1);
  const auto token_bars = bar_values(svg_of(html, "chart-tokens"));
  EXPECT_EQ(token_bars.size(), 25u);
  EXPECT_EQ(sum(token_bars), 43900 + 9770);
  const std::string findings = svg_of(html, "chart-findings");
  EXPECT_EQ(bar_values(findings), (std::vector<double>{7, 1}));
  EXPECT_NE(findings.find("class=\"bar sev-high\""), std::string::npos);
  EXPECT_NE(findings.find("class=\"bar sev-medium\""), std::string::npos);
  EXPECT_NE(html.find("openai · gpt-4o-mini <span class=\"muted\">18 calls</span>"),
            std::string::npos)
      << "the legend names each series with its total";
}

// ---- the page as rendered ----

TEST(AuditHtml, EscapesEveryHostString) {
  EXPECT_EQ(html_escape("a<b>&\"'c"), "a&lt;b&gt;&amp;&quot;&#39;c");
  EXPECT_EQ(html_escape("tab\tok\x01\x7f"), "tab\tok\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(html_escape("caf\xC3\xA9 \xFF\xC3"), "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD");

  const std::string html = render_audit_html(load("report.json"));
  EXPECT_EQ(html.find("<script"), std::string::npos) << "no script, hostile or ours";
  EXPECT_EQ(html.find("alert(1)</"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("/opt/agent &quot;beta&quot; &amp; co/bin/agent"), std::string::npos);
  EXPECT_NE(html.find("/srv/ml/&quot;exp&quot; &amp; co/model.safetensors"), std::string::npos);
  EXPECT_EQ(html.find("\"beta\""), std::string::npos);
  EXPECT_EQ(html.find("\"exp\""), std::string::npos);

  // A model name that tries to leave its attribute (data-series) and its element (<title>).
  json report = load("report.json");
  const std::string hostile = "x\" onmouseover=\"alert(2)\"></rect><img src=x onerror=alert(3)>";
  report["timeline"]["series"][0]["model"] = hostile;
  report["calls"][0]["model"] = hostile;
  report["findings"][0]["model"] = hostile;
  report["host"]["name"] = "</title><script>alert(4)</script>";
  report["window"]["started"] = "2026-11-30T<b>x</b>:00:00Z";
  const std::string page = render_audit_html(report);
  EXPECT_EQ(page.find("onmouseover=\""), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_NE(page.find("data-series=\"anthropic · x&quot; onmouseover=&quot;alert(2)&quot;&gt;"),
            std::string::npos);
}

TEST(AuditHtml, SummaryChartsAndTablesOfAFullReport) {
  const json report = load("report.json");
  const auto start = std::chrono::steady_clock::now();
  constexpr int kRounds = 50;
  std::string html;
  for (int i = 0; i < kRounds; ++i) html = render_audit_html(report);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      kRounds;
  std::cout << "[ measure  ] fixture page: " << html.size() << " bytes, rendered in " << ms
            << " ms\n";
  RecordProperty("html_bytes", static_cast<int>(html.size()));

  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  expect_fixture_page(html);

  // The header: host, window, policy, the verdict.
  EXPECT_EQ(text_of_id(html, "host"), "node-7");
  EXPECT_EQ(text_of_id(html, "window"), "2026-11-30 14:00:00 – 14:01:00 UTC ");
  EXPECT_NE(html.find("(60 s)"), std::string::npos);
  EXPECT_NE(html.find("/etc/llmtap/policy.yaml"), std::string::npos);
  EXPECT_NE(html.find("(7 rules)"), std::string::npos);
  EXPECT_EQ(attribute_of_id(html, "verdict", "class"), "verdict fail");
  EXPECT_EQ(attribute_of_id(html, "verdict", "data-exit-code"), "1");
  EXPECT_NE(html.find("7 findings at or above high"), std::string::npos);

  // Calls: four groups, the two gpt-4o ones unsanctioned; the pod shown.
  const size_t calls_at = html.find("id=\"table-calls\"");
  ASSERT_NE(calls_at, std::string::npos);
  const std::string calls = html.substr(calls_at, html.find("</table>", calls_at) - calls_at);
  EXPECT_EQ(occurrences(calls, "<tr"), 1u + 4u + 1u) << "header, four groups, totals";
  EXPECT_EQ(occurrences(calls, "<tr class=\"unsanctioned\">"), 2u);
  EXPECT_EQ(occurrences(calls, ">unsanctioned</span>"), 2u);
  EXPECT_EQ(occurrences(calls, ">sanctioned</span>"), 2u);
  EXPECT_NE(calls.find("shop/checkout-6d9f7c8b5-x2lkq"), std::string::npos);
  EXPECT_NE(calls.find("registry.example/shop/checkout:1.2.0"), std::string::npos);
  EXPECT_NE(calls.find("<span class=\"muted\">host</span>"), std::string::npos);
  EXPECT_NE(calls.find("14,200"), std::string::npos);

  // Findings and the inventory.
  EXPECT_NE(html.find("id=\"table-findings\""), std::string::npos);
  EXPECT_NE(html.find("14:00:11 – 14:00:52"), std::string::npos);
  EXPECT_NE(html.find("personal-data-in-prompts"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"badge warn\">not visible</span>"), std::string::npos);
  EXPECT_EQ(occurrences(html, "<tr class=\"not-visible\">"), 2u) << "ollama and terraform (Go)";
  EXPECT_NE(html.find("OPENAI_API_KEY"), std::string::npos);
  EXPECT_NE(html.find("3f2a9c0b1d7e"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"chip mono\">qwen2.5-coder:7b</span>"), std::string::npos);
  EXPECT_NE(html.find(">638 MiB<"), std::string::npos);
  EXPECT_NE(html.find(">2.0 GiB<"), std::string::npos);
  EXPECT_NE(html.find("183,201 entries examined"), std::string::npos);
}

TEST(AuditHtml, LoadsNothingFromAnywhere) {
  for (const char* name : {"report.json", "empty-report.json"}) {
    const std::string html = render_audit_html(load(name));
    for (const char* banned : {"http://", "https://", "src=", "href=", "@import", "url(", "<link",
                               "<script", "<iframe", "<object", "<embed", "<img", "@font-face"}) {
      EXPECT_EQ(html.find(banned), std::string::npos) << name << ": " << banned;
    }
    EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                        "'none'; style-src 'unsafe-inline';"),
              std::string::npos)
        << "the browser refuses any load, whatever the report holds";
  }
}

TEST(AuditHtml, AnAuditThatSawNothing) {
  const std::string html = render_audit_html(load("empty-report.json"));
  EXPECT_EQ(text_of_id(html, "host"), "quiet-host");
  EXPECT_EQ(text_of_id(html, "summary-calls"), "0");
  EXPECT_EQ(text_of_id(html, "summary-findings"), "0");
  EXPECT_EQ(text_of_id(html, "summary-model-files"), "0");
  EXPECT_EQ(attribute_of_id(html, "verdict", "class"), "verdict ok");
  EXPECT_NE(html.find("Clean: no findings at or above high"), std::string::npos);
  EXPECT_EQ(text_of_id(html, "chart-calls-empty"), "No calls in the window.");
  EXPECT_EQ(text_of_id(html, "chart-tokens-empty"), "No calls in the window.");
  EXPECT_EQ(text_of_id(html, "chart-findings-empty"), "No findings in the window.");
  EXPECT_EQ(text_of_id(html, "table-calls-empty"), "No calls in the window.");
  EXPECT_EQ(html.find("<svg"), std::string::npos) << "no empty charts";
  EXPECT_EQ(html.find("class=\"bar"), std::string::npos);
  EXPECT_NE(html.find("No process holds a provider API key."), std::string::npos);
  EXPECT_NE(html.find("no Kubernetes cluster found"), std::string::npos);
}

TEST(AuditHtml, MalformedReportsStillRender) {
  json wrong_types = load("report.json");
  wrong_types["summary"] = "nothing";
  wrong_types["calls"] = json::object();
  wrong_types["findings"][0]["count"] = -3;
  wrong_types["findings"][1] = 42;
  wrong_types["inventory"]["model_files"]["files"][0]["size"] = "big";
  wrong_types["timeline"]["buckets"] = 1e15;
  wrong_types["timeline"]["series"][0]["calls"] = {"a", nullptr, -1, 1e308};
  wrong_types["timeline"]["series"][1]["tokens"] = {1e308, 1e308};
  wrong_types["timeline"]["bucket_seconds"] = 1e300;
  wrong_types["window"]["duration_seconds"] = 1e300;
  wrong_types["status"]["exit_code"] = 2;
  wrong_types["status"]["error"] = "not running as root";
  for (const json& report : {json(), json::object(), json::array(), json("text"), wrong_types}) {
    std::string html;
    ASSERT_NO_THROW(html = render_audit_html(report)) << report.dump().substr(0, 80);
    EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
    EXPECT_TRUE(html.ends_with("</html>\n"));
    EXPECT_FALSE(std::regex_search(html, std::regex("=\"-?(nan|inf)", std::regex::icase)))
        << "an SVG attribute the browser would reject";
  }
  const std::string html = render_audit_html(wrong_types);
  EXPECT_NE(html.find("<svg id=\"chart-calls\""), std::string::npos) << "drawn from what is sane";
  EXPECT_EQ(attribute_of_id(html, "verdict", "class"), "verdict error");
  EXPECT_EQ(text_of_id(html, "status-error"), "not running as root");
  EXPECT_EQ(text_of_id(html, "summary-calls"), "—");

  // More series than colours: the smallest become one "others" series.
  json many = load("report.json");
  for (int i = 0; i < 9; ++i) {
    many["timeline"]["series"].push_back({{"provider", "groq"},
                                          {"model", "m" + std::to_string(i)},
                                          {"calls", {0, 1}},
                                          {"tokens", {0, 5}}});
  }
  const std::string page = render_audit_html(many);
  EXPECT_NE(page.find("5 others <span class=\"muted\">5 calls</span>"), std::string::npos);
  EXPECT_NE(page.find("class=\"bar s-other\""), std::string::npos);
  EXPECT_NE(page.find("class=\"bar s6\""), std::string::npos);
}

// ---- the page in a real browser ----

bool browser_required() {
  const char* v = std::getenv("LLMTAP_REQUIRE_BPF");  // CI installs chromium and sets this
  return v != nullptr && std::strcmp(v, "1") == 0;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/llmtap-audit-html-XXXXXX";
    if (mkdtemp(pattern) != nullptr) path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

struct Rgba {
  uint8_t r, g, b;
};

// The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes); empty with
// `why` otherwise.
std::vector<Rgba> png_pixels(const std::string& png, uint32_t& width, uint32_t& height,
                             std::string& why) {
  const auto be32 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(png[at])) << 24 |
           static_cast<uint32_t>(static_cast<uint8_t>(png[at + 1])) << 16 |
           static_cast<uint32_t>(static_cast<uint8_t>(png[at + 2])) << 8 |
           static_cast<uint8_t>(png[at + 3]);
  };
  if (png.size() < 33 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    why = "no PNG signature";
    return {};
  }
  width = be32(16);
  height = be32(20);
  const int depth = static_cast<uint8_t>(png[24]);
  const int colour = static_cast<uint8_t>(png[25]);
  const int interlace = static_cast<uint8_t>(png[28]);
  const size_t channels = colour == 6 ? 4 : colour == 2 ? 3 : 0;
  if (depth != 8 || channels == 0 || interlace != 0 || width == 0 || height == 0 || width > 10000 ||
      height > 10000) {
    why = "unexpected PNG format";
    return {};
  }
  std::string idat;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t length = be32(at);
    if (at + 12 + length > png.size()) break;
    if (png.compare(at + 4, 4, "IDAT") == 0) idat.append(png, at + 8, length);
    at += 12 + length;
  }
  const size_t stride = width * channels;
  std::vector<uint8_t> raw(height * (stride + 1));
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size()) {
    why = "IDAT does not inflate";
    return {};
  }
  std::vector<uint8_t> image(height * stride);
  for (size_t y = 0; y < height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* row = &image[y * stride];
    const uint8_t* up = y > 0 ? &image[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= channels ? row[x - channels] : 0;
      const int b = up ? up[x] : 0;
      const int c = up && x >= channels ? up[x - channels] : 0;
      int predicted = 0;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = a;
          break;
        case 2:
          predicted = b;
          break;
        case 3:
          predicted = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          why = "bad PNG filter";
          return {};
      }
      row[x] = static_cast<uint8_t>(in[x] + predicted);
    }
  }
  std::vector<Rgba> pixels(static_cast<size_t>(width) * height);
  for (size_t i = 0; i < pixels.size(); ++i) {
    pixels[i] = {image[i * channels], image[i * channels + 1], image[i * channels + 2]};
  }
  return pixels;
}

size_t pixels_near(const std::vector<Rgba>& pixels, uint32_t rgb) {
  const int r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
  size_t n = 0;
  for (const Rgba& p : pixels) {
    n += std::abs(p.r - r) <= 3 && std::abs(p.g - g) <= 3 && std::abs(p.b - b) <= 3;
  }
  return n;
}

class AuditHtmlBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = test::find_chromium();
    if (chromium_.empty()) {
      if (browser_required()) {
        FAIL() << "chromium is not installed (Debian package chromium) and "
                  "LLMTAP_REQUIRE_BPF=1 requires every check to run";
      }
      GTEST_SKIP() << "chromium is not installed (Debian package chromium): browser checks "
                      "skipped";
    }
    ASSERT_FALSE(dir_.path.empty()) << "mkdtemp failed";
  }

  std::string write_page(const std::string& name, const std::string& html) {
    const auto path = dir_.path / name;
    std::ofstream(path, std::ios::binary) << html;
    return "file://" + path.string();
  }

  test::ChromiumRun open(const std::string& url, const std::vector<std::string>& args) {
    test::ChromiumRun run =
        test::run_headless_chromium(chromium_, url, args, dir_.path, std::chrono::seconds(60));
    std::cout << "[ measure  ] chromium " << args.front() << ": " << run.seconds << " s\n";
    EXPECT_TRUE(run.started) << run.error;
    EXPECT_FALSE(run.timed_out) << "chromium ran past 60 s; its log:\n" << run.log;
    EXPECT_EQ(run.exit_status, 0) << run.error << "\n" << run.log;
    EXPECT_EQ(run.leftovers, std::vector<std::string>{})
        << "chromium processes outlived the browser (killed)";
    return run;
  }

  std::string chromium_;
  TempDir dir_;
};

TEST_F(AuditHtmlBrowser, ShowsTheChartsWithoutConsoleMessages) {
  const std::string url = write_page("report.html", render_audit_html(load("report.json")));
  const auto shot = dir_.path / "report.png";
  const auto screenshot = open(url, {"--screenshot=" + shot.string(), "--window-size=1280,2000",
                                     "--run-all-compositor-stages-before-draw"});
  EXPECT_EQ(test::console_messages(screenshot.log), std::vector<std::string>{})
      << "the page wrote to the console";

  // The screenshot: a PNG of the window, with the charts' own colours in it.
  std::ifstream in(shot, std::ios::binary);
  ASSERT_TRUE(in) << "no screenshot; chromium's log:\n" << screenshot.log;
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(png.size(), 50u * 1024) << "a screenshot this small is close to blank";
  uint32_t width = 0, height = 0;
  std::string why;
  const auto pixels = png_pixels(png, width, height, why);
  ASSERT_FALSE(pixels.empty()) << why;
  EXPECT_EQ(width, 1280u);
  EXPECT_EQ(height, 2000u);
  std::map<uint32_t, size_t> colours;
  for (const Rgba& p : pixels) ++colours[uint32_t{p.r} << 16 | uint32_t{p.g} << 8 | p.b];
  size_t most = 0;
  for (const auto& [rgb, n] : colours) most = std::max(most, n);
  EXPECT_GT(colours.size(), 100u) << "text and charts make many colours";
  EXPECT_LT(most, pixels.size() * 9 / 10) << "one colour covers nearly the whole page";
  // The three series (s0..s2, most calls first) and the two severities of the fixture.
  for (const uint32_t rgb : {0x4e79a7u, 0xf28e2bu, 0x59a14fu, 0xcf222eu, 0xd4760au}) {
    EXPECT_GT(pixels_near(pixels, rgb), 400u) << std::hex << "#" << rgb << " barely painted";
  }
  // For a person to look at: LLMTAP_AUDIT_SCREENSHOT=/tmp/audit-report.png keeps the
  // screenshot there and the page beside it (.html).
  if (const char* keep = std::getenv("LLMTAP_AUDIT_SCREENSHOT"); keep != nullptr && *keep) {
    std::filesystem::copy_file(shot, keep, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(dir_.path / "report.html",
                               std::filesystem::path(keep).replace_extension(".html"),
                               std::filesystem::copy_options::overwrite_existing);
  }

  // The DOM after load: the charts, their bars and the summary numbers.
  const auto dom = open(url, {"--dump-dom"});
  EXPECT_EQ(test::console_messages(dom.log), std::vector<std::string>{});
  ASSERT_NE(dom.out.find("<svg id=\"chart-calls\""), std::string::npos) << dom.out.substr(0, 400);
  EXPECT_GE(occurrences(dom.out, "<rect class=\"bar "), 52u);
  expect_fixture_page(dom.out);
}

TEST_F(AuditHtmlBrowser, EmptyReportWithoutConsoleMessages) {
  const std::string url = write_page("empty.html", render_audit_html(load("empty-report.json")));
  const auto dom = open(url, {"--dump-dom"});
  EXPECT_EQ(test::console_messages(dom.log), std::vector<std::string>{});
  EXPECT_NE(dom.out.find("id=\"chart-calls-empty\""), std::string::npos);
  EXPECT_EQ(text_of_id(dom.out, "summary-calls"), "0");
}

// The console check itself: it sees a page's errors and exceptions; and on the report's page,
// the policy refuses (and reports) a load from elsewhere and an inline script.
TEST_F(AuditHtmlBrowser, ConsoleCheckSeesPageErrors) {
  const auto plain = open(write_page("plain.html",
                                     "<!DOCTYPE html><title>t</title><p>x</p><script>"
                                     "console.error('llmtap-console-probe');missing()</script>"),
                          {"--dump-dom"});
  const auto messages = test::console_messages(plain.log);
  const auto said = [&messages](std::string_view text) {
    return std::any_of(messages.begin(), messages.end(),
                       [text](const std::string& m) { return m.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(said("llmtap-console-probe")) << plain.log;
  EXPECT_TRUE(said("Uncaught ReferenceError")) << plain.log;

  std::string html = render_audit_html(load("empty-report.json"));
  html.insert(html.find("</body>"),
              "<img src=\"https://example.invalid/pixel.png\">"
              "<script>console.error('llmtap-console-probe')</script>");
  const auto refused = open(write_page("refused.html", html), {"--dump-dom"});
  const auto refusals = test::console_messages(refused.log);
  ASSERT_EQ(refusals.size(), 2u) << refused.log;
  EXPECT_NE(refusals[0].find("example.invalid"), std::string::npos) << refusals[0];
  EXPECT_NE(refusals[1].find("inline script"), std::string::npos) << refusals[1];

  for (const std::string& line : {std::string("[1:2:1130/134405.61:ERROR:dbus/bus.cc:405] x"),
                                  std::string("[3:3:1130/134406.25:WARNING:vaapi_wrapper.cc] y")}) {
    EXPECT_TRUE(test::console_messages(line).empty()) << "chromium's own noise: " << line;
  }
}

}  // namespace
}  // namespace llmtap::audit
