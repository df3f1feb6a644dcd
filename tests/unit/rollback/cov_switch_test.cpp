// Switches, plans, versions and the state files on their error paths, on the engine (issue 16
// §5): what `to-version` refuses before it changes anything, what a failed switch puts back, what
// create-version refuses or repairs, and damaged state files named as damage. Each test checks
// the error and where `current`, the registry, the history and the live files end. Real files
// in a temp dir; the service is shell commands (no server: a release is "healthy" unless it
// holds bin/BROKEN).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/fake_watchdog.hpp"
#include "support/test_support.hpp"
#include "support/warning_recorder.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/release.hpp"

namespace velin::rollback {
namespace {

using velin::testing::AnyLineHas;
using velin::testing::ReadFileOrDie;
using velin::testing::TempDir;
using velin::testing::WarningRecorder;
using velin::testing::WriteFile;

// Fails the Nth rename onto registry.json from now on (EIO), every other call as the real Env.
class RegistryFaultEnv : public io::FaultInjectionEnv {
 public:
  explicit RegistryFaultEnv(std::string registry)
      : io::FaultInjectionEnv(io::Env::Default()), registry_(std::move(registry)) {}
  void FailRegistryWrite(int nth) {
    fail_at_ = nth;
    seen_ = 0;
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (to == registry_ && fail_at_ > 0 && ++seen_ == fail_at_) {
      return ErrnoError("cannot rename " + from + " to " + to, EIO);
    }
    return io::FaultInjectionEnv::Rename(from, to);
  }

 private:
  std::string registry_;
  int fail_at_ = 0;
  int seen_ = 0;
};

class CovSwitchTest : public ::testing::Test {
 protected:
  CovSwitchTest() : env_(dir_ / "state/registry.json") {
    s_.app_root = dir_ / "app";
    s_.state_dir = dir_ / "state";
    s_.current_link = dir_ / "app/current";
    s_.artifacts = {"bin"};
    s_.velin_binary = velin::testing::WriteFakeWatchdog(dir_.path());
  }

  RollbackEngine Engine() { return RollbackEngine(env_, s_, out_); }
  StateLayout Layout() const { return StateLayout{s_.state_dir}; }

  void Build(const std::string& name, bool broken = false) {
    WriteFile(dir_ / "app/bin/app", name + "\n");
    if (broken) {
      WriteFile(dir_ / "app/bin/BROKEN", "1\n");
    } else {
      ::unlink((dir_ / "app/bin/BROKEN").c_str());
    }
  }
  void Create(const std::string& name, VersionKind kind = VersionKind::kVersion,
              bool broken = false) {
    Build(name, broken);
    auto made = Engine().CreateVersion(name, kind, false);
    ASSERT_TRUE(made) << made.error().message;
  }
  // A health check that fails on a release holding bin/BROKEN, at once (no retries).
  void WithService() {
    s_.health = "test ! -e current/bin/BROKEN";
    s_.health_timeout = Duration(0);
  }
  std::string Live() {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(s_.current_link, ec);
    return ec ? "" : target.filename().string();
  }
  Registry Reg() {
    auto reg = LoadRegistry(env_, Layout());
    EXPECT_TRUE(reg) << reg.error().message;
    return reg ? *reg : Registry();
  }
  std::vector<HistoryEntry> History() {
    auto h = ReadHistory(env_, Layout());
    EXPECT_TRUE(h) << h.error().message;
    return h ? *h : std::vector<HistoryEntry>();
  }
  bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

  TempDir dir_;
  RegistryFaultEnv env_;
  Settings s_;
  WarningRecorder out_;
};

TEST_F(CovSwitchTest, PreviousThatIsNoLongerKeptIsNamed) {
  s_.keep_versions = 2;
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  Create("v3");  // keeps the live v2 and the new v3: v1 goes
  ASSERT_EQ(Reg().Find("v1"), nullptr);
  auto back = Engine().ToVersion("previous", "");
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ExitCode::kUsage);
  EXPECT_EQ(back.error().message,
            "the version live before v2, v1, is no longer kept (pruned or replaced; see velin "
            "rollback history)");
  EXPECT_EQ(Live(), "v2");
}

// A registry.json without next_seq (written by hand or by a script): a new version still gets a
// seq above every other, so it is not taken for an older one (a switch to it "rolled back").
TEST_F(CovSwitchTest, ARegistryWithoutNextSeqStillNumbersNewVersionsLast) {
  Create("v1");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  nlohmann::json doc = nlohmann::json::parse(ReadFileOrDie(Layout().Registry()));
  doc.erase("next_seq");
  WriteFile(Layout().Registry(), doc.dump(2));
  Create("v3");
  const Registry reg = Reg();
  ASSERT_NE(reg.Find("v2"), nullptr);
  ASSERT_NE(reg.Find("v3"), nullptr);
  EXPECT_GT(reg.Find("v3")->seq, reg.Find("v2")->seq);
  EXPECT_GT(reg.next_seq, reg.Find("v3")->seq);
  auto plan = Engine().PlanSwitch("v3");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->older);
}

TEST_F(CovSwitchTest, PlainFilesAtCurrentAreNeverReplaced) {
  Create("v1");
  WriteFile(s_.current_link + "/bin/app", "deployed by rsync\n");
  std::string want =
      s_.current_link + " is not a symlink (plain files): run 'velin rollback adopt' first";
  auto switched = Engine().ToVersion("v1", "");
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::kUsage);
  EXPECT_EQ(switched.error().message, want);
  auto plan = Engine().PlanSwitch("v1");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message, want);
  EXPECT_EQ(ReadFileOrDie(s_.current_link + "/bin/app"), "deployed by rsync\n");
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
}

TEST_F(CovSwitchTest, APlanNamesTheConfigFilesASnapshotWouldAdd) {
  s_.config = {".env", "config"};
  WriteFile(dir_ / "app/.env", "MODE=production\n");
  WriteFile(dir_ / "app/config/app.yml", "x: 1\n");
  Create("snap", VersionKind::kSnapshot);
  ASSERT_EQ(::unlink((dir_ / "app/.env").c_str()), 0);
  WriteFile(dir_ / "app/config/app.yml", "x: 2\n");
  auto plan = Engine().PlanSwitch("snap");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->config_added, std::vector<std::string>{".env"});
  EXPECT_EQ(plan->config_changed, std::vector<std::string>{"config/app.yml"});
  EXPECT_TRUE(plan->config_removed.empty());
  EXPECT_FALSE(Exists(dir_ / "app/.env"));  // a plan changes nothing
}

// Going down a schema level with no migrate_down: the plan warns, and so does the switch, which
// leaves the database alone.
TEST_F(CovSwitchTest, ALowerSchemaLevelWithoutMigrateDownIsAWarning) {
  s_.migration_status = "cat LEVEL";
  WriteFile(dir_ / "app/LEVEL", "1\n");
  Create("v1");
  WriteFile(dir_ / "app/LEVEL", "2\n");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  const std::string warning =
      "schema level 1 is below the live level 2 and no rollback.migrate_down is configured; the "
      "database stays as it is";
  auto plan = Engine().PlanSwitch("v1");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->migrate_warning, warning);
  EXPECT_FALSE(plan->migrate_down);
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  EXPECT_TRUE(AnyLineHas(out_.warnings, warning));
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(ReadFileOrDie(dir_ / "app/LEVEL"), "2\n");

  s_.migration_status = "echo no database >&2; exit 3";  // the query itself fails
  auto broken = Engine().PlanSwitch("v2");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message,
            "rollback.migration_status command failed (exit code 3): no database");
}

TEST_F(CovSwitchTest, GoingBackWithADatabaseButNoLevelsIsAWarningInThePlan) {
  s_.database_configured = true;
  Create("v1");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  auto plan = Engine().PlanSwitch("v1");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->older);
  EXPECT_EQ(plan->migrate_warning,
            "going back to an older version while a [database] is configured, but "
            "rollback.migrate_down is not set: the schema is not migrated down");
}

// A snapshot brings a config file the live app did not have; its health check fails: the switch
// back puts the live config back exactly, so that file goes again.
TEST_F(CovSwitchTest, ASwitchBackRemovesTheConfigFileTheSnapshotAdded) {
  WithService();
  s_.config = {".env"};
  WriteFile(dir_ / "app/.env", "MODE=staging\n");
  Create("snap", VersionKind::kSnapshot, /*broken=*/true);
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  ASSERT_EQ(::unlink((dir_ / "app/.env").c_str()), 0);
  auto switched = Engine().ToVersion("snap", "");
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::kHealthFailed);
  EXPECT_EQ(Live(), "v1");
  EXPECT_FALSE(Exists(dir_ / "app/.env"));
  EXPECT_EQ(History().back().outcome.rfind("health check failed; switched back to v1", 0), 0u);
  const Registry reg = Reg();  // Find points into it: it must outlive `snap`
  const VersionRecord* snap = reg.Find("snap");
  ASSERT_NE(snap, nullptr);
  EXPECT_FALSE(snap->failed.empty());
}

// The failed mark cannot be written (the registry write fails right after the health check):
// a warning, and the switch back goes on.
TEST_F(CovSwitchTest, AFailedMarkThatCannotBeWrittenIsAWarning) {
  WithService();
  Create("bad", VersionKind::kVersion, /*broken=*/true);
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  env_.FailRegistryWrite(2);  // 1: `current` → bad; 2: the failed mark
  auto switched = Engine().ToVersion("bad", "");
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::kHealthFailed);
  EXPECT_TRUE(
      AnyLineHas(out_.warnings, "could not record the outcome of the switch to bad: cannot rename"))
      << (out_.warnings.empty() ? "" : out_.warnings[0]);
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(Reg().current, "v1");
  ASSERT_NE(Reg().Find("bad"), nullptr);
  EXPECT_TRUE(Reg().Find("bad")->failed.empty());
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
}

// begin prunes what keep_versions no longer keeps once the transaction is open; when that fails
// (here the registry write), it is a warning: the transaction stays open, nothing is lost.
TEST_F(CovSwitchTest, APruneThatFailsAtBeginIsAWarning) {
  s_.keep_versions = 1;
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  Create("v2");  // kept while it is the newest: begin's prune (base v1) lets it go
  env_.FailRegistryWrite(1);
  auto txn = Engine().Begin(std::nullopt, "");
  ASSERT_TRUE(txn) << txn.error().message;
  EXPECT_TRUE(AnyLineHas(out_.warnings, "pruning old transaction bases failed: cannot rename"))
      << (out_.warnings.empty() ? "" : out_.warnings[0]);
  auto open = LoadTransaction(env_, Layout());
  ASSERT_TRUE(open && *open);
  EXPECT_EQ((*open)->state, TransactionState::kOpen);
  EXPECT_EQ((*open)->base, "v1");
  EXPECT_NE(Reg().Find("v2"), nullptr);  // unregistered only by a prune that succeeds
  EXPECT_EQ(ReadFileOrDie(Layout().Release("v2") + "/bin/app"), "v2\n");
  EXPECT_EQ(Live(), "v1");
}

TEST_F(CovSwitchTest, AFailingBeforeSwitchHookOnAFirstSwitchChangesNothing) {
  s_.hooks.before_switch = "echo maintenance window closed >&2; exit 1";
  s_.hooks.cwd = s_.app_root;
  Create("v1");
  auto switched = Engine().ToVersion("v1", "");
  ASSERT_FALSE(switched);
  const std::string& m = switched.error().message;
  EXPECT_EQ(m.rfind("switch to v1 not started: ", 0), 0u) << m;
  EXPECT_NE(m.find("maintenance window closed"), std::string::npos) << m;
  EXPECT_EQ(m.substr(m.size() - 21), "; nothing was changed") << m;
  EXPECT_FALSE(Exists(s_.current_link));
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
  EXPECT_TRUE(Reg().current.empty());
}

TEST_F(CovSwitchTest, CreateRefusesWhatItCannotKeep) {
  s_.artifacts.clear();
  auto none = Engine().CreateVersion("v1", VersionKind::kVersion, false);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ExitCode::kUsage);
  EXPECT_EQ(none.error().message, "rollback.artifacts is empty: nothing to put in a version");
  EXPECT_FALSE(Exists(s_.state_dir));

  s_.artifacts = {"bin", "assets"};
  Build("v1");
  auto missing = Engine().CreateVersion("v1", VersionKind::kVersion, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kUsage);
  EXPECT_EQ(missing.error().message,
            "rollback.artifacts: " + (dir_ / "app/assets") + " does not exist");
  EXPECT_TRUE(Reg().versions.empty());

  s_.artifacts = {"bin"};
  ASSERT_EQ(::mkfifo((dir_ / "app/bin/pipe").c_str(), 0600), 0);
  auto fifo = Engine().CreateVersion("v1", VersionKind::kVersion, false);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code, ExitCode::kFailed);
  EXPECT_EQ(fifo.error().message, (dir_ / "app/bin/pipe") +
                                      ": not a regular file, directory or symlink; cannot keep "
                                      "it in a release");
  EXPECT_TRUE(Reg().versions.empty());
  EXPECT_FALSE(Exists(Layout().Release("v1")));

  ASSERT_EQ(::unlink((dir_ / "app/bin/pipe").c_str()), 0);
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  Build("v1-rebuilt");
  auto live = Engine().CreateVersion("v1", VersionKind::kVersion, /*replace=*/true);
  ASSERT_FALSE(live);
  EXPECT_EQ(live.error().code, ExitCode::kUsage);
  EXPECT_EQ(live.error().message,
            "version 'v1' is live or the base of the open transaction; it cannot be replaced");
  EXPECT_EQ(ReadFileOrDie(s_.current_link + "/bin/app"), "v1\n");
}

// A --replace interrupted after moving the old release aside and before the new one landed:
// the next create puts the registered release back where it belongs.
TEST_F(CovSwitchTest, AReleaseLeftAsideByAnInterruptedReplaceComesBack) {
  Create("v1");
  Create("v2");
  ASSERT_EQ(::rename(Layout().Release("v1").c_str(), Layout().Release(".old-v1-4242").c_str()), 0);
  Create("v3");
  EXPECT_EQ(ReadFileOrDie(Layout().Release("v1") + "/bin/app"), "v1\n");
  EXPECT_FALSE(Exists(Layout().Release(".old-v1-4242")));
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  EXPECT_EQ(ReadFileOrDie(s_.current_link + "/bin/app"), "v1\n");
}

TEST_F(CovSwitchTest, ASymlinkAmongTheArtifactsIsKeptAsALink) {
  WriteFile(dir_ / "app/bin/server", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::symlink("server", (dir_ / "app/bin/run").c_str()), 0);
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  std::error_code ec;
  EXPECT_EQ(std::filesystem::read_symlink(s_.current_link + "/bin/run", ec).string(), "server");
  auto m = LoadManifest(env_, Layout().Manifest("v1"));
  ASSERT_TRUE(m) << m.error().message;
  bool found = false;
  for (const auto& e : m->artifacts) {
    if (e.path != "bin/run") continue;
    found = true;
    EXPECT_EQ(e.type, io::FileType::kSymlink);
    EXPECT_EQ(e.target, "server");
  }
  EXPECT_TRUE(found);
}

TEST_F(CovSwitchTest, DamagedManifestsAreNamed) {
  const std::string p = dir_ / "m.json";
  auto load = [&](const std::string& text) {
    WriteFile(p, text);
    return LoadManifest(env_, p);
  };
  auto r = load("{\"format\": 1, \"artifacts\": [");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kDamage);
  EXPECT_EQ(r.error().message, p + ": malformed manifest");
  r = load("{\"format\": 99}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kFailed);
  EXPECT_EQ(r.error().message, p + ": written by a newer velin; upgrade velin");
  r = load("{\"format\": 1, \"artifacts\": [{\"type\": \"file\"}]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kDamage);
  EXPECT_EQ(r.error().message, p + ": an entry has no path");
  r = load("{\"format\": 1, \"artifacts\": [{\"path\": \"bin/app\", \"mode\": \"rw-\"}]}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kDamage);
  EXPECT_EQ(r.error().message.rfind(p + ": malformed manifest: ", 0), 0u) << r.error().message;
  // Numbers that are no integers of the field's range are damage, never converted.
  for (const char* entry :
       {R"({"path": "a", "mode": 1e30})", R"({"path": "a", "mode": 4294967296})",
        R"({"path": "a", "size": -1})", R"({"path": "a", "size": 2.5})"}) {
    r = load(std::string(R"({"format": 1, "artifacts": [)") + entry + "]}");
    ASSERT_FALSE(r) << entry;
    EXPECT_EQ(r.error().code, ExitCode::kDamage) << entry;
  }
  r = load("{\"format\": 1e300}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kDamage);
  // A type this velin does not know is read as "other" (never materialised as a file).
  r = load("{\"format\": 1, \"artifacts\": [{\"path\": \"bin/dev\", \"type\": \"socket\"}]}");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->artifacts.size(), 1u);
  EXPECT_EQ(r->artifacts[0].type, io::FileType::kOther);
}

TEST_F(CovSwitchTest, DamagedStateFilesAreNamedAsDamage) {
  ASSERT_TRUE(io::CreateDirs(env_, s_.state_dir));
  const StateLayout l = Layout();
  auto damaged = [&](const std::string& path, const std::string& text, auto load,
                     const std::string& message) {
    WriteFile(path, text);
    auto r = load();
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, ExitCode::kDamage) << text;
    EXPECT_EQ(r.error().message, message);
    ::unlink(path.c_str());
  };
  auto reg = [&] { return LoadRegistry(env_, l); };
  damaged(l.Registry(), "{\"versions\": []}", reg, l.Registry() + ": missing 'format' version");
  damaged(l.Registry(), "{\"format\": \"1\", \"versions\": []}", reg,
          l.Registry() + ": field 'format' is not a whole number");
  damaged(l.Registry(), "{\"format\": 1, \"versions\": {}}", reg,
          l.Registry() + ": 'versions' is missing or not a list");
  damaged(l.Registry(), "{\"format\": 1, \"versions\": [{\"kind\": \"version\"}]}", reg,
          l.Registry() + ": a version entry has no name");
  damaged(
      l.History(), "{\"format\": 1}\n{\"action\": \"switch\"}\nswitched to v2\n",
      [&] { return ReadHistory(env_, l); }, l.History() + ":3: malformed entry");
  auto txn = [&] { return LoadTransaction(env_, l); };
  damaged(l.Transaction(), "{\"format\": 1, \"state\": \"open\"}", txn,
          l.Transaction() + ": transaction has no id or state");
  damaged(l.Transaction(), "{\"format\": 1, \"id\": \"t1\", \"state\": \"paused\"}", txn,
          l.Transaction() + ": transaction has an unknown state 'paused'");
  damaged(l.Transaction(),
          "{\"format\": 1, \"id\": \"t1\", \"state\": \"open\", \"cause\": \"boredom\"}", txn,
          l.Transaction() + ": transaction has an unknown rollback cause 'boredom'");
  // A command meets it as damage (exit 4) and changes nothing.
  WriteFile(l.Transaction(), "{\"format\": 1, \"id\": \"t1\", \"state\": \"paused\"}");
  auto commit = Engine().Commit();
  ASSERT_FALSE(commit);
  EXPECT_EQ(commit.error().code, ExitCode::kDamage);
  EXPECT_EQ(ReadFileOrDie(l.Transaction()),
            "{\"format\": 1, \"id\": \"t1\", \"state\": \"paused\"}");
}

}  // namespace
}  // namespace velin::rollback
