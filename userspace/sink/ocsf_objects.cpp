#include "sink/ocsf_objects.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <memory>
#include <string>
#include <utility>

namespace llmtap::sink::ocsf {

IpText::IpText(const capture::Endpoint& endpoint) {
  const uint8_t* addr = endpoint.addr.data();
  int family = endpoint.family;
  if (capture::is_v4_mapped(endpoint)) {
    family = AF_INET;
    addr += 12;
  }
  if (family == AF_INET) {  // most calls: without inet_ntop's sprintf
    len_ = capture::format_ipv4(addr, buf_.data());
    return;
  }
  if (family == AF_INET6 && inet_ntop(family, addr, buf_.data(), buf_.size()) != nullptr) {
    len_ = std::string_view(buf_.data()).size();
    v6_ = family == AF_INET6;
  }
}

namespace {

// Members that depend on one string of the context only (the same for every event of a run),
// written once per thread and copied after; written again when that string changes.
struct KeptMembers {
  bool made = false;
  std::string key;
  std::string text;  // members as JSON text, without the braces around them
};

template <typename Write>
std::string_view kept_members(KeptMembers& kept, std::string_view key, Write&& write) {
  if (!kept.made || kept.key != key) {
    kept.text = rendered_members(write);
    kept.key.assign(key);
    kept.made = true;
  }
  return kept.text;
}

}  // namespace

void begin_metadata(JsonWriter& w, const OcsfContext& context) {
  thread_local KeptMembers kept;
  w.begin_object("metadata");
  w.member_text(kept_members(kept, context.product_version, [&](JsonWriter& m) {
    m.string("version", kOcsfSchemaVersion);
    m.begin_object("product");
    m.string("name", "llmtap");
    m.string("vendor_name", "llmtap");
    m.string_if("version", context.product_version);
    m.end_object();
  }));
}

void write_call_event_uid(JsonWriter& w, std::string_view key, const OcsfContext& context,
                          uint64_t sequence) {
  const Decimal text(sequence);
  if (context.uid_prefix.empty()) {
    w.string(key, text.view());
  } else {
    w.string_parts(key, {context.uid_prefix, "-", text.view()});
  }
}

void write_process(JsonWriter& w, std::string_view key, const llm::ProcessIdentity& process) {
  w.begin_object(key);
  w.number("pid", process.pid);
  w.string_if("name", process.comm);
  w.string_if("cmd_line", process.cmdline);
  if (!process.exe.empty()) {
    const std::string_view path = process.exe;
    const size_t slash = path.rfind('/');
    w.begin_object("file");
    w.string("path", path);
    w.string("name", slash == std::string_view::npos ? path : path.substr(slash + 1));
    w.number("type_id", 1);  // Regular File
    w.string("type", "Regular File");
    w.end_object();
  }
  w.begin_object("user");
  w.string("uid", Decimal(process.uid).view());
  w.end_object();
  if (process.workload) write_container(w, *process.workload);
  w.end_object();
}

namespace {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// The reference as the pod spec wrote it ("registry:5000/team/app:1.2") is the name: OCSF
// deprecates a separate tag. The digest the runtime reports is the uid.
void write_image(JsonWriter& w, std::string_view image, std::string_view image_id) {
  if (image.empty() && image_id.empty()) return;
  w.begin_object("image");
  w.string_if("name", image);
  w.string_if("uid", image_id);
  w.end_object();
}

}  // namespace

void write_container(JsonWriter& w, const llm::WorkloadIdentity& c) {
  w.begin_object("container");
  w.string("uid", c.container_id);
  w.string_if("name", c.container_name);
  write_image(w, c.image, c.image_id);
  w.string_if("runtime", c.container_runtime);
  if (is_uuid(c.pod_uid)) w.string("pod_uuid", c.pod_uid);
  if (!c.pod_uid.empty()) w.string("orchestrator", "Kubernetes");
  if (!c.pod_labels.empty()) {
    w.begin_array("labels");
    std::string label;
    for (const auto& [key, value] : c.pod_labels) {
      label.assign(key).append("=").append(value);
      w.element(label);
    }
    w.end_array();
  }
  w.end_object();
}

void write_pod(JsonWriter& w, const llm::WorkloadIdentity& c) {
  if (!c.pod_known()) return;
  w.begin_object("pod");
  w.string("namespace", c.pod_namespace);
  w.string("name", c.pod_name);
  w.string_if("uid", c.pod_uid);
  w.string_if("node", c.node_name);
  w.string_if("service_account", c.service_account);
  w.string_if("ip", c.pod_ip);
  w.string_if("container", c.container_name);
  w.begin_object("labels");
  for (const auto& [key, value] : c.pod_labels) w.string(key, value);
  w.end_object();
  w.end_object();
}

void add_container_profile(JsonWriter& w, const llm::ProcessIdentity& process) {
  if (process.workload) w.element("container");
}

namespace {

// The actor object of the last few processes, as written: a process's calls repeat it
// (pid, names, command line, user, container), so it is written once and copied after.
// The workload is held, so its address cannot be another's while it is kept here.
struct RenderedActor {
  uint32_t pid = 0;
  uint32_t uid = 0;
  std::string comm;
  std::string exe;
  std::string cmdline;
  std::shared_ptr<const llm::WorkloadIdentity> workload;
  std::string member;  // "actor":{...}
};

bool same_actor(const RenderedActor& a, const llm::ProcessIdentity& p) {
  return !a.member.empty() && a.pid == p.pid && a.uid == p.uid && a.workload == p.workload &&
         a.comm == p.comm && a.exe == p.exe && a.cmdline == p.cmdline;
}

}  // namespace

void write_actor(JsonWriter& w, const llm::ProcessIdentity& process) {
  constexpr size_t kKept = 4;
  constexpr size_t kMaxKeptBytes = 16 << 10;  // a longer object is written each time
  thread_local std::array<RenderedActor, kKept> kept;
  thread_local size_t next = 0;
  for (const RenderedActor& a : kept) {
    if (same_actor(a, process)) return w.member_text(a.member);
  }
  std::string member = rendered_members([&](JsonWriter& inner) {
    inner.begin_object("actor");
    write_process(inner, "process", process);
    inner.end_object();
  });
  w.member_text(member);
  if (member.size() > kMaxKeptBytes) return;
  RenderedActor& a = kept[next];
  next = (next + 1) % kKept;
  a.pid = process.pid;
  a.uid = process.uid;
  a.comm = process.comm;
  a.exe = process.exe;
  a.cmdline = process.cmdline;
  a.workload = process.workload;
  a.member = std::move(member);
}

void write_device(JsonWriter& w, const OcsfContext& context) {
  thread_local KeptMembers kept;
  w.member_text(kept_members(kept, context.hostname, [&](JsonWriter& m) {
    m.begin_object("device");
    m.string_if("hostname", context.hostname);
    m.number("type_id", 0);  // required; the agent does not classify its host
    m.string("type", "Unknown");
    m.end_object();
  }));
}

void write_endpoint(JsonWriter& w, std::string_view key, const capture::Endpoint& endpoint,
                    std::string_view hostname) {
  const IpText ip(endpoint);
  if (ip.view().empty() && endpoint.port == 0 && hostname.empty()) return;
  w.begin_object(key);
  w.string_if("hostname", hostname);
  w.string_if("ip", ip.view());
  if (endpoint.port != 0) w.number("port", endpoint.port);
  w.end_object();
}

void write_src_endpoint(JsonWriter& w, const llm::LlmCall& call) {
  write_endpoint(w, "src_endpoint", client_of(call), {});
}

void write_dst_endpoint(JsonWriter& w, const llm::LlmCall& call) {
  write_endpoint(w, "dst_endpoint", server_of(call), call.server_name);
}

namespace {

enum class IpVersion { kNone = 0, kV4 = 1, kV6 = 2 };

void write_connection_constants(JsonWriter& w, bool served, IpVersion version) {
  // Outbound when the captured process made the call, inbound when it answered it.
  w.number("direction_id", served ? 1 : 2);
  w.string("direction", served ? "Inbound" : "Outbound");
  w.string("protocol_name", "tcp");
  w.number("protocol_num", 6);
  if (version != IpVersion::kNone) {
    const bool v6 = version == IpVersion::kV6;
    w.number("protocol_ver_id", v6 ? 6 : 4);
    w.string("protocol_ver",
             v6 ? "Internet Protocol version 6 (IPv6)" : "Internet Protocol version 4 (IPv4)");
  }
}

// As IpText reads the address.
IpVersion ip_version_of(const capture::Endpoint& endpoint) {
  if (endpoint.family == AF_INET || capture::is_v4_mapped(endpoint)) return IpVersion::kV4;
  return endpoint.family == AF_INET6 ? IpVersion::kV6 : IpVersion::kNone;
}

// The six combinations of the members above, written once.
std::string_view connection_constants(bool served, IpVersion version) {
  static const std::array<std::string, 6> kTexts = [] {
    std::array<std::string, 6> texts;
    for (size_t i = 0; i < texts.size(); ++i) {
      texts[i] = rendered_members([&](JsonWriter& m) {
        write_connection_constants(m, i >= 3, static_cast<IpVersion>(i % 3));
      });
    }
    return texts;
  }();
  return kTexts[(served ? 3 : 0) + static_cast<size_t>(version)];
}

}  // namespace

void write_connection_info(JsonWriter& w, const llm::LlmCall& call) {
  w.begin_object("connection_info");
  w.member_text(connection_constants(call.served, ip_version_of(call.remote)));
  if (call.conn_id != 0) w.string("uid", Decimal(call.conn_id).view());
  w.end_object();
}

}  // namespace llmtap::sink::ocsf
