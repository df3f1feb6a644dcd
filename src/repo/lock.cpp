#include "velin/repo/lock.hpp"

#include <openssl/rand.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "velin/repo/blob_id.hpp"

namespace velin::repo {

namespace {

const char* KindName(LockKind k) {
  switch (k) {
    case LockKind::kShared:
      return "shared";
    case LockKind::kExclusive:
      return "exclusive";
    case LockKind::kCommit:
      return "commit";
  }
  return "shared";
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string LockBody(LockKind kind, const std::string& host) {
  nlohmann::json j = {{"host", host},
                      {"pid", static_cast<int64_t>(getpid())},
                      {"kind", KindName(kind)},
                      {"time", NowSeconds()}};
  return j.dump() + "\n";
}

bool Conflicts(LockKind mine, const std::string& theirs) {
  if (mine == LockKind::kCommit) return theirs == "commit";
  if (theirs == "commit") return false;
  return mine == LockKind::kExclusive || theirs == "exclusive";
}

struct Holder {
  std::string name, host, kind;
  int64_t pid = 0, time = 0;
  std::string Describe() const {
    return "host " + host + " pid " + std::to_string(pid) + ", " + kind + " lock, " +
           std::to_string(std::max<int64_t>(0, NowSeconds() - time)) + "s ago";
  }
};

// Locks that conflict with `kind` and are live; stale ones are deleted on the way.
Result<std::vector<Holder>> LiveConflicts(storage::Backend& backend, LockKind kind,
                                          const std::string& own, const std::string& host,
                                          const LockOptions& options) {
  VELIN_ASSIGN(auto objects, backend.List("locks/"));
  std::vector<Holder> out;
  for (const auto& o : objects) {
    if (o.name == own) continue;
    auto text = backend.Get(o.name);
    if (!text) continue;  // released meanwhile
    Holder h;
    h.name = o.name;
    try {
      auto j = nlohmann::json::parse(*text);
      h.host = j.at("host").get<std::string>();
      h.pid = j.at("pid").get<int64_t>();
      h.kind = j.at("kind").get<std::string>();
      h.time = j.at("time").get<int64_t>();
    } catch (const std::exception&) {
      continue;  // a lock being written by a non-atomic backend; ignore
    }
    bool dead =
        h.host == host && h.pid > 0 && ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH;
    if (dead || NowSeconds() - h.time > options.stale_after.count()) {
      (void)backend.Delete(o.name);  // stale: its owner is gone
      continue;
    }
    if (Conflicts(kind, h.kind)) out.push_back(h);
  }
  return out;
}

}  // namespace

Result<std::vector<LockInfo>> ListLocks(storage::Backend& backend, std::chrono::seconds stale_after,
                                        int64_t now) {
  VELIN_ASSIGN(auto objects, backend.List("locks/"));
  std::sort(objects.begin(), objects.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  const std::string host = HostName();
  std::vector<LockInfo> out;
  for (const auto& o : objects) {
    auto text = backend.Get(o.name);
    if (!text) continue;  // released meanwhile
    LockInfo info;
    info.name = o.name;
    try {
      auto j = nlohmann::json::parse(*text);
      info.host = j.at("host").get<std::string>();
      info.pid = j.at("pid").get<int64_t>();
      info.kind = j.at("kind").get<std::string>();
      info.time = j.at("time").get<int64_t>();
    } catch (const std::exception&) {
      info.readable = false;
      out.push_back(info);
      continue;
    }
    const bool dead = info.host == host && info.pid > 0 &&
                      ::kill(static_cast<pid_t>(info.pid), 0) != 0 && errno == ESRCH;
    info.stale = dead || now - info.time > stale_after.count();
    out.push_back(info);
  }
  return out;
}

RepoLock::RepoLock(storage::Backend& backend, std::string name, std::string host,
                   LockOptions options)
    : backend_(backend), name_(std::move(name)), host_(std::move(host)), options_(options) {}

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(storage::Backend& backend, LockKind kind,
                                                    const LockOptions& options) {
  const std::string host = HostName();
  std::string nonce(8, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), 8);
  const std::string name =
      std::string("locks/") + KindName(kind) + "-" + Sha256(nonce).Hex().substr(0, 16);
  const auto deadline = std::chrono::steady_clock::now() + options.wait;
  std::mt19937 rng(static_cast<unsigned>(getpid()));
  for (;;) {
    VELIN_TRY(backend.Put(name, LockBody(kind, host)));
    auto conflicts = LiveConflicts(backend, kind, name, host, options);
    if (!conflicts) {
      (void)backend.Delete(name);
      return tl::unexpected(conflicts.error());
    }
    if (conflicts->empty()) {
      auto lock = std::unique_ptr<RepoLock>(new RepoLock(backend, name, host, options));
      lock->kind_ = kind;
      lock->refresher_ = std::thread([l = lock.get()] { l->RefreshLoop(); });
      return lock;
    }
    // Two commit locks seeing each other: the smaller name keeps its lock and the other backs
    // off, so one always gets through. The keeper still waits until the other lock is gone:
    // the other may have listed before this lock existed, seen nothing, and gone ahead.
    bool keep = kind == LockKind::kCommit;
    for (const auto& h : *conflicts) keep = keep && name < h.name;
    const bool late = std::chrono::steady_clock::now() >= deadline;
    if (keep && !late) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 20));
      continue;
    }
    (void)backend.Delete(name);
    if (late) {
      return MakeError(ExitCode::kLocked, "repository " + backend.Location() + " is locked by " +
                                              conflicts->front().Describe() + " (" +
                                              conflicts->front().name +
                                              "); retry later or pass --lock-wait");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 200));
  }
}

void RepoLock::RefreshLoop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.refresh_every, [&] { return stop_; })) {
    (void)backend_.Put(name_, LockBody(kind_, host_));
  }
}

RepoLock::~RepoLock() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  (void)backend_.Delete(name_);
}

}  // namespace velin::repo
