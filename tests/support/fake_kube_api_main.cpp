// llmtap-fake-kube-api: runs FakeKubeApiServer until SIGTERM/SIGINT, driven from stdin.
//
//   llmtap-fake-kube-api --cert F --key F --token T [--port P] [--bind ADDR] [--make-cert]
//                        [--pods FILE] [--bookmark-interval-ms N]
//
// First stdout line is "listening on ADDR:PORT" (actual port). --pods loads a JSON array of
// pods. Each stdin line is one command:
//   add POD_JSON | update POD_JSON | delete NAMESPACE NAME | compact | close-watches | token T
// where POD_JSON is one line: {"namespace":"default","name":"web","node":"node-a",
//   "podIP":"10.0.0.5","uid":"...","serviceAccount":"default","labels":{"app":"web"},
//   "containers":[{"name":"app","image":"nginx:1.25","containerID":"containerd://<64 hex>"}]}
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fake_kube_api_server.h"
#include "openssl_handles.h"
#include "self_signed_certificate.h"

namespace {

using llmtap::testing::FakeKubeApiOptions;
using llmtap::testing::FakeKubeApiServer;
using llmtap::testing::FakePod;
using llmtap::testing::FakePodContainer;
using nlohmann::json;

constexpr std::string_view kUsage =
    "usage: llmtap-fake-kube-api --cert FILE --key FILE --token TOKEN [--port PORT]\n"
    "                            [--bind ADDR] [--make-cert] [--pods FILE]\n"
    "                            [--bookmark-interval-ms N]\n"
    "stdin commands: add POD_JSON | update POD_JSON | delete NS NAME | compact |\n"
    "                close-watches | token TOKEN\n";

struct Arguments {
  FakeKubeApiOptions server;
  bool make_cert = false;
  std::string pods_file;
};

unsigned long parse_number(const std::string& text, unsigned long max) {
  size_t end = 0;
  const unsigned long value = std::stoul(text, &end);
  if (end != text.size() || value > max) throw std::invalid_argument("bad number: " + text);
  return value;
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
      args.server.port = static_cast<uint16_t>(parse_number(value(), 65535));
    } else if (flag == "--bind") {
      args.server.bind_address = value();
    } else if (flag == "--cert") {
      args.server.cert_file = value();
    } else if (flag == "--key") {
      args.server.key_file = value();
    } else if (flag == "--token") {
      args.server.token = value();
    } else if (flag == "--make-cert") {
      args.make_cert = true;
    } else if (flag == "--pods") {
      args.pods_file = value();
    } else if (flag == "--bookmark-interval-ms") {
      args.server.bookmark_interval = std::chrono::milliseconds(parse_number(value(), 3600000));
    } else {
      throw std::invalid_argument("unknown argument: " + std::string(flag));
    }
  }
  if (args.server.cert_file.empty() || args.server.key_file.empty()) {
    throw std::invalid_argument("--cert and --key are required");
  }
  if (args.server.token.empty()) throw std::invalid_argument("--token is required");
  return args;
}

FakePod pod_from_json(const json& j) {
  FakePod pod;
  pod.namespace_name = j.value("namespace", "default");
  pod.name = j.at("name").get<std::string>();
  pod.uid = j.value("uid", "");
  pod.node_name = j.value("node", "");
  pod.service_account = j.value("serviceAccount", "default");
  pod.pod_ip = j.value("podIP", "");
  pod.labels = j.value("labels", std::map<std::string, std::string>{});
  for (const json& c : j.value("containers", json::array())) {
    pod.containers.push_back(FakePodContainer{.name = c.at("name").get<std::string>(),
                                              .image = c.value("image", ""),
                                              .container_id = c.value("containerID", "")});
  }
  return pod;
}

void load_pods(FakeKubeApiServer& server, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  for (const json& pod : json::parse(in)) server.add_pod(pod_from_json(pod));
}

// Runs one stdin command; a bad one is reported and skipped.
void run_command(FakeKubeApiServer& server, const std::string& line) {
  std::istringstream words(line);
  std::string verb;
  words >> verb;
  std::string rest;
  std::getline(words >> std::ws, rest);
  try {
    if (verb == "add") {
      server.add_pod(pod_from_json(json::parse(rest)));
    } else if (verb == "update") {
      server.update_pod(pod_from_json(json::parse(rest)));
    } else if (verb == "delete") {
      std::istringstream names(rest);
      std::string ns;
      std::string name;
      if (!(names >> ns >> name)) throw std::invalid_argument("delete needs NAMESPACE NAME");
      server.delete_pod(ns, name);
    } else if (verb == "compact") {
      server.compact();
    } else if (verb == "close-watches") {
      server.close_watches();
    } else if (verb == "token") {
      server.set_token(rest);
    } else if (!verb.empty()) {
      throw std::invalid_argument("unknown command '" + verb + "'");
    }
    if (!verb.empty()) std::cout << "ok resourceVersion=" << server.resource_version() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "llmtap-fake-kube-api: " << e.what() << "\n";
  }
}

// Blocks SIGTERM/SIGINT before any thread exists (threads inherit the mask), so they are only
// ever read from the signalfd.
llmtap::testing::UniqueFd termination_signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  llmtap::testing::UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!fd) throw std::runtime_error("signalfd failed");
  return fd;
}

int run(const Arguments& args) {
  const llmtap::testing::UniqueFd signals = termination_signal_fd();
  if (args.make_cert) {
    llmtap::testing::write_self_signed_certificate(args.server.cert_file, args.server.key_file);
  }
  FakeKubeApiServer server(args.server);
  if (!args.pods_file.empty()) load_pods(server, args.pods_file);
  std::cout << "listening on " << args.server.bind_address << ":" << server.port() << std::endl;

  bool stdin_open = true;
  std::string pending;
  for (;;) {
    std::array<pollfd, 2> fds{
        {{.fd = signals.get(), .events = POLLIN, .revents = 0},
         {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN, .revents = 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    if (fds[0].revents != 0) break;
    if (fds[1].revents == 0) continue;
    std::array<char, 4096> buffer;
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n <= 0) {  // EOF: keep serving until a signal
      stdin_open = false;
      continue;
    }
    pending.append(buffer.data(), static_cast<size_t>(n));
    for (size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
      run_command(server, pending.substr(0, newline));
      pending.erase(0, newline + 1);
    }
  }
  std::cerr << "llmtap-fake-kube-api: stopped after " << server.list_requests() << " list(s), "
            << server.watch_requests() << " watch(es)\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  try {
    args = parse_arguments(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "llmtap-fake-kube-api: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "llmtap-fake-kube-api: " << e.what() << "\n";
    return EXIT_FAILURE;
  }
}
