// llmtap-test-server: runs TlsTestServer until SIGTERM/SIGINT.
//
//   llmtap-test-server --cert F --key F [--port P] [--bind ADDR] [--make-cert]
//                      [--record-dir DIR] [--replay-corpus DIR]
//
// First stdout line is "listening on ADDR:PORT" (actual port).
// With --replay-corpus, requests are answered with the corpus case named by x-llmtap-case. With --record-dir, on exit it
// writes DIR/connection-<i>.received / .sent (exact plaintext) and DIR/connections.json.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "corpus_replay.h"
#include "tls_test_server.h"

namespace {

using llmtap::testing::ServerConnectionRecord;
using llmtap::testing::TlsTestServer;
using llmtap::testing::TlsTestServerOptions;

constexpr std::string_view kUsage =
    "usage: llmtap-test-server --cert FILE --key FILE [--port PORT] [--bind ADDR]\n"
    "                          [--make-cert] [--record-dir DIR] [--replay-corpus DIR]\n";

struct Arguments {
  TlsTestServerOptions server;
  bool make_cert = false;
  std::optional<std::string> record_dir;
  std::optional<std::string> replay_corpus;  // answer with corpus cases (x-llmtap-case)
};

uint16_t parse_port(const std::string& text) {
  size_t end = 0;
  const unsigned long port = std::stoul(text, &end);
  if (end != text.size() || port > 65535) throw std::invalid_argument("bad port: " + text);
  return static_cast<uint16_t>(port);
}

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--port") {
      args.server.port = parse_port(value());
    } else if (flag == "--bind") {
      args.server.bind_address = value();
    } else if (flag == "--cert") {
      args.server.cert_file = value();
    } else if (flag == "--key") {
      args.server.key_file = value();
    } else if (flag == "--make-cert") {
      args.make_cert = true;
    } else if (flag == "--replay-corpus") {
      args.replay_corpus = value();
    } else if (flag == "--record-dir") {
      args.record_dir = value();
    } else {
      throw std::invalid_argument("unknown argument: " + std::string(flag));
    }
  }
  if (args.server.cert_file.empty() || args.server.key_file.empty()) {
    throw std::invalid_argument("--cert and --key are required");
  }
  return args;
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

// Peer addresses are numeric, so they need no JSON escaping.
void write_records(const std::string& dir, const std::vector<ServerConnectionRecord>& records) {
  std::string index = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    const ServerConnectionRecord& r = records[i];
    const std::string stem = dir + "/connection-" + std::to_string(i);
    write_file(stem + ".received", r.received);
    write_file(stem + ".sent", r.sent);
    index += (i == 0 ? "\n" : ",\n");
    index += R"(  {"index":)" + std::to_string(i) + R"(,"peer_address":")" + r.peer_address +
             R"(","peer_port":)" + std::to_string(r.peer_port) + R"(,"received_bytes":)" +
             std::to_string(r.received.size()) + R"(,"sent_bytes":)" +
             std::to_string(r.sent.size()) + R"(,"closed":)" + (r.closed ? "true" : "false") + "}";
  }
  index += "\n]\n";
  write_file(dir + "/connections.json", index);
}

// Blocks SIGTERM/SIGINT before any thread exists (threads inherit the mask), so the signals
// are only ever consumed by the sigwait() below.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run(const Arguments& args) {
  const sigset_t signals = block_termination_signals();
  if (args.make_cert) {
    llmtap::testing::write_self_signed_certificate(args.server.cert_file, args.server.key_file);
  }
  std::vector<ServerConnectionRecord> records;
  std::unique_ptr<llmtap::testing::CorpusReplay> replay;
  TlsTestServerOptions options = args.server;
  if (args.replay_corpus) {
    replay = std::make_unique<llmtap::testing::CorpusReplay>(*args.replay_corpus);
    options.responder = [&replay](const llmtap::testing::HttpRequest& request) {
      return replay->respond(request);
    };
  }
  {
    TlsTestServer server(options);
    std::cout << "listening on " << args.server.bind_address << ":" << server.port() << std::endl;
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    // Clients usually exit just before the signal; give their EOFs a moment to land so the
    // dumped records are final.
    server.wait_for_closed_connections(server.connections().size(), std::chrono::seconds(1));
    records = server.connections();
  }  // joins all server threads
  if (args.record_dir) write_records(*args.record_dir, records);
  std::cerr << "llmtap-test-server: stopped after " << records.size() << " connection(s)\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  try {
    args = parse_arguments(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "llmtap-test-server: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "llmtap-test-server: " << e.what() << "\n";
    return EXIT_FAILURE;
  }
}
