// Notifications ([notify]): an event (a backup failed, a switch was undone, the watchdog rolled a
// transaction back, ...) POSTed to a webhook as JSON or as a Slack/Mattermost {"text": ...}
// message, and/or given to a shell command in its environment (VELIN_EVENT, VELIN_OUTCOME,
// VELIN_SUMMARY, VELIN_ERROR, VELIN_BACKUP_ID, VELIN_VERSION, VELIN_HOST, VELIN_APP,
// VELIN_TIME). Guarantees, like the pings':
//  - a notification never fails the command: a failed delivery is a warning through the
//    Reporter with the reason;
//  - delivery is bounded: the webhook is retried (unreachable, 5xx, 429) until `budget` is
//    spent, the command is killed after `budget`;
//  - the webhook URL (which may hold a token) is shown only as scheme and host;
//  - the command runs without velin's secrets in its environment.
// Config-free: the caller fills NotifyOptions from [notify].
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"

namespace velin::monitor {

struct NotifyOptions {
  std::string webhook_url;
  std::string format = "json";  // "json" | "slack"
  std::string command;
  std::vector<std::string> events;  // the events delivered; others are dropped
  std::string cwd;                  // the command's working directory (app.root)
  std::string app;                  // names the application in the message ([app] name)
  std::string host;                 // names the host ([app] host); "": the machine's host name
  std::chrono::milliseconds budget{10'000};
};

struct NotifyEvent {
  std::string event;  // one of config::NotifyEventNames()
  bool success = false;
  std::string summary;
  std::string error;
  std::string backup_id;
  std::string version;
};

class Notifier {
 public:
  Notifier(io::Env& env, NotifyOptions options, Reporter& reporter);

  // True when `event` is configured and there is somewhere to send it.
  bool Wants(const std::string& event) const;
  // Delivers `event` when Wants() it; a failed delivery is a warning.
  void Notify(const NotifyEvent& event);

  // The webhook body for `event` in `format` (tests and docs show it).
  std::string Body(const NotifyEvent& event, const std::string& time,
                   const std::string& host) const;

 private:
  void PostWebhook(const std::string& body);
  void RunCommand(const NotifyEvent& event, const std::string& time, const std::string& host);

  io::Env& env_;
  NotifyOptions options_;
  Reporter& reporter_;
};

}  // namespace velin::monitor
