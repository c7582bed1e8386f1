#include "enrich/container_cgroup_path.h"

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::enrich {
namespace {

constexpr std::array kRuntimes = {ContainerRuntime::kUnknown, ContainerRuntime::kContainerd,
                                  ContainerRuntime::kCrio, ContainerRuntime::kDocker,
                                  ContainerRuntime::kPodman};

constexpr std::string_view kDockerId =
    "3f4e8b2a9c1d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

std::string field(std::string_view text) { return text == "-" ? std::string() : std::string(text); }

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return fields;
    start = tab + 1;
  }
}

std::optional<ContainerRuntime> runtime_named(std::string_view name) {
  if (name == "-") return ContainerRuntime::kUnknown;
  for (ContainerRuntime runtime : kRuntimes) {
    if (runtime != ContainerRuntime::kUnknown && to_string(runtime) == name) return runtime;
  }
  return std::nullopt;
}

std::string describe(const std::optional<CgroupContainer>& found) {
  if (!found) return "no container";
  std::ostringstream out;
  out << "id=" << found->id << " runtime=" << to_string(found->runtime)
      << " pod_uid=" << found->pod_uid << " qos=" << found->qos;
  return out.str();
}

// A corpus line's expectation, or why the line is malformed.
struct CorpusCase {
  std::string_view path;
  std::optional<CgroupContainer> expected;
  std::string error;
};

CorpusCase read_case(std::string_view line) {
  const std::vector<std::string_view> fields = split_tabs(line);
  if (fields.size() != 5) return {{}, {}, "want 5 tab-separated fields"};
  CorpusCase out{fields[0], std::nullopt, {}};
  if (fields[1] == "-") {
    if (fields[2] != "-" || fields[3] != "-" || fields[4] != "-") {
      out.error = "no container, yet other columns are set";
    }
    return out;
  }
  const std::optional<ContainerRuntime> runtime = runtime_named(fields[2]);
  if (!runtime) {
    out.error = "unknown runtime " + std::string(fields[2]);
    return out;
  }
  out.expected = CgroupContainer{field(fields[1]), *runtime, field(fields[3]), field(fields[4])};
  return out;
}

TEST(ContainerCgroupPath, MatchesEveryCaseOfTheCorpus) {
  std::ifstream in(LLMTAP_CGROUP_PATH_CORPUS);
  ASSERT_TRUE(in) << "cannot read " << LLMTAP_CGROUP_PATH_CORPUS;
  std::string line;
  int line_number = 0;
  int cases = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    ++cases;
    const CorpusCase c = read_case(line);
    if (!c.error.empty()) {
      ADD_FAILURE() << "line " << line_number << ": " << c.error;
      continue;
    }
    const std::optional<CgroupContainer> found = parse_container_cgroup_path(c.path);
    EXPECT_TRUE(found == c.expected)
        << "line " << line_number << ": " << c.path.substr(0, 300) << "\n  want "
        << describe(c.expected) << "\n  got  " << describe(found);
  }
  EXPECT_GE(cases, 40) << "the corpus has too few cases";
}

TEST(ContainerCgroupPath, NamesEachRuntime) {
  EXPECT_EQ(to_string(ContainerRuntime::kUnknown), "");
  EXPECT_EQ(to_string(ContainerRuntime::kContainerd), "containerd");
  EXPECT_EQ(to_string(ContainerRuntime::kCrio), "cri-o");
  EXPECT_EQ(to_string(ContainerRuntime::kDocker), "docker");
  EXPECT_EQ(to_string(ContainerRuntime::kPodman), "podman");
  EXPECT_EQ(to_string(static_cast<ContainerRuntime>(200)), "");
}

TEST(ContainerCgroupPath, AcceptsExactly64HexCharacters) {
  const std::string id(kDockerId);
  ASSERT_TRUE(parse_container_cgroup_path("/docker/" + id));
  EXPECT_FALSE(parse_container_cgroup_path("/docker/" + id.substr(0, 63)));
  EXPECT_FALSE(parse_container_cgroup_path("/docker/" + id + "0"));
  EXPECT_FALSE(parse_container_cgroup_path("/system.slice/docker-" + id.substr(1) + ".scope"));
  EXPECT_FALSE(parse_container_cgroup_path("/system.slice/docker-" + id + "f.scope"));
}

TEST(ContainerCgroupPath, RefusesNulBytesAnywhere) {
  const std::string path = "/system.slice/docker-" + std::string(kDockerId) + ".scope";
  ASSERT_TRUE(parse_container_cgroup_path(path));
  for (size_t at : {size_t{0}, size_t{14}, size_t{40}, path.size()}) {
    std::string with_nul = path;
    with_nul.insert(at, 1, '\0');
    EXPECT_FALSE(parse_container_cgroup_path(with_nul)) << "NUL at " << at;
  }
  // A C string's terminator left in the view is not part of the path either.
  EXPECT_FALSE(parse_container_cgroup_path(std::string_view(path.c_str(), path.size() + 1)));
}

TEST(ContainerCgroupPath, RefusesPathsLongerThanPathMax) {
  const std::string tail = "/docker/" + std::string(kDockerId);
  const std::string at_limit = std::string(4096 - tail.size(), '/') + tail;
  ASSERT_EQ(at_limit.size(), 4096U);
  EXPECT_TRUE(parse_container_cgroup_path(at_limit));
  EXPECT_FALSE(parse_container_cgroup_path("/" + at_limit));
}

TEST(ContainerCgroupPath, RefusesLineEndingsLeftOnThePath) {
  const std::string path = "/docker/" + std::string(kDockerId);
  EXPECT_FALSE(parse_container_cgroup_path(path + "\n"));
  EXPECT_FALSE(parse_container_cgroup_path(path + "\r"));
}

TEST(ContainerCgroupPath, ReturnsAnEmptyPodOutsideKubernetes) {
  const auto found = parse_container_cgroup_path("/docker/" + std::string(kDockerId));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, kDockerId);
  EXPECT_EQ(found->runtime, ContainerRuntime::kDocker);
  EXPECT_TRUE(found->pod_uid.empty());
  EXPECT_TRUE(found->qos.empty());
}

}  // namespace
}  // namespace llmtap::enrich
