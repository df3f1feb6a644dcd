// The random action engine of issue 16 (docs/reliability.md, "Torture"): a seeded loop over the
// real velin binary. Each round starts 2-4 velin commands at once (create, forget, prune, copy,
// restore whole and --only, restore of the SQLite stream, verify, key add / passwd on the
// encrypted repository), or mutates the source tree and database between creates, and kills
// some commands at random instants: with SIGKILL, or with SIGTERM (a third of the kills), which
// velin turns into a clean stop of a backup, a restore or a verify and holds during a switch
// (core/termination.hpp); either way the command counts as killed. After every round with a kill,
// every few rounds, and at the end it checks the invariants:
//  - a lock of a killed process is removed by `unlock --stale`, and no other lock remains;
//  - every backup reported committed (exit 0 with its id) is listed, unless a forget the engine
//    ran may have removed it (keep_last: at least K newer backups are listed);
//  - `verify --all` passes on the repository and on the copy target;
//  - every backup restores byte-identical to the tree and database the create saw;
//  - a restore that was killed, rerun into the same target, gives the identical tree;
//  - a later create and prune succeed; no temp files remain in the repositories afterwards.
// A failure prints the seed and the round, and exits 1. Usage:
//   velin_torture [--seconds N] [--seed S] [--backend local|s3|sftp] [--keep DIR]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace velin::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr int kKeepLast = 5;
constexpr const char* kPassEnv = "TORTURE_PASSPHRASE";
constexpr const char* kNewPassEnv = "TORTURE_NEW_PASSPHRASE";

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

enum class Kind {
  kCreateFull,
  kCreateIncr,
  kForget,
  kPrune,
  kCopy,
  kRestore,
  kRestoreOnly,
  kRestoreDb,
  kVerify,
  kVerifyAll,
  kKeyAdd,
  kKeyPasswd,
};

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kCreateFull:
      return "create-full";
    case Kind::kCreateIncr:
      return "create-incr";
    case Kind::kForget:
      return "forget";
    case Kind::kPrune:
      return "prune";
    case Kind::kCopy:
      return "copy";
    case Kind::kRestore:
      return "restore";
    case Kind::kRestoreOnly:
      return "restore-only";
    case Kind::kRestoreDb:
      return "restore-db";
    case Kind::kVerify:
      return "verify";
    case Kind::kVerifyAll:
      return "verify-all";
    case Kind::kKeyAdd:
      return "key-add";
    case Kind::kKeyPasswd:
      return "key-passwd";
  }
  return "?";
}

bool IsCreate(Kind k) { return k == Kind::kCreateFull || k == Kind::kCreateIncr; }

// What a create saw: the storage tree (DescribeTree) and the database (sqlite3 .dump).
struct Manifest {
  std::string tree;
  std::string dump;
};

struct Backup {
  std::shared_ptr<const Manifest> manifest;
  int round = 0;
  bool reported = false;  // exit 0 with its id (else found in the listing after a kill)
  bool forgotten = false;
};

// One running velin.
struct Running {
  Kind kind;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string out_path, err_path;
  pid_t pid = -1;
  Clock::time_point start;
  std::optional<Clock::time_point> kill_at;
  int kill_signal = SIGKILL;
  bool killed = false;
  int exit_code = -1;
  double seconds = 0;
  // action parameters
  std::string id, target, only, db_name, new_pass, old_pass;
};

struct Stats {
  long actions = 0, kills = 0, term_kills = 0, killed_exited_first = 0, rounds = 0,
       concurrent_rounds = 0;
  long checks = 0, restores_compared = 0, locked = 0, unlocks = 0, mutations = 0;
  long committed = 0, committed_unreported = 0, forgotten = 0;
  std::map<std::string, long> by_kind, kills_by_kind, temp_files_left;
};

class Torture {
 public:
  Torture(uint64_t seed, int seconds, std::string backend, std::string workdir)
      : seconds_(seconds), backend_(std::move(backend)), rng_(seed), work_(std::move(workdir)) {}

  int Run();
  const Stats& stats() const { return stats_; }

 private:
  // setup
  void StartBackend();
  void WriteConfig();
  std::map<std::string, std::string> BaseEnv(const std::string& pass) const;
  // processes
  pid_t Spawn(Running& r);
  std::pair<int, std::string> RunSync(std::vector<std::string> args, const std::string& pass = "",
                                      std::map<std::string, std::string> extra = {},
                                      int timeout_s = 300);
  Json RunJson(std::vector<std::string> args, std::set<int> ok = {0}, const std::string& pass = "");
  // rounds
  void Round();
  void Mutate();
  Manifest Capture();
  // The backups this round's commands may restore, verify or copy (listed once a round).
  std::vector<std::string> RoundIds(int creates_in_round, bool forget_in_round);
  std::optional<Running> Plan(Kind k, const std::vector<std::string>& live, bool forget_in_round);
  void Finish(Running& r);
  void Committed(const std::string& id, bool reported);
  void CheckAfter(bool after_kill, const std::vector<Running>& killed, bool full);
  void CompareTree(const std::string& what, const std::string& expected, const std::string& actual);
  // `manifest`: what the restored backup holds (default: the backup of `id` in the repository).
  void CheckRestore(const std::string& id, const std::string& target, const std::string& only,
                    const Manifest* manifest = nullptr);
  void CheckRestoreDb(const std::string& id, const std::string& db_name);
  enum class TempRule { kStrict, kByAge };
  void NoTempFiles(const std::string& where, TempRule rule);
  std::vector<std::string> ListIds(const std::string& dest,
                                   std::map<std::string, std::string>* times);
  void Fail(const std::string& what) const {
    throw Failure("round " + std::to_string(stats_.rounds) + ": " + what);
  }
  std::string Url() const { return url_; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }
  int Rand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Rand01() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  std::string NewPassphrase() { return "pass-" + std::to_string(rng_()); }
  std::vector<std::string> LiveIds() const;  // known, not forgotten, oldest first

  int seconds_;
  std::string backend_;
  std::mt19937_64 rng_;
  std::string work_;
  std::unique_ptr<S3Server> s3_;
  std::unique_ptr<SshServer> ssh_;
  std::string url_, copy_url_, storage_config_;
  std::string main_pass_;
  std::vector<std::string> extra_passes_;  // passphrases of keys added by key add / passwd
  std::shared_ptr<const Manifest> current_;
  std::map<std::string, Backup> backups_;     // the main repository
  std::map<std::string, std::string> times_;  // id -> time (from list)
  std::vector<std::string> order_;            // ids in commit order (as first seen)
  std::set<std::string> copied_;              // the copy's ids of the backups reported copied
  // What the copy holds under each id: the backup of that id when it was first copied. A forget
  // frees an id and a create of the same minute may take it again; `backup copy` leaves the
  // copy's older backup of that id in place and stores the newer one under the next free id of
  // its minute there, reported in "renamed" (that copy's, or any later copy's of it).
  std::map<std::string, std::shared_ptr<const Manifest>> copy_manifests_;
  void NoteCopied(const std::string& id, const Json& copy_output) {
    std::string as = id;
    for (const auto& r : copy_output.value("renamed", Json::array())) {
      if (r.value("id", "") == id) as = r.value("as", "");
    }
    copied_.insert(as);
    if (backups_.count(id)) copy_manifests_.try_emplace(as, backups_[id].manifest);
  }
  int last_forget_round_ = -1;
  std::map<std::string, std::string> killed_restores_;  // target -> id|only
  std::map<Kind, double> avg_seconds_;
  std::set<std::string> temp_files_;
  int seq_ = 0;
  int files_ = 0;
  Stats stats_;
};

void Torture::StartBackend() {
  if (backend_ == "local") {
    url_ = work_ + "/repo";
  } else if (backend_ == "s3") {
    s3_ = std::make_unique<S3Server>();
    url_ = "s3://bkt/torture";
    storage_config_ = "\n[storage.s3]\nendpoint = \"" + s3_->endpoint() +
                      "\"\nregion = \"us-east-1\"\npath_style = true\n";
  } else if (backend_ == "sftp") {
    ssh_ = std::make_unique<SshServer>();
    url_ = ssh_->Url(ssh_->files_dir() + "/repo");
    storage_config_ = ssh_->StorageConfig();
  } else {
    throw Failure("unknown backend " + backend_ + " (local, s3 or sftp)");
  }
  copy_url_ = work_ + "/copy";
}

void Torture::WriteConfig() {
  WriteFile(work_ + "/velin.toml",
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\", \"db\"]\ndestination = \"" +
                url_ + "\"\nencryption = \"aes-256-gcm\"\npassword_env = \"" + kPassEnv +
                "\"\nkeep_last = " + std::to_string(kKeepLast) + "\nprune_after_create = false" +
                "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n" + storage_config_);
}

std::map<std::string, std::string> Torture::BaseEnv(const std::string& pass) const {
  std::map<std::string, std::string> env{{kPassEnv, pass.empty() ? main_pass_ : pass},
                                         {"VELIN_CACHE_DIR", work_ + "/cache"},
                                         {"LC_ALL", "C"}};
  if (s3_) {
    env["AWS_ACCESS_KEY_ID"] = S3Server::kAccessKey;
    env["AWS_SECRET_ACCESS_KEY"] = S3Server::kSecretKey;
  }
  return env;
}

pid_t Torture::Spawn(Running& r) {
  std::vector<std::string> argv{VelinBinary()};
  argv.insert(argv.end(), r.args.begin(), r.args.end());
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : r.env) env[k] = v;
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, r.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, r.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addchdir_np(&fa, work_.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own group (the kills reach velin only), and SIGTERM at its default action whatever this
  // process inherited, as a shell starts a foreground command.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Failure("cannot start velin: " + std::string(strerror(rc)));
  r.pid = pid;
  r.start = Clock::now();
  return pid;
}

std::pair<int, std::string> Torture::RunSync(std::vector<std::string> args, const std::string& pass,
                                             std::map<std::string, std::string> extra,
                                             int timeout_s) {
  Running r;
  r.args = std::move(args);
  r.env = BaseEnv(pass);
  for (auto& [k, v] : extra) r.env[k] = v;
  r.out_path = work_ + "/log/sync.out";
  r.err_path = work_ + "/log/sync.err";
  Spawn(r);
  ++stats_.actions;
  int status = 0;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (true) {
    pid_t w = waitpid(r.pid, &status, WNOHANG);
    if (w == r.pid) break;
    if (Clock::now() > deadline) {
      kill(-r.pid, SIGKILL);
      waitpid(r.pid, &status, 0);
      std::string cmd;
      for (const auto& a : r.args) cmd += " " + a;
      Fail("velin" + cmd + " did not finish within " + std::to_string(timeout_s) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, ReadAll(r.out_path) + ReadAll(r.err_path)};
}

Json Torture::RunJson(std::vector<std::string> args, std::set<int> ok, const std::string& pass) {
  args.push_back("--json");
  std::string cmd;
  for (const auto& a : args) cmd += " " + a;
  auto [code, output] = RunSync(args, pass);
  if (!ok.count(code)) {
    Fail("velin" + cmd + " exited " + std::to_string(code) + ":\n" + output);
  }
  // The first document: `backup status --json` with a problem (exit 1) prints its report and
  // then an error document.
  std::istringstream in(ReadAll(work_ + "/log/sync.out"));
  Json j;
  try {
    in >> j;
  } catch (const std::exception&) {
    Fail("velin" + cmd + " printed no JSON:\n" + output);
  }
  return j;
}

Manifest Torture::Capture() {
  Manifest m;
  m.tree = DescribeTree(work_ + "/app/storage");
  auto dump = RunProgram({"sqlite3", work_ + "/app/var/app.db", ".dump"});
  if (dump.exit_code != 0) Fail("sqlite3 .dump failed: " + dump.err);
  m.dump = dump.out;
  return m;
}

// Changes the source tree and the database; only between creates (no create runs now).
void Torture::Mutate() {
  ++stats_.mutations;
  const std::string root = work_ + "/app/storage";
  std::vector<std::string> files, dirs{root};
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_symlink()) continue;
    if (it->is_directory())
      dirs.push_back(it->path());
    else if (it->is_regular_file())
      files.push_back(it->path());
  }
  int ops = Rand(1, 6);
  for (int i = 0; i < ops; ++i) {
    int op = Rand(0, 9);
    if (files.empty()) op = 0;
    const std::string dir = Pick(dirs);
    if (op <= 2 || files.size() < 8) {  // new file
      size_t size = Rand01() < 0.1 ? Rand(1 << 20, 3 << 20) : Rand(0, 64 << 10);
      std::string name = dir + "/f" + std::to_string(++files_);
      WriteFile(name, RandomData(size, static_cast<unsigned>(rng_())),
                Rand01() < 0.2 ? 0600 : 0644);
      files.push_back(name);
    } else if (op == 3 && files.size() > 8) {  // delete
      const std::string f = Pick(files);
      fs::remove(f);
      files.erase(std::find(files.begin(), files.end(), f));
    } else if (op == 4) {  // change part of a file
      const std::string f = Pick(files);
      std::string data = ReadAll(f);
      if (data.empty()) data = "x";
      size_t at = Rand(0, static_cast<int>(data.size()) - 1);
      std::string patch = RandomData(std::min<size_t>(Rand(1, 4096), data.size() - at), rng_());
      data.replace(at, patch.size(), patch);
      std::ofstream(f, std::ios::binary | std::ios::trunc) << data;
    } else if (op == 5) {  // append
      std::ofstream(Pick(files), std::ios::binary | std::ios::app)
          << RandomData(Rand(1, 20000), rng_());
    } else if (op == 6 && dirs.size() < 12) {
      fs::create_directories(dir + "/d" + std::to_string(++files_));
    } else if (op == 7) {  // symlink or hardlink
      const std::string f = Pick(files);
      std::string name = dir + "/l" + std::to_string(++files_);
      if (Rand01() < 0.5) {
        fs::create_symlink(fs::path(f).filename(), name);
      } else {
        fs::create_hard_link(f, name);
      }
    } else if (op == 8) {  // rename
      const std::string f = Pick(files);
      std::string to = Pick(dirs) + "/r" + std::to_string(++files_);
      fs::rename(f, to);
      *std::find(files.begin(), files.end(), f) = to;
    } else {
      chmod(Pick(files).c_str(), Rand01() < 0.5 ? 0640 : 0644);
    }
  }
  // The database: a few rows in, some out, some changed.
  std::string sql = "BEGIN;";
  for (int i = Rand(0, 20); i > 0; --i) {
    sql += "INSERT INTO t (v) VALUES ('" + std::to_string(rng_()) + "');";
  }
  if (Rand01() < 0.4) sql += "DELETE FROM t WHERE id % " + std::to_string(Rand(3, 9)) + " = 0;";
  if (Rand01() < 0.4) sql += "UPDATE t SET v = v || 'u' WHERE id % 4 = 1;";
  sql += "COMMIT;";
  auto r = RunProgram({"sqlite3", work_ + "/app/var/app.db", sql});
  if (r.exit_code != 0) Fail("sqlite3 failed: " + r.err);
  current_ = std::make_shared<Manifest>(Capture());
}

std::vector<std::string> Torture::LiveIds() const {
  std::vector<std::string> out;
  for (const auto& id : order_) {
    const Backup& b = backups_.at(id);
    if (!b.forgotten) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Torture::RoundIds(int creates_in_round, bool forget_in_round) {
  auto live = LiveIds();
  // With a forget in the round, restore and verify only backups it cannot remove, even when
  // every create of the round commits first. "Newest" as the forget ranks them: by start time
  // (docs/operations.md). The engine's order differs: two creates of one round commit in either
  // order, and a killed create's backup is seen only at the next check. (Before snapshots
  // recorded nanoseconds, a full begun after an incremental in the same second also ranked as
  // the older, which is how the smoke run once restored a backup its forget had removed.)
  if (forget_in_round) {
    std::set<std::string> known(live.begin(), live.end());
    live.clear();
    for (const auto& id : ListIds(url_, nullptr)) {  // oldest first, as the forget ranks
      if (known.count(id)) live.push_back(id);
    }
    size_t safe = static_cast<size_t>(std::max(1, kKeepLast - creates_in_round - 1));
    if (live.size() > safe) live.erase(live.begin(), live.end() - static_cast<long>(safe));
  }
  return live;
}

std::optional<Running> Torture::Plan(Kind k, const std::vector<std::string>& live,
                                     bool forget_in_round) {
  Running r;
  r.kind = k;
  r.env = BaseEnv("");
  std::vector<std::string> lock_wait;
  if (Rand01() < 0.5) lock_wait = {"--lock-wait", "5s"};
  const int n = ++seq_;
  switch (k) {
    case Kind::kCreateFull:
    case Kind::kCreateIncr:
      r.args = {"backup", "create", "--json", "--strategy",
                k == Kind::kCreateFull ? "full" : "incremental"};
      break;
    case Kind::kForget:
      r.args = {"backup", "forget", "--json"};
      break;
    case Kind::kPrune:
      r.args = {"backup", "prune", "--json"};
      break;
    case Kind::kCopy:
      if (live.empty()) return std::nullopt;
      r.args = {"backup", "copy", "--json", "--to", copy_url_};
      if (Rand01() < 0.5) {
        r.args.push_back("--all");
      } else {
        r.id = Pick(live);
        r.args.push_back(r.id);
      }
      break;
    case Kind::kRestore:
    case Kind::kRestoreOnly: {
      if (live.empty()) return std::nullopt;
      r.id = Pick(live);
      r.target = work_ + "/restores/r" + std::to_string(n);
      r.args = {"backup", "restore", r.id, "--json", "--target", r.target};
      if (k == Kind::kRestoreOnly) {
        // A path the backup holds: a directory or file of its manifest.
        std::vector<std::string> paths;
        std::istringstream lines(backups_.at(r.id).manifest->tree);
        for (std::string line; std::getline(lines, line);) {
          paths.push_back(line.substr(1, line.find(" mode=") - 1));
        }
        if (paths.empty()) return std::nullopt;
        r.only = Pick(paths);
        r.args.insert(r.args.end(), {"--only", "storage/" + r.only});
      }
      break;
    }
    case Kind::kRestoreDb:
      if (live.empty()) return std::nullopt;
      r.id = Pick(live);
      r.db_name = "var/restored-" + std::to_string(n) + ".db";
      r.args = {"backup", "restore", r.id, "--json", "--only", "db", "--database", r.db_name};
      break;
    case Kind::kVerify:
      if (live.empty()) return std::nullopt;
      r.id = Pick(live);
      r.args = {"backup", "verify", r.id, "--json"};
      break;
    case Kind::kVerifyAll:
      if (forget_in_round) return std::nullopt;  // a backup may go while it is checked
      r.args = {"backup", "verify", "--all", "--json"};
      break;
    case Kind::kKeyAdd:
      if (extra_passes_.size() >= 3) return std::nullopt;
      r.new_pass = NewPassphrase();
      r.env[kNewPassEnv] = r.new_pass;
      r.args = {"backup", "key", "add", "--json", "--new-password-env", kNewPassEnv};
      break;
    case Kind::kKeyPasswd:
      if (extra_passes_.empty()) return std::nullopt;
      r.old_pass = Pick(extra_passes_);
      r.new_pass = NewPassphrase();
      // The passphrase being replaced is taken out of use until the command ends.
      extra_passes_.erase(std::find(extra_passes_.begin(), extra_passes_.end(), r.old_pass));
      r.env[kPassEnv] = r.old_pass;
      r.env[kNewPassEnv] = r.new_pass;
      r.args = {"backup", "key", "passwd", "--json", "--new-password-env", kNewPassEnv};
      break;
  }
  if (k != Kind::kRestore && k != Kind::kRestoreOnly && k != Kind::kRestoreDb &&
      k != Kind::kVerify && k != Kind::kVerifyAll && k != Kind::kKeyAdd && k != Kind::kKeyPasswd) {
    r.args.insert(r.args.end(), lock_wait.begin(), lock_wait.end());
  }
  r.out_path = work_ + "/log/a" + std::to_string(n) + ".out";
  r.err_path = work_ + "/log/a" + std::to_string(n) + ".err";
  return r;
}

void Torture::CompareTree(const std::string& what, const std::string& expected,
                          const std::string& actual) {
  if (expected == actual) return;
  std::istringstream a(expected), b(actual);
  std::string la, lb, diff;
  std::set<std::string> sa, sb;
  while (std::getline(a, la)) sa.insert(la);
  while (std::getline(b, lb)) sb.insert(lb);
  for (const auto& l : sa) {
    if (!sb.count(l)) diff += "  - " + l + "\n";
  }
  for (const auto& l : sb) {
    if (!sa.count(l)) diff += "  + " + l + "\n";
  }
  Fail(what + " differs from what the create saw:\n" + diff.substr(0, 3000));
}

// `only` empty: the whole storage tree; else the entry `only` (relative to storage) and below.
// A hardlink's partner outside the --only path is not restored, so with --only the link
// groups (" link=…") are not compared, only each file's own attributes and content.
std::string Within(const std::string& tree, const std::string& only) {
  std::string out;
  std::istringstream lines(tree);
  for (std::string line; std::getline(lines, line);) {
    std::string rel = line.substr(0, line.find(" mode="));
    if (!only.empty() && rel != "/" + only && rel.rfind("/" + only + "/", 0) != 0) continue;
    if (!only.empty() && line.find(" link=") != std::string::npos) {
      line = line.substr(0, line.find(" link="));
    }
    out += line + "\n";
  }
  return out;
}

void Torture::CheckRestore(const std::string& id, const std::string& target,
                           const std::string& only, const Manifest* manifest) {
  ++stats_.restores_compared;
  if (manifest == nullptr) manifest = backups_.at(id).manifest.get();
  std::string expected = Within(manifest->tree, only);
  // --only also creates the directories above the path; those are not compared.
  std::string actual =
      fs::exists(target + "/storage") ? Within(DescribeTree(target + "/storage"), only) : "";
  CompareTree(
      "restore of " + id + (only.empty() ? "" : " --only storage/" + only) + " into " + target,
      expected, actual);
}

void Torture::CheckRestoreDb(const std::string& id, const std::string& db_name) {
  ++stats_.restores_compared;
  auto dump = RunProgram({"sqlite3", work_ + "/app/" + db_name, ".dump"});
  if (dump.exit_code != 0) Fail("sqlite3 .dump of the restored " + db_name + ": " + dump.err);
  if (dump.out != backups_.at(id).manifest->dump) {
    Fail("database restored from " + id + " into " + db_name + " differs from what the create saw");
  }
  fs::remove(work_ + "/app/" + db_name);
}

// The pid of the writer a local temp name carries ("<name>.tmp-PID-TAG-N"), when it is one.
std::optional<long> TempWriterPid(const std::string& name) {
  const size_t marker = name.rfind(".tmp-");
  if (marker == std::string::npos) return std::nullopt;
  const std::string rest = name.substr(marker + 5);
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash > 10) return std::nullopt;
  for (size_t i = 0; i < dash; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return std::nullopt;
  }
  return std::stol(rest.substr(0, dash));
}

// Whether `pid` is a velin process still running (a writer whose temp file may stay).
bool VelinRunning(long pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  return comm && std::getline(comm, name) && name == "velin";
}

// After a successful create and prune, no temp file of a dead writer may remain in the
// repository they ran on (`kStrict`): locally each temp name carries its writer's pid, and
// create and prune remove those of dead ones, so one left is an inconsistency unless its writer
// still runs. A file server's temp names carry no pid: velin removes them once older than an
// hour by the server's clock (storage::kStaleTempAge), so there (`kByAge`) younger ones are
// counted and an older one is an inconsistency. A successful `backup copy` sweeps its (local)
// target the same way, so the copy target is held to `kStrict` after the check's copy.
void Torture::NoTempFiles(const std::string& where, TempRule rule) {
  if (where.empty() || !fs::exists(where)) return;
  for (auto it = fs::recursive_directory_iterator(where); it != fs::recursive_directory_iterator();
       ++it) {
    std::string name = it->path().filename().string();
    if (name.find(".tmp-") == std::string::npos) continue;
    const std::string path = it->path().string();
    std::optional<long> pid = TempWriterPid(name);
    if (pid && VelinRunning(*pid)) continue;  // a writer still at work
    if (rule == TempRule::kStrict) {
      Fail("temp file left after a successful create and prune (its writer " +
           (pid ? "pid " + std::to_string(*pid) + " is gone" : std::string("is unknown")) +
           "): " + path);
    }
    std::error_code ec;
    auto mtime = fs::last_write_time(it->path(), ec);
    if (rule == TempRule::kByAge && !ec &&
        fs::file_time_type::clock::now() - mtime > std::chrono::seconds(3600 + 60)) {
      Fail("temp file older than an hour left after a successful create and prune: " + path);
    }
    if (temp_files_.insert(path).second) {
      std::string dir = it->path().parent_path().filename().string();
      ++stats_.temp_files_left["server:" + dir];
      std::printf("torture: round %ld: temp file of a killed writer left %s: %s\n", stats_.rounds,
                  "on the file server", path.c_str());
      std::fflush(stdout);
    }
  }
}

std::vector<std::string> Torture::ListIds(const std::string& dest,
                                          std::map<std::string, std::string>* times) {
  Json j = RunJson({"backup", "list", "--destination", dest});
  std::vector<std::string> ids;
  for (const auto& b : j.value("backups", Json::array())) {
    ids.push_back(b.value("id", ""));
    if (times) (*times)[ids.back()] = b.value("time", "");
  }
  return ids;
}

// A backup committed now, with what this round's creates saw. An id a forget freed may be taken
// again by a create in the same minute: then it is a new backup.
void Torture::Committed(const std::string& id, bool reported) {
  Backup& b = backups_[id];
  order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
  order_.push_back(id);
  times_.erase(id);
  b = Backup{current_, static_cast<int>(stats_.rounds), reported, false};
  ++(reported ? stats_.committed : stats_.committed_unreported);
}

void Torture::Finish(Running& r) {
  const std::string out = ReadAll(r.out_path);
  const std::string err = ReadAll(r.err_path);
  std::string cmd;
  for (const auto& a : r.args) cmd += " " + a;
  // For a replay: what ran, how it ended.
  std::ofstream(r.out_path.substr(0, r.out_path.size() - 4) + ".cmd")
      << "round " << stats_.rounds << ":" << cmd << "\nexit " << r.exit_code
      << (r.killed ? " (killed)" : "") << " after " << r.seconds << " s\n";
  ++stats_.by_kind[KindName(r.kind)];
  if (r.killed) {
    ++stats_.kills;
    if (r.kill_signal == SIGTERM) ++stats_.term_kills;
    ++stats_.kills_by_kind[KindName(r.kind)];
    if (r.exit_code != 128 + r.kill_signal) ++stats_.killed_exited_first;
  }
  if (r.kind == Kind::kKeyPasswd) {
    // Killed: the new key is written first, so the old or the new passphrase opens; keep the
    // one that does (checked in CheckAfter).
    if (r.exit_code == 0) {
      extra_passes_.push_back(r.new_pass);
    } else if (r.killed || r.exit_code == 3) {
      for (const auto& p : {r.new_pass, r.old_pass}) {
        auto [code, output] = RunSync({"backup", "key", "list", "--json"}, p);
        if (code == 0) {
          extra_passes_.push_back(p);
          break;
        }
        if (code != 2)
          Fail("key list after a killed key passwd exited " + std::to_string(code) + ":\n" +
               output);
      }
      if (std::find(extra_passes_.begin(), extra_passes_.end(), r.old_pass) ==
              extra_passes_.end() &&
          std::find(extra_passes_.begin(), extra_passes_.end(), r.new_pass) ==
              extra_passes_.end()) {
        Fail("after" + cmd + " (" + (r.killed ? "killed" : "exit 3") +
             ") neither the old nor the new passphrase opens the repository");
      }
      if (r.exit_code == 3) ++stats_.locked;
      return;
    }
  }
  if (r.killed && r.exit_code == 128 + r.kill_signal) {
    if (!r.target.empty()) killed_restores_[r.target] = r.id + "|" + r.only;
    if (r.kind == Kind::kKeyAdd) {
      auto [code, output] = RunSync({"backup", "key", "list", "--json"}, r.new_pass);
      if (code == 0) extra_passes_.push_back(r.new_pass);
    }
    if (r.kind == Kind::kForget) last_forget_round_ = static_cast<int>(stats_.rounds);
    return;
  }
  if (r.exit_code == 3) {  // locked by another command of the round (or a killed one)
    ++stats_.locked;
    return;
  }
  if (r.exit_code != 0) {
    Fail("velin" + cmd + " exited " + std::to_string(r.exit_code) + ":\n" + out + err);
  }
  auto j = Json::parse(out, nullptr, false);
  if (j.is_discarded()) Fail("velin" + cmd + " printed no JSON:\n" + out + err);
  switch (r.kind) {
    case Kind::kCreateFull:
    case Kind::kCreateIncr: {
      std::string id = j.value("id", "");
      if (id.empty()) Fail("create reported no id: " + out);
      if (backups_.count(id) && !backups_[id].forgotten &&
          last_forget_round_ < backups_[id].round) {
        Fail("create reported id " + id + " twice");
      }
      Committed(id, true);
      break;
    }
    case Kind::kForget:
      last_forget_round_ = static_cast<int>(stats_.rounds);
      for (const auto& id : j.value("forgotten", Json::array())) {
        auto it = backups_.find(id.get<std::string>());
        if (it == backups_.end()) continue;  // a killed create's backup not listed yet
        it->second.forgotten = true;
        ++stats_.forgotten;
      }
      break;
    case Kind::kCopy:
      if (r.id.empty()) {
        for (const auto& id : LiveIds()) {
          if (backups_[id].round < static_cast<int>(stats_.rounds)) NoteCopied(id, j);
        }
      } else {
        NoteCopied(r.id, j);
      }
      break;
    case Kind::kRestore:
    case Kind::kRestoreOnly:
      CheckRestore(r.id, r.target, r.only);
      fs::remove_all(r.target);
      break;
    case Kind::kRestoreDb:
      CheckRestoreDb(r.id, r.db_name);
      break;
    case Kind::kKeyAdd:
      extra_passes_.push_back(r.new_pass);
      break;
    default:
      break;
  }
}

void Torture::Round() {
  ++stats_.rounds;
  static const std::vector<Kind> kinds{Kind::kCreateFull,  Kind::kCreateIncr, Kind::kCreateIncr,
                                       Kind::kCreateIncr,  Kind::kForget,     Kind::kPrune,
                                       Kind::kCopy,        Kind::kRestore,    Kind::kRestoreOnly,
                                       Kind::kRestoreOnly, Kind::kRestoreDb,  Kind::kVerify,
                                       Kind::kVerifyAll,   Kind::kKeyAdd,     Kind::kKeyPasswd};
  const bool mutate = Rand01() < 0.3;
  if (mutate) Mutate();
  int n = Rand(2, 4);
  std::vector<Kind> chosen;
  for (int tries = 0; static_cast<int>(chosen.size()) < n && tries < 50; ++tries) {
    Kind k = backups_.empty() && chosen.empty() ? Kind::kCreateFull : Pick(kinds);
    chosen.push_back(k);
  }
  int creates = static_cast<int>(std::count_if(chosen.begin(), chosen.end(), IsCreate));
  bool forget = std::find(chosen.begin(), chosen.end(), Kind::kForget) != chosen.end();
  const std::vector<std::string> live = RoundIds(creates, forget);
  std::vector<Running> running;
  for (Kind k : chosen) {
    auto r = Plan(k, live, forget);
    if (!r) continue;
    if (Rand01() < 0.35) {
      double avg = avg_seconds_.count(k) ? avg_seconds_[k] : 1.0;
      // Anywhere in the run, a little beyond its usual end too (then it exits first).
      r->kill_at =
          Clock::now() + std::chrono::microseconds(static_cast<long>((0.1 + Rand01()) * avg * 1e6));
      r->kill_signal = Rand01() < 1.0 / 3 ? SIGTERM : SIGKILL;
    }
    running.push_back(std::move(*r));
  }
  if (running.size() > 1) ++stats_.concurrent_rounds;
  for (auto& r : running) {
    Spawn(r);
    ++stats_.actions;
    if (r.kill_at) r.kill_at = r.start + (*r.kill_at - Clock::now());
  }
  size_t done = 0;
  auto deadline = Clock::now() + std::chrono::seconds(300);
  while (done < running.size()) {
    for (auto& r : running) {
      if (r.exit_code >= 0) continue;
      if (r.kill_at && !r.killed && Clock::now() >= *r.kill_at) {
        kill(-r.pid, r.kill_signal);
        r.killed = true;
      }
      int status = 0;
      if (waitpid(r.pid, &status, WNOHANG) == r.pid) {
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
        if (!r.killed && r.exit_code == 0) {
          double& avg = avg_seconds_[r.kind];
          avg = avg == 0 ? r.seconds : 0.7 * avg + 0.3 * r.seconds;
        }
        ++done;
      }
    }
    if (Clock::now() > deadline) {
      for (auto& r : running) {
        if (r.exit_code < 0) kill(-r.pid, SIGKILL);
      }
      Fail("a velin command hung for 300 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Forgets first: a create of the same round may take again an id the forget freed.
  std::stable_partition(running.begin(), running.end(),
                        [](const Running& r) { return r.kind == Kind::kForget; });
  std::vector<Running> killed;
  for (auto& r : running) {
    Finish(r);
    if (r.killed && r.exit_code == 128 + r.kill_signal) killed.push_back(r);
  }
  if (!killed.empty() || stats_.rounds % 10 == 0) CheckAfter(!killed.empty(), killed, false);
}

// The invariants. `full`: restore every backup (the end of the run); else a sample.
void Torture::CheckAfter(bool after_kill, const std::vector<Running>& killed, bool full) {
  ++stats_.checks;
  // 1. Locks: only killed processes may hold one; unlock --stale removes exactly those.
  for (const std::string& dest : {url_, copy_url_}) {
    if (dest == copy_url_ && !fs::exists(copy_url_ + "/config")) continue;
    Json status = RunJson({"backup", "status", "--destination", dest}, {0, 1});
    std::set<long> killed_pids;
    for (const auto& r : killed) killed_pids.insert(r.pid);
    bool stale = false;
    for (const auto& lock : status.value("locks", Json::array())) {
      long pid = lock.value("pid", 0L);
      if (!killed_pids.count(pid)) {
        Fail("lock " + lock.dump() + " on " + dest + " is held by no killed process");
      }
      stale = true;
    }
    if (stale) {
      ++stats_.unlocks;
      Json u = RunJson({"backup", "unlock", "--stale", "--destination", dest});
      if (u.value("remaining", -1L) != 0) Fail("unlock --stale left locks: " + u.dump());
    }
  }
  // 2. Every reported backup is listed unless a forget may have removed it.
  std::map<std::string, std::string> times;
  auto ids = ListIds(url_, &times);
  std::set<std::string> listed(ids.begin(), ids.end());
  const bool killed_create =
      std::any_of(killed.begin(), killed.end(), [](const Running& r) { return IsCreate(r.kind); });
  for (const auto& id : ids) {
    if (!backups_.count(id)) {  // committed by a killed create of this round
      if (!killed_create) Fail("backup " + id + " appeared though no create was killed");
      Committed(id, false);
    } else if (backups_[id].forgotten) {
      // A killed create of this round committed under the id a forget freed.
      if (!killed_create) Fail("backup " + id + " was forgotten but is still listed");
      Committed(id, false);
    }
  }
  for (auto& [id, b] : backups_) {
    if (listed.count(id) || b.forgotten) continue;
    long newer = 0;
    const std::string& t = times_.count(id) ? times_[id] : std::string();
    for (const auto& other : ids) {
      if (other != id && times[other] >= t) ++newer;
    }
    if (last_forget_round_ >= b.round && newer >= kKeepLast) {
      b.forgotten = true;  // a killed forget removed it (it was not among the newest)
      ++stats_.forgotten;
      continue;
    }
    Fail("backup " + id + (b.reported ? " (reported committed)" : "") +
         " is missing from the listing; " + std::to_string(newer) + " newer backups listed");
  }
  for (const auto& [id, t] : times) times_[id] = t;
  // 3. verify --all on the repository and the copy target.
  RunJson({"backup", "verify", "--all"});
  if (fs::exists(copy_url_ + "/config")) {
    auto copy_ids = ListIds(copy_url_, nullptr);
    std::set<std::string> in_copy(copy_ids.begin(), copy_ids.end());
    for (const auto& id : copied_) {
      if (!in_copy.count(id)) Fail("backup " + id + " reported copied is missing from the copy");
    }
    RunJson({"backup", "verify", "--all", "--destination", copy_url_});
    if (!copy_ids.empty()) {
      const std::string id = Pick(copy_ids);
      if (copy_manifests_.count(id)) {
        std::string target = work_ + "/restores/copy-check";
        fs::remove_all(target);
        RunJson({"backup", "restore", id, "--target", target, "--destination", copy_url_});
        CheckRestore(id, target, "", copy_manifests_[id].get());
        fs::remove_all(target);
      }
    }
  }
  // 4. Restores: killed ones rerun into the same target, then every (or a sample of) backup.
  for (const auto& [target, what] : killed_restores_) {
    std::string id = what.substr(0, what.find('|'));
    std::string only = what.substr(what.find('|') + 1);
    if (!listed.count(id)) {
      fs::remove_all(target);
      continue;
    }
    std::vector<std::string> args{"backup", "restore", id, "--target", target};
    if (!only.empty()) args.insert(args.end(), {"--only", "storage/" + only});
    RunJson(args);
    CheckRestore(id, target, only);
    fs::remove_all(target);
  }
  killed_restores_.clear();
  std::vector<std::string> to_restore;
  for (const auto& id : ids) {
    if (full || !backups_[id].reported || Rand01() < 2.0 / static_cast<double>(ids.size())) {
      to_restore.push_back(id);
    }
  }
  for (const auto& id : to_restore) {
    std::string target = work_ + "/restores/check";
    fs::remove_all(target);
    RunJson({"backup", "restore", id, "--target", target});
    CheckRestore(id, target, "");
    fs::remove_all(target);
    std::string db = "var/check.db";
    RunJson({"backup", "restore", id, "--only", "db", "--database", db});
    CheckRestoreDb(id, db);
  }
  // 5. Keys: the main passphrase and every tracked one open the repository.
  for (const auto& p : extra_passes_) RunJson({"backup", "key", "list"}, {0}, p);
  // 6. A later create and prune succeed; then no temp files are left.
  Json created = RunJson({"backup", "create", "--strategy", "incremental"});
  Committed(created.value("id", ""), true);
  RunJson({"backup", "prune"});
  if (backend_ == "local") NoTempFiles(url_, TempRule::kStrict);
  if (ssh_) NoTempFiles(ssh_->files_dir(), TempRule::kByAge);
  // A later copy succeeds too, and sweeps what killed copies left in its target.
  Json copied = RunJson({"backup", "copy", "--to", copy_url_, created.value("id", "")});
  NoteCopied(created.value("id", ""), copied);
  NoTempFiles(copy_url_, TempRule::kStrict);
  (void)after_kill;
}

int Torture::Run() {
  fs::create_directories(work_ + "/log");
  fs::create_directories(work_ + "/restores");
  fs::create_directories(work_ + "/app/storage/docs");
  fs::create_directories(work_ + "/app/var");
  StartBackend();
  WriteConfig();
  main_pass_ = NewPassphrase();
  for (int i = 0; i < 12; ++i) {
    WriteFile(work_ + "/app/storage/docs/f" + std::to_string(++files_),
              RandomData(Rand(0, 50000), static_cast<unsigned>(rng_())));
  }
  WriteFile(work_ + "/app/storage/big", RandomData(2 << 20, 7));
  auto r = RunProgram({"sqlite3", work_ + "/app/var/app.db",
                       "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) "
                       "VALUES ('a'), ('b'), ('c');"});
  if (r.exit_code != 0) throw Failure("sqlite3 failed: " + r.err);
  current_ = std::make_shared<Manifest>(Capture());
  RunJson({"backup", "init"});
  auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(seconds_)) Round();
  CheckAfter(false, {}, true);
  return 0;
}

void PrintStats(const Stats& s, uint64_t seed, const std::string& backend, double seconds) {
  std::printf(
      "torture: backend %s, seed %llu, %.0f s: %ld rounds (%ld concurrent), %ld velin runs, "
      "%ld kills (%ld by SIGTERM, %ld exited before the signal), %ld invariant checks, %ld "
      "restores compared, "
      "%ld backups committed (+%ld by killed creates), %ld forgotten, %ld tree mutations, "
      "%ld locked (exit 3), %ld stale unlocks\n",
      backend.c_str(), static_cast<unsigned long long>(seed), seconds, s.rounds,
      s.concurrent_rounds, s.actions, s.kills, s.term_kills, s.killed_exited_first, s.checks,
      s.restores_compared, s.committed, s.committed_unreported, s.forgotten, s.mutations, s.locked,
      s.unlocks);
  std::string kinds;
  for (const auto& [k, n] : s.by_kind) {
    kinds += " " + k + "=" + std::to_string(n);
    auto it = s.kills_by_kind.find(k);
    if (it != s.kills_by_kind.end()) kinds += "(" + std::to_string(it->second) + " killed)";
  }
  std::printf("torture: actions:%s\n", kinds.c_str());
  std::string temps;
  for (const auto& [dir, n] : s.temp_files_left) temps += " " + dir + "/=" + std::to_string(n);
  std::printf(
      "torture: temp files of killed writers left on the file server (younger than an "
      "hour):%s\n",
      temps.empty() ? " none" : temps.c_str());
}

}  // namespace
}  // namespace velin::testing

int main(int argc, char** argv) {
  using namespace velin::testing;
  int seconds = 20;
  uint64_t seed = std::random_device{}();
  std::string backend = "local", keep;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds" || a == "--seed") {
      std::string v = value();
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') {
        std::fprintf(stderr, "error: %s needs a number, not '%s'\n", a.c_str(), v.c_str());
        return 2;
      }
      if (a == "--seconds")
        seconds = static_cast<int>(n);
      else
        seed = n;
    } else if (a == "--backend") {
      backend = value();
    } else if (a == "--keep") {
      keep = value();
    } else {
      std::fprintf(stderr,
                   "usage: velin_torture [--seconds N] [--seed S] [--backend local|s3|sftp] "
                   "[--keep DIR]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<TempDir> tmp;
  std::string work = keep;
  if (work.empty()) {
    tmp = std::make_unique<TempDir>();
    work = tmp->path();
  } else {
    std::filesystem::create_directories(work);
  }
  std::printf("torture: backend %s, seed %llu, %d s, work dir %s\n", backend.c_str(),
              static_cast<unsigned long long>(seed), seconds, work.c_str());
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  Torture t(seed, seconds, backend, work);
  int rc = 0;
  try {
    rc = t.Run();
  } catch (const std::exception& e) {
    std::printf(
        "torture: FAILED (replay: velin_torture --backend %s --seed %llu --seconds %d): %s\n",
        backend.c_str(), static_cast<unsigned long long>(seed), seconds, e.what());
    rc = 1;
  }
  PrintStats(t.stats(), seed, backend,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return rc;
}
