// The fleet's commands: the same rollback command on every host at once, and what makes a
// fleet switch all-or-nothing (docs/rollback.md#fleet).
#include "velin/rollback/fleet.hpp"

#include <algorithm>
#include <thread>

#include "velin/core/i18n.hpp"
#include "velin/core/json_int.hpp"
#include "velin/core/threads.hpp"
#include "velin/rollback/registry.hpp"

namespace velin::rollback {
namespace {

std::string StringAt(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object()) return "";
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

// The first failed host's message (with its name when several failed): what a user acts on.
std::string FirstFailure(const std::vector<HostOutcome>& outcomes) {
  size_t failed =
      std::count_if(outcomes.begin(), outcomes.end(), [](const HostOutcome& o) { return !o.ok; });
  for (const auto& o : outcomes) {
    if (!o.ok) return failed > 1 ? o.host + ": " + o.message : o.message;
  }
  return "";
}

// What a host's `rollback status --json` says about its transaction, in one line.
std::string DescribeStatus(const nlohmann::json& doc) {
  std::string line = TrFormat("current {}", OrDash(StringAt(doc, "current")));
  const auto& t = doc.contains("transaction") ? doc["transaction"] : nlohmann::json();
  if (!t.is_object()) return line + "; " + std::string(Tr("no open transaction"));
  // A host's reply is not trusted: a time that is no integer in range reads as none left
  // (and one beyond a century is clamped, so that the milliseconds do not overflow).
  int64_t left = 0;
  try {
    left = std::clamp<int64_t>(JsonIntOr<int64_t>(t, "seconds_left", 0), 0, int64_t{3155760000});
  } catch (const nlohmann::json::exception&) {
    left = 0;
  }
  return line + "; " +
         TrFormat("transaction {} {}, {} left", StringAt(t, "id"), StringAt(t, "state"),
                  FormatDuration(Duration(left * 1000)));
}

}  // namespace

Fleet::Fleet(FleetSettings settings, HostRunner& runner, Reporter& reporter)
    : settings_(std::move(settings)), runner_(runner), reporter_(reporter) {}

void Fleet::ForEachHost(const std::function<void(size_t)>& work) {
  std::vector<std::thread> threads;
  threads.reserve(settings_.hosts.size());
  for (size_t i = 0; i < settings_.hosts.size(); ++i) {
    auto t = StartThread([&work, i] { work(i); }, nullptr);
    if (t) {
      threads.push_back(std::move(*t));
    } else {
      work(i);  // no thread to spare (ulimit -u): this host's turn comes here
    }
  }
  for (auto& t : threads) t.join();
}

std::vector<HostReply> Fleet::RunAll(const std::vector<std::string>& args) {
  std::vector<HostReply> replies(settings_.hosts.size());
  ForEachHost([&](size_t i) { replies[i] = runner_.Run(settings_.hosts[i], args); });
  return replies;
}

std::vector<size_t> Fleet::All() const {
  std::vector<size_t> all(settings_.hosts.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

std::string Fleet::Names(const std::vector<size_t>& indexes) const {
  std::string out;
  for (size_t i : indexes) out += (out.empty() ? "" : ", ") + settings_.hosts[i].name;
  return out;
}

// Each host's outcome from its reply: ok when it exited 0, else its error line.
static std::vector<HostOutcome> Outcomes(const std::vector<FleetHost>& hosts,
                                         const std::vector<HostReply>& replies) {
  std::vector<HostOutcome> out(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) {
    out[i].host = hosts[i].name;
    out[i].ok = replies[i].exit_code == 0;
    out[i].exit_code = replies[i].exit_code;
    out[i].reply = replies[i].document;
    out[i].message = replies[i].error;
  }
  return out;
}

FleetResult Fleet::Begin(const std::string& timeout, const std::string& reason) {
  std::vector<std::string> args = {"rollback", "begin"};
  if (!timeout.empty()) args.insert(args.end(), {"--timeout", timeout});
  if (!reason.empty()) args.insert(args.end(), {"--reason", reason});
  reporter_.Begin(TrFormat("Opening a transaction on {}...", Names(All())));
  auto replies = RunAll(args);
  FleetResult r{.command = "begin", .hosts = Outcomes(settings_.hosts, replies), .status = Ok()};
  std::vector<size_t> opened, failed;
  bool all_locked = true;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    if (o.ok) {
      opened.push_back(i);
      o.message = TrFormat("transaction {} open until {} (base {})", StringAt(o.reply, "id"),
                           LocalTimeOf(StringAt(o.reply, "deadline")), StringAt(o.reply, "base"));
    } else {
      failed.push_back(i);
      all_locked = all_locked && o.exit_code == static_cast<int>(ExitCode::kLocked);
    }
  }
  if (failed.empty()) return r;
  std::string msg = TrFormat("fleet begin failed on {} ({})", Names(failed), FirstFailure(r.hosts));
  if (!opened.empty()) {
    msg += "; " + TrFormat(
                      "open on {}: it rolls back at its deadline, or now with 'velin rollback "
                      "--fleet rollback'",
                      Names(opened));
  }
  r.status = MakeError(all_locked ? ExitCode::kLocked : ExitCode::kFailed, msg);
  return r;
}

bool Fleet::SwitchBack(HostOutcome& o, const HostReply& switched, const std::string& reason) {
  const FleetHost& host = *std::find_if(settings_.hosts.begin(), settings_.hosts.end(),
                                        [&](const FleetHost& h) { return h.name == o.host; });
  std::string now;  // the version live on the host now
  if (switched.exit_code == 0) {
    now = StringAt(switched.document, "current");
  } else if (switched.exit_code == static_cast<int>(ExitCode::kHealthFailed)) {
    // Its own velin switched back and said so (exit code 5 means it is healthy on `before`).
    o.current = o.before;
    return true;
  } else {
    HostReply st = runner_.Run(host, {"rollback", "status"});
    if (st.exit_code != 0) {
      o.message += "; " + TrFormat("its state is unknown: {}", st.error);
      return false;
    }
    now = StringAt(st.document, "current");
  }
  o.current = now;
  if (now == o.before) return true;
  if (o.before.empty()) {
    o.message = TrFormat("switched to {}; nothing to switch back to (no version was live)", now);
    return false;
  }
  // --undo: the live config comes back as it was before the fleet switch (the copy the host
  // saved then), not the one stored with `before` nor the one `now` brought.
  HostReply back =
      runner_.Run(host, {"rollback", "to-version", o.before, "--reason", reason, "--undo"});
  if (back.exit_code != 0) {
    o.message =
        TrFormat("switched to {}; switching back to {} failed: {}", now, o.before, back.error);
    return false;
  }
  o.current = OrDash(StringAt(back.document, "current"));
  o.switched_back = true;
  o.message = TrFormat("switched back to {} (after {})", o.current, now);
  return o.current == o.before;
}

FleetResult Fleet::ToVersion(const std::string& name, const std::string& reason) {
  FleetResult r{.command = "to-version", .hosts = {}, .status = Ok()};
  // What each host runs now: where it goes back to. A host that does not answer stops the
  // switch before any host changed.
  auto before = RunAll({"rollback", "status"});
  r.hosts = Outcomes(settings_.hosts, before);
  const std::string first_silent = FirstFailure(r.hosts);
  std::vector<size_t> silent;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    o.before = o.current = StringAt(before[i].document, "current");
    if (!o.ok) {
      silent.push_back(i);
    } else {
      o.message = TrFormat("not switched (on {})", OrDash(o.before));
    }
    o.ok = false;
  }
  if (!silent.empty()) {
    r.status = Failure(TrFormat("fleet to-version {}: no host switched: {} did not answer ({})",
                                name, Names(silent), first_silent));
    return r;
  }
  reporter_.Begin(TrFormat("Switching {} to {}...", Names(All()), name));
  std::vector<std::string> args = {"rollback", "to-version", name};
  if (!reason.empty()) args.insert(args.end(), {"--reason", reason});
  auto switched = RunAll(args);
  std::vector<size_t> failed;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    o.exit_code = switched[i].exit_code;
    o.reply = switched[i].document;
    if (switched[i].exit_code == 0) {
      o.ok = true;
      o.current = StringAt(switched[i].document, "current");
      o.message = o.before + " -> " + o.current;
    } else {
      o.message = switched[i].error;
      failed.push_back(i);
    }
  }
  if (failed.empty()) return r;
  // All or nothing: every host goes back to the version it ran before.
  std::string failed_names = Names(failed);
  std::string first = FirstFailure(r.hosts);
  // Said only when some host may have to go back: one that switched, or whose outcome is not
  // known. An unknown version, a held lock, damaged state (exit 2, 3, 4 from the host) changed
  // nothing.
  const bool any_moved = std::any_of(switched.begin(), switched.end(), [](const HostReply& h) {
    return !h.reached || (h.exit_code != static_cast<int>(ExitCode::kUsage) &&
                          h.exit_code != static_cast<int>(ExitCode::kLocked) &&
                          h.exit_code != static_cast<int>(ExitCode::kDamage));
  });
  if (any_moved) reporter_.Info(TrFormat("{} failed: switching every host back", failed_names));
  std::string undo_reason = "fleet to-version " + name + " failed on " + failed_names;
  std::vector<char> back(r.hosts.size(), 0);
  ForEachHost([&](size_t i) {
    r.hosts[i].ok = false;
    back[i] = SwitchBack(r.hosts[i], switched[i], undo_reason) ? 1 : 0;
  });
  std::vector<size_t> stuck;
  for (size_t i = 0; i < back.size(); ++i) {
    if (!back[i]) stuck.push_back(i);
  }
  bool changed = false;  // some host ran `name` (or tried to) before going back
  for (const auto& o : r.hosts) changed = changed || o.switched_back || o.exit_code == 5;
  if (stuck.empty() && !changed) {
    // Nothing changed anywhere (an unknown version, a held lock): that host's exit code.
    const auto& f = r.hosts[failed.front()];
    r.status = MakeError(
        switched[failed.front()].reached ? static_cast<ExitCode>(f.exit_code) : ExitCode::kFailed,
        TrFormat("fleet to-version {}: no host switched: {} failed ({})", name, failed_names,
                 first));
  } else if (stuck.empty()) {
    r.status = MakeError(ExitCode::kHealthFailed,
                         TrFormat("fleet to-version {} failed on {} ({}); every host is back on "
                                  "the version it ran before",
                                  name, failed_names, first));
  } else {
    r.status =
        Failure(TrFormat("fleet to-version {} failed on {} ({}) and {} could not be put "
                         "back: see 'velin rollback --fleet status'",
                         name, failed_names, first, Names(stuck)));
  }
  return r;
}

FleetResult Fleet::PlanToVersion(const std::string& name) {
  auto replies = RunAll({"rollback", "to-version", name, "--dry-run"});
  FleetResult r{
      .command = "to-version", .hosts = Outcomes(settings_.hosts, replies), .status = Ok()};
  std::vector<size_t> failed;
  int code = 0;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    o.before = o.current = StringAt(o.reply, "from");
    if (o.ok) {
      o.message = TrFormat("{} -> {} (dry run)", OrDash(o.before), StringAt(o.reply, "to"));
    } else {
      failed.push_back(i);
      if (code == 0 && replies[i].reached) code = o.exit_code;
    }
  }
  if (failed.empty()) return r;
  r.status = MakeError(code == 0 ? ExitCode::kFailed : static_cast<ExitCode>(code),
                       TrFormat("fleet to-version {} --dry-run: {} cannot switch ({})", name,
                                Names(failed), FirstFailure(r.hosts)));
  return r;
}

FleetResult Fleet::Commit() {
  // Commit nowhere unless every host answers with its transaction open: a host that cannot
  // commit rolls back at its deadline, and the others must end on the same side.
  auto states = RunAll({"rollback", "status"});
  FleetResult r{.command = "commit", .hosts = Outcomes(settings_.hosts, states), .status = Ok()};
  std::vector<size_t> not_ready;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    if (!o.ok) {
      not_ready.push_back(i);
      continue;
    }
    const auto& t = o.reply.contains("transaction") ? o.reply["transaction"] : nlohmann::json();
    if (!t.is_object() || StringAt(t, "state") != "open") {
      o.ok = false;
      o.exit_code = static_cast<int>(ExitCode::kFailed);
      o.message = TrFormat("nothing to commit: {}", DescribeStatus(o.reply));
      not_ready.push_back(i);
    }
  }
  if (!not_ready.empty()) {
    const std::string first = FirstFailure(r.hosts);
    for (auto& o : r.hosts) {
      if (o.ok) o.message = TrFormat("not committed: {}", DescribeStatus(o.reply));
      o.ok = false;
    }
    r.status = Failure(
        TrFormat("fleet commit: nothing committed, {} cannot commit ({}); every host rolls back "
                 "at its deadline (now: 'velin rollback --fleet rollback'; or commit again "
                 "before the deadline)",
                 Names(not_ready), first));
    return r;
  }
  auto replies = RunAll({"rollback", "commit"});
  r.hosts = Outcomes(settings_.hosts, replies);
  std::vector<size_t> committed, failed;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    if (o.ok) {
      committed.push_back(i);
      o.message = TrFormat("transaction {} committed", StringAt(o.reply, "id"));
    } else {
      failed.push_back(i);
    }
  }
  if (failed.empty()) return r;
  r.status = Failure(TrFormat(
      "fleet commit reached only {}: {} not committed ({}): it rolls back at its deadline by "
      "itself",
      committed.empty() ? "-" : Names(committed), Names(failed), FirstFailure(r.hosts)));
  return r;
}

FleetResult Fleet::RollbackNow(const std::string& reason) {
  std::vector<std::string> args = {"rollback", "rollback"};
  if (!reason.empty()) args.insert(args.end(), {"--reason", reason});
  auto replies = RunAll(args);
  FleetResult r{.command = "rollback", .hosts = Outcomes(settings_.hosts, replies), .status = Ok()};
  std::vector<size_t> failed;
  bool any_silent = false;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    if (o.ok) {
      o.message = TrFormat("transaction {} {} (back to {})", StringAt(o.reply, "id"),
                           StringAt(o.reply, "outcome"), StringAt(o.reply, "base"));
    } else {
      failed.push_back(i);
      any_silent = any_silent || !replies[i].reached;
    }
  }
  if (failed.empty()) return r;
  std::string msg =
      TrFormat("fleet rollback failed on {} ({})", Names(failed), FirstFailure(r.hosts));
  if (any_silent) msg += "; " + std::string(Tr("a host not reached rolls back at its deadline"));
  r.status = Failure(msg);
  return r;
}

FleetResult Fleet::Inspect() {
  auto replies = RunAll({"rollback", "status"});
  FleetResult r{.command = "status", .hosts = Outcomes(settings_.hosts, replies), .status = Ok()};
  std::vector<size_t> failed;
  for (size_t i = 0; i < r.hosts.size(); ++i) {
    HostOutcome& o = r.hosts[i];
    if (o.ok) {
      o.current = StringAt(o.reply, "current");
      o.message = DescribeStatus(o.reply);
    } else {
      failed.push_back(i);
    }
  }
  if (failed.empty()) return r;
  r.status = Failure(
      TrFormat("fleet status: {} did not answer ({})", Names(failed), FirstFailure(r.hosts)));
  return r;
}

}  // namespace velin::rollback
