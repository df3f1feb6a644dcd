// The ssh side of the fleet: which host and config a [fleet] hosts entry names, and running
// velin there with OpenSSH's client (docs/rollback.md#fleet).
#include <nlohmann/json.hpp>

#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/rollback/fleet.hpp"

namespace velin::rollback {
namespace {

std::string Seconds(Duration d) { return std::to_string(std::max<int64_t>(1, d.count() / 1000)); }

}  // namespace

Result<FleetHost> ParseFleetHost(const std::string& entry, const std::string& default_config) {
  if (entry.empty()) return UsageError(std::string(Tr("an empty host")));
  if (entry[0] == '-') {
    return UsageError(TrFormat("\"{}\" starts with '-' (ssh would take it for an option)", entry));
  }
  for (unsigned char c : entry) {
    if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '\\' || c == '`' || c == '$' ||
        c == ';') {
      return UsageError(TrFormat(
          "\"{}\" holds a space, quote or control character (not an ssh destination)", entry));
    }
  }
  FleetHost host{.name = entry, .destination = entry, .config = default_config};
  // "ssh://user@host:2222:/srv/shop/velin.toml": the config follows the first ":/" after the
  // scheme (a port is digits, never followed by '/').
  size_t from = entry.rfind("ssh://", 0) == 0 ? 6 : 0;
  if (size_t at = entry.find(":/", from); at != std::string::npos) {
    host.destination = entry.substr(0, at);
    host.config = entry.substr(at + 1);
    if (host.destination.size() <= from) {
      return UsageError(TrFormat("\"{}\" names a config but no host", entry));
    }
  }
  host.name = host.destination;
  return host;
}

void UniqueHostNames(std::vector<FleetHost>& hosts, const std::vector<std::string>& entries) {
  for (size_t i = 0; i < hosts.size(); ++i) {
    for (size_t j = i + 1; j < hosts.size(); ++j) {
      if (hosts[i].destination != hosts[j].destination) continue;
      for (size_t k = 0; k < hosts.size() && k < entries.size(); ++k) hosts[k].name = entries[k];
      return;
    }
  }
}

std::string ShellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::vector<std::string> SshRunner::Argv(const FleetHost& host,
                                         const std::vector<std::string>& args) const {
  // ssh keeps the first value it sees of an option: these come before the user's options and
  // ssh_config, so host keys are always checked and nothing ever prompts.
  std::vector<std::string> argv = {"ssh", "-T",
                                   "-o",  "BatchMode=yes",
                                   "-o",  "StrictHostKeyChecking=yes",
                                   "-o",  "ConnectTimeout=" + Seconds(settings_.connect_timeout),
                                   "-o",  "ServerAliveInterval=5",
                                   "-o",  "ServerAliveCountMax=3",
                                   "-o",  "LogLevel=ERROR"};
  argv.insert(argv.end(), settings_.ssh_options.begin(), settings_.ssh_options.end());
  // The remote command is one string for the host's shell: `velin` is the user's command
  // line, every other word is quoted.
  std::string remote = settings_.velin + " --config " + ShellQuote(host.config);
  for (const std::string& a : args) remote += " " + ShellQuote(a);
  remote += " --json";
  argv.insert(argv.end(), {"--", host.destination, remote});
  return argv;
}

HostReply SshRunner::Run(const FleetHost& host, const std::vector<std::string>& args) {
  HostReply reply;
  ProcessOptions options;
  options.argv = Argv(host, args);
  auto ran = RunCommandSplit(options, settings_.command_timeout);
  if (!ran) {
    reply.exit_code = 255;
    reply.error = ran.error().message;
    return reply;
  }
  reply.exit_code = ran->exit_code;
  if (ran->timed_out) {
    reply.error = TrFormat("no answer within {} (fleet.command_timeout): ssh was stopped",
                           FormatDuration(settings_.command_timeout));
    return reply;
  }
  try {
    reply.document = nlohmann::json::parse(ran->output);
    reply.reached = reply.document.is_object();
  } catch (const nlohmann::json::exception&) {
    reply.reached = false;
  }
  if (reply.reached) {
    if (reply.exit_code != 0) {
      const nlohmann::json& e = reply.document.value("error", nlohmann::json());
      reply.error = e.is_object() && e.contains("message") && e["message"].is_string()
                        ? e["message"].get<std::string>()
                        : LastLine(ran->error_output);
    }
    return reply;
  }
  std::string said = LastLine(ran->error_output);
  if (said.empty()) said = LastLine(ran->output);
  if (said.find("Host key verification failed") != std::string::npos) {
    reply.error = TrFormat(
        "ssh refused {}: its host key is not the one known_hosts holds for it (or it is not "
        "there); check its fingerprint and add it (ssh-keyscan)",
        host.destination);
  } else if (reply.exit_code == 255) {
    reply.error = TrFormat("ssh to {} failed: {}", host.destination, said.empty() ? "-" : said);
  } else {
    reply.error = TrFormat("velin on {} did not answer ({}): {}", host.destination,
                           DescribeExit(reply.exit_code), said.empty() ? "-" : said);
    if (reply.exit_code == 0) reply.exit_code = 1;
  }
  return reply;
}

}  // namespace velin::rollback
