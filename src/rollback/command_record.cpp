#include "velin/rollback/command_record.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "velin/core/i18n.hpp"
#include "velin/io/process_space.hpp"

namespace velin::rollback {
namespace {

using json = nlohmann::json;

int64_t SteadyMs(io::Env& env) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(env.SteadyNow().time_since_epoch())
      .count();
}

// Its pid with its start time names that one process, in this process space only: a pid reused
// since, or one of another boot or container, is another process.
bool StillRuns(io::Env& env, const CommandRecord& r) {
  return r.pid > 1 && r.start_ticks != 0 && r.space == io::ProcessSpaceTag(env.ThisProcess()) &&
         env.ProcessStartTicks(r.pid) == r.start_ticks;
}

}  // namespace

std::optional<CommandRecord> LoadCommandRecord(io::Env& env, const std::string& path) {
  auto text = env.ReadFile(path);
  if (!text) return std::nullopt;  // none, or unreadable: nothing is known to run
  const json doc = json::parse(*text, nullptr, false);
  if (!doc.is_object()) return std::nullopt;  // torn by a crash: nothing outlived that
  CommandRecord r;
  auto str = [&](const char* key, std::string* out) {
    auto it = doc.find(key);
    if (it != doc.end() && it->is_string()) *out = it->get<std::string>();
  };
  auto num = [&](const char* key, int64_t* out) {
    auto it = doc.find(key);
    if (it != doc.end() && it->is_number_integer()) *out = it->get<int64_t>();
  };
  str("command", &r.command);
  str("context", &r.context);
  num("pid", &r.pid);
  num("start_ticks", &r.start_ticks);
  str("space", &r.space);
  num("deadline_steady_ms", &r.deadline_steady_ms);
  return r;
}

Status SaveCommandRecord(io::Env& env, const std::string& path, const CommandRecord& r) {
  const json doc = {{"command", r.command}, {"context", r.context},
                    {"pid", r.pid},         {"start_ticks", r.start_ticks},
                    {"space", r.space},     {"deadline_steady_ms", r.deadline_steady_ms}};
  const std::string temp = io::TempPathFor(env, path);
  io::WriteOptions options;
  options.exclusive = true;
  VELIN_ASSIGN(auto file, env.NewWritableFile(temp, options));
  Status written = file->Append(doc.dump() + "\n");
  Status closed = file->Close();
  if (written) written = closed;
  if (written) written = env.Rename(temp, path);
  if (!written) (void)env.RemoveFile(temp);
  return written;
}

CommandRecord RecordOf(io::Env& env, const std::string& command, const std::string& context,
                       int64_t pid, Duration timeout) {
  return CommandRecord{.command = command,
                       .context = context,
                       .pid = pid,
                       .start_ticks = env.ProcessStartTicks(pid),
                       .space = io::ProcessSpaceTag(env.ThisProcess()),
                       .deadline_steady_ms = SteadyMs(env) + timeout.count()};
}

void AwaitRecordedCommand(io::Env& env, Reporter& reporter, const std::string& path) {
  const std::optional<CommandRecord> r = LoadCommandRecord(env, path);
  if (!r || !StillRuns(env, *r)) return;
  // Whole seconds, up: "at most 5m", not "4m59s848ms".
  const int64_t left_ms =
      (std::max<int64_t>(0, r->deadline_steady_ms - SteadyMs(env)) + 999) / 1000 * 1000;
  reporter.Warn(TrFormat(
      "{} (process {}), started for {} by a velin that was killed, still runs: waiting for it to "
      "end (at most {}, its timeout) before going on",
      r->command, r->pid, r->context, FormatDuration(Duration(left_ms))));
  while (StillRuns(env, *r) && SteadyMs(env) < r->deadline_steady_ms) {
    env.SleepFor(std::chrono::milliseconds(200));
  }
  if (!StillRuns(env, *r)) return;
  // What the killed velin would have done at the timeout (core/process.cpp): the whole group
  // gets SIGTERM, a second later SIGKILL.
  reporter.Warn(
      TrFormat("{} (process {}) did not end within its timeout: killed", r->command, r->pid));
  env.SignalProcessGroup(r->pid, SIGTERM);
  for (int i = 0; i < 5 && StillRuns(env, *r); ++i) env.SleepFor(std::chrono::milliseconds(200));
  env.SignalProcessGroup(r->pid, SIGKILL);
  for (int i = 0; i < 50 && StillRuns(env, *r); ++i) env.SleepFor(std::chrono::milliseconds(200));
}

}  // namespace velin::rollback
