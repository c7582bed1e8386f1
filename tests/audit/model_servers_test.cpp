// Local model servers: listeners read from /proc/net/tcp{,6} text, and the model lists of
// Ollama, OpenAI-compatible servers and TGI, asked of a local HTTP server that answers like each.
#include "audit/model_servers.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "tiny_http_server.h"

namespace llmtap::audit {
namespace {

using namespace std::chrono_literals;

TEST(ModelServers, ListenersFromProcNetTcp) {
  const std::string v4 =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 34567 1 0000000000000000 100 0 0 10 0\n"
      "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        "
      "0 34568 1 0000000000000000 100 0 0 10 0\n"
      "   2: 0100007F:9C40 0100007F:2CAA 01 00000000:00000000 00:00000000 00000000     0        "
      "0 34569 1 0000000000000000 20 4 30 10 -1\n"
      "   3: garbage\n";
  const auto l = parse_proc_net_tcp(v4, false);
  ASSERT_EQ(l.size(), 2u) << "LISTEN only; garbage skipped";
  EXPECT_EQ(l[0].address, "127.0.0.1");
  EXPECT_EQ(l[0].port, 11434);
  EXPECT_EQ(l[0].inode, 34567u);
  EXPECT_EQ(l[1].address, "0.0.0.0");
  EXPECT_EQ(l[1].port, 8080);
  const std::string v6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:04D2 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n";
  const auto l6 = parse_proc_net_tcp(v6, true);
  ASSERT_EQ(l6.size(), 1u);
  EXPECT_EQ(l6[0].address, "::1");
  EXPECT_EQ(l6[0].port, 1234);
  // This host's own listeners parse (whatever they are).
  EXPECT_NO_THROW(tcp_listeners());
}

TEST(ModelServers, ModelListReaders) {
  EXPECT_EQ(ollama_models(R"({"models":[{"name":"llama3.1:8b","size":1},{"name":"qwen2.5:7b"}]})"),
            (std::vector<std::string>{"llama3.1:8b", "qwen2.5:7b"}));
  EXPECT_EQ(openai_models(R"({"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B"}]})"),
            (std::vector<std::string>{"meta-llama/Llama-3.1-8B"}));
  EXPECT_EQ(tgi_models(R"({"model_id":"mistralai/Mistral-7B","max_total_tokens":4096})"),
            (std::vector<std::string>{"mistralai/Mistral-7B"}));
  EXPECT_FALSE(ollama_models("<html>"));
  EXPECT_FALSE(openai_models(R"({"data":{}})"));
  EXPECT_FALSE(tgi_models("[]"));
}

using testing::TinyHttpServer;

TEST(ModelServers, ProbesAnswerLikeEachServer) {
  TinyHttpServer ollama([](const std::string& path) -> std::pair<int, std::string> {
    if (path == "/api/tags") return {200, R"({"models":[{"name":"llama3.2:1b"}]})"};
    return {404, "{}"};
  });
  const auto o = probe_model_server(ollama.port(), 1000ms);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, "ollama");
  EXPECT_EQ(o->models, std::vector<std::string>{"llama3.2:1b"});

  TinyHttpServer vllm([](const std::string& path) -> std::pair<int, std::string> {
    if (path == "/v1/models")
      return {200, R"({"object":"list","data":[{"id":"Qwen/Qwen2.5-7B"}]})"};
    return {404, "{}"};
  });
  const auto v = probe_model_server(vllm.port(), 1000ms);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, "openai-compatible");
  EXPECT_EQ(v->models, std::vector<std::string>{"Qwen/Qwen2.5-7B"});

  TinyHttpServer web([](const std::string&) -> std::pair<int, std::string> {
    return {200, "<html>not a model server</html>"};
  });
  EXPECT_FALSE(probe_model_server(web.port(), 1000ms));
}

}  // namespace
}  // namespace llmtap::audit
