// The steps after `backup create` commits its snapshot (backup/after_create.hpp) on a MemEnv:
// the offsite copy (carried whole, only what the destination lacks; unreachable or failing
// half-way: exit 1, the local backup stands, nothing half offsite), the create's one error
// line, and forget + prune (this host's and app's groups only; a failure is a warning and the
// backup stands). Locks are the real repository lock on the manual clock.
#include <cerrno>
#include <set>

#include "mem_repo.hpp"
#include "velin/backup/after_create.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/io/fault_injection_env.hpp"

namespace velin::backup {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// What the steps reported, for the assertions on warnings.
class RecordingReporter : public NullReporter {
 public:
  void Warn(std::string_view message) override { warnings.emplace_back(message); }
  std::vector<std::string> warnings;
};

// The repositories the steps open, as the command opens them: on the MemEnv, with the real
// lock; the offsite one at /offsite through a FaultInjectionEnv (an unreachable destination, a
// transfer failing half-way), forget + prune through another one (a prune failing).
class MemRepos : public AfterCreateRepos {
 public:
  explicit MemRepos(io::MemEnv& env) : env_(env), offsite_env_(env), maintain_env_(env) {}

  Result<OpenedRepository> OpenSource() override {
    return Open(env_, "/repo", repo::LockKind::kShared, false);
  }

  Result<OpenedRepository> OpenCopyDestination(const std::string& to,
                                               storage::Backend& source) override {
    ++copy_opens;
    {
      // Created with the source's config (and keys) when it does not exist.
      VELIN_ASSIGN(auto backend, storage::LocalBackend::Open(offsite_env_, to, true));
      VELIN_ASSIGN(auto existing, backend->Stat("config"));
      if (!existing) {
        VELIN_ASSIGN(auto keys, source.List("keys/"));
        for (const storage::ObjectInfo& key : keys) {
          VELIN_ASSIGN(std::string bytes, source.Get(key.name));
          VELIN_TRY(backend->Put(key.name, bytes));
        }
        VELIN_ASSIGN(std::string config, source.Get("config"));
        VELIN_TRY(backend->Put("config", config));
      }
    }
    return Open(offsite_env_, to, repo::LockKind::kShared, false);
  }

  Result<OpenedRepository> OpenExclusive() override {
    ++exclusive_opens;
    return Open(maintain_env_, "/repo", repo::LockKind::kExclusive, false, false);
  }

  repo::Repository* Committed() override { return committed; }

  io::MemEnv& env_;
  io::FaultInjectionEnv offsite_env_;
  io::FaultInjectionEnv maintain_env_;
  int copy_opens = 0;
  int exclusive_opens = 0;
  repo::Repository* committed = nullptr;  // the create's repository, when a test gives it
  repo::RepoKeyOptions keys;              // how an encrypted repository is unlocked

 private:
  // What the command waits for a lock: forget + prune wait 60 s (of the manual clock here).
  Result<OpenedRepository> Open(io::Env& env, const std::string& root, repo::LockKind kind,
                                bool create, bool load_index = true) {
    OpenedRepository r;
    VELIN_ASSIGN(r.backend, storage::LocalBackend::Open(env, root, create));
    VELIN_ASSIGN(r.repo, repo::Repository::Open(*r.backend, create, keys));
    repo::LockOptions wait;
    wait.wait = kind == repo::LockKind::kExclusive ? seconds(60) : seconds(0);
    VELIN_ASSIGN(r.lock, repo::RepoLock::Acquire(env_, *r.backend, kind, wait));
    r.repo->SetCommitGuard([l = r.lock.get()] { return l->Check(); });
    if (load_index) VELIN_TRY(r.repo->LoadIndex());
    return r;
  }
};

class AfterCreateMemTest : public MemRepoTest {
 protected:
  // A backup of /app/storage committed at the manual clock's now, an hour after the last.
  std::string Created(const std::string& app = "shop") {
    env_.Advance(hours(1));
    Reopen();
    CreateOptions o;
    o.app_root = "/app";
    o.include = {"storage"};
    o.strategy = repo::Strategy::kFull;
    o.velin_version = "test";
    o.host = "web1";
    o.app = app;
    auto s = CreateBackup(*repo_, env_, quiet_, o);
    EXPECT_TRUE(s) << s.error().message;
    return s ? s->id : "";
  }

  // The snapshot ids of the repository at `root` (none when the copy did not get as far as
  // its config).
  std::set<std::string> Ids(const std::string& root) {
    if (!env_.Stat(root + "/config")) return {};
    auto b = storage::LocalBackend::Open(env_, root, false);
    EXPECT_TRUE(b) << b.error().message;
    if (!b) return {};
    auto r = repo::Repository::Open(**b, false);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return {};
    auto ids = (*r)->ListSnapshotIds();
    EXPECT_TRUE(ids) << ids.error().message;
    return ids ? std::set<std::string>(ids->begin(), ids->end()) : std::set<std::string>();
  }

  // Restores `id` from the repository at `root` to `target` and returns its a.txt.
  std::string Restored(const std::string& root, const std::string& id, const std::string& target) {
    auto b = storage::LocalBackend::Open(env_, root, false);
    EXPECT_TRUE(b) << b.error().message;
    if (!b) return "";
    auto r = repo::Repository::Open(**b, false);
    EXPECT_TRUE(r) << r.error().message;
    if (!r || !(*r)->LoadIndex()) return "";
    auto s = (*r)->LoadSnapshot(id);
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return "";
    auto done = RestoreSnapshot(**r, *s, env_, quiet_, {.target = target});
    EXPECT_TRUE(done) << done.error().message;
    return Read(target + "/storage/a.txt");
  }

  void RemoveTree(const std::string& path) {
    auto entries = env_.ListDir(path);
    ASSERT_TRUE(entries) << entries.error().message;
    for (const auto& e : *entries) {
      const std::string child = path + "/" + e.name;
      if (e.type == io::FileType::kDirectory) {
        RemoveTree(child);
      } else {
        ASSERT_TRUE(env_.RemoveFile(child));
      }
    }
    ASSERT_TRUE(env_.RemoveDir(path));
  }

  AfterCreateOptions Offsite() {
    AfterCreateOptions o;
    o.offsite = "/offsite";
    o.offsite_writer.workers = 1;  // one pack writer: the same writes in every run
    return o;
  }

  AfterCreateOptions Retention(int keep_last) {
    AfterCreateOptions o;
    o.prune_after_create = true;
    o.rules.keep_last = keep_last;
    o.mine = repo::SnapshotFilter{false, "web1", "shop"};
    return o;
  }

  MemRepos repos_{env_};
  RecordingReporter reporter_;
};

TEST_F(AfterCreateMemTest, TheOffsiteCopyCarriesTheNewBackupAndThenOnlyWhatTheDestinationLacks) {
  Put("storage/a.txt", std::string(50'000, 'a'));
  Put("storage/b.txt", std::string(50'000, 'b'));
  const std::string first = Created();
  AfterCreateResult one = CopyOffsite(Offsite(), first, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(one.outcome) << one.outcome.error().message;
  ASSERT_TRUE(one.offsite.copied);
  EXPECT_FALSE(one.offsite.error);
  EXPECT_EQ(one.offsite.to, "/offsite");
  EXPECT_EQ(one.offsite.copied->snapshots_copied, 1u);
  EXPECT_GT(one.offsite.copied->blobs_copied, 0u);
  EXPECT_FALSE(one.maintain);  // prune_after_create is off
  EXPECT_EQ(Ids("/offsite"), std::set<std::string>{first});
  EXPECT_EQ(Restored("/offsite", first, "/out1"), std::string(50'000, 'a'));

  Put("storage/a.txt", std::string(50'000, 'c'));  // b.txt stays: its chunks are offsite
  const std::string second = Created();
  AfterCreateResult two = CopyOffsite(Offsite(), second, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(two.outcome) << two.outcome.error().message;
  ASSERT_TRUE(two.offsite.copied);
  EXPECT_EQ(two.offsite.copied->snapshots_copied, 1u);
  EXPECT_GT(two.offsite.copied->blobs_present, 0u);
  EXPECT_LT(two.offsite.copied->bytes_copied, one.offsite.copied->bytes_copied);
  EXPECT_EQ(Ids("/offsite"), (std::set<std::string>{first, second}));
  EXPECT_EQ(Restored("/offsite", second, "/out2"), std::string(50'000, 'c'));
  EXPECT_TRUE(reporter_.warnings.empty());
}

TEST_F(AfterCreateMemTest, NoOffsiteConfiguredCopiesNothingAndOpensNothing) {
  Put("storage/a.txt", "alpha\n");
  const std::string id = Created();
  AfterCreateResult r = CopyOffsite(AfterCreateOptions{}, id, nullptr, repos_, env_, reporter_);
  EXPECT_TRUE(r.outcome);
  EXPECT_EQ(r.offsite.to, "");
  EXPECT_FALSE(r.offsite.copied);
  EXPECT_FALSE(r.offsite.error);
  EXPECT_EQ(repos_.copy_opens, 0);
  EXPECT_FALSE(env_.Stat("/offsite"));
}

TEST_F(AfterCreateMemTest, AnUnreachableOffsiteIsExit1AndTheLocalBackupStandsUnmaintained) {
  Put("storage/a.txt", "alpha\n");
  const std::string older = Created();
  Put("storage/a.txt", "beta\n");
  const std::string id = Created();
  // Nothing at /offsite can be made: every call fails with EIO.
  repos_.offsite_env_.SetRule(io::FaultRule{io::FaultOp::kAny, 1, EIO, true, false});
  AfterCreateOptions options = Retention(1);
  options.offsite = "/offsite";
  AfterCreateResult r = CopyOffsite(options, id, nullptr, repos_, env_, reporter_);
  ASSERT_FALSE(r.outcome);
  EXPECT_EQ(r.outcome.error().code, ExitCode::kFailed);
  EXPECT_EQ(r.outcome.error().message.rfind(
                "backup " + id + " was created, but the offsite copy to /offsite failed: ", 0),
            0u)
      << r.outcome.error().message;
  ASSERT_TRUE(r.offsite.error);
  EXPECT_EQ(r.offsite.error->message, r.outcome.error().message);
  EXPECT_FALSE(r.offsite.copied);
  // Not complete: no forget + prune, even with a rule that would forget the older backup.
  EXPECT_FALSE(r.maintain);
  MaintainAfterCreate(options, repos_, env_, reporter_, r);
  EXPECT_FALSE(r.maintenance);
  EXPECT_EQ(repos_.exclusive_opens, 0);
  EXPECT_EQ(Ids("/repo"), (std::set<std::string>{older, id}));
  EXPECT_EQ(Restored("/repo", id, "/out"), "beta\n");
}

TEST_F(AfterCreateMemTest, AnOffsiteCopyFailingHalfWayLeavesNoSnapshotThereAndARerunFinishes) {
  Put("storage/a.txt", std::string(60'000, 'a'));
  const std::string id = Created();
  // How many writes a whole copy makes.
  uint64_t writes_before_copy = 0;
  {
    MemRepos probe(env_);
    AfterCreateResult full = CopyOffsite(Offsite(), id, nullptr, probe, env_, quiet_);
    ASSERT_TRUE(full.outcome) << full.outcome.error().message;
    writes_before_copy = probe.offsite_env_.Count(io::FaultOp::kWrite);
    ASSERT_GT(writes_before_copy, 3u);
  }
  // Each write of the copy failing in turn (the destination's config, its lock, the packs, the
  // index, the snapshot object), from nothing offsite each time.
  for (uint64_t nth = 1; nth <= writes_before_copy; ++nth) {
    RemoveTree("/offsite");
    repos_.offsite_env_.SetRule(io::FaultRule{io::FaultOp::kWrite, nth, ENOSPC, false, false});
    AfterCreateResult failed = CopyOffsite(Offsite(), id, nullptr, repos_, env_, reporter_);
    ASSERT_FALSE(failed.outcome) << "write " << nth;
    EXPECT_TRUE(repos_.offsite_env_.Fired());
    EXPECT_EQ(failed.outcome.error().code, ExitCode::kFailed);
    EXPECT_NE(failed.outcome.error().message.find("was created, but the offsite copy"),
              std::string::npos);
    // The copy's commit order: packs, index, snapshot; so no snapshot offsite lacks data.
    EXPECT_TRUE(Ids("/offsite").empty()) << "write " << nth;
    EXPECT_EQ(Ids("/repo"), std::set<std::string>{id});
  }
  repos_.offsite_env_.SetRule(std::nullopt);
  AfterCreateResult rerun = CopyOffsite(Offsite(), id, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(rerun.outcome) << rerun.outcome.error().message;
  EXPECT_EQ(Ids("/offsite"), std::set<std::string>{id});
  EXPECT_EQ(Restored("/offsite", id, "/out"), std::string(60'000, 'a'));
}

TEST_F(AfterCreateMemTest, AnOffsiteRepositoryWithOtherKeysIsRefusedAndNothingIsCopied) {
  Put("storage/a.txt", "alpha\n");
  const std::string id = Created();
  // /offsite is an encrypted repository, /repo a plain one: a copy there would be unreadable.
  repo::RepoKeyOptions keys;
  keys.cipher = crypto::Cipher::kAes256Gcm;
  keys.passphrase = [] { return Result<std::string>("correct horse"); };
  keys.scrypt = crypto::ScryptParams{.n = 1024, .r = 8, .p = 1};
  auto other = storage::LocalBackend::Open(env_, "/offsite", true);
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE(repo::Repository::Init(**other, keys));
  repos_.keys = keys;
  AfterCreateResult r = CopyOffsite(Offsite(), id, nullptr, repos_, env_, reporter_);
  ASSERT_FALSE(r.outcome);
  EXPECT_EQ(r.outcome.error().code, ExitCode::kFailed);  // the create's: its backup is complete
  EXPECT_NE(r.outcome.error().message.find("/offsite is encrypted and /repo is not"),
            std::string::npos)
      << r.outcome.error().message;
  EXPECT_FALSE(r.offsite.copied);
  auto listed = (*other)->List("snapshots/");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty());
  auto packs = (*other)->List("data/");
  ASSERT_TRUE(packs) << packs.error().message;
  EXPECT_TRUE(packs->empty());
  EXPECT_EQ(Ids("/repo"), std::set<std::string>{id});
}

TEST_F(AfterCreateMemTest, AMissingDatabaseOutranksAnOffsiteFailureAndIsNotComplete) {
  Put("storage/a.txt", "alpha\n");
  const std::string id = Created();
  repos_.offsite_env_.SetRule(io::FaultRule{io::FaultOp::kAny, 1, EIO, true, false});
  AfterCreateOptions options = Retention(1);
  options.offsite = "/offsite";
  const Error dump{ExitCode::kFailed, "pg_dump: connection refused", 0};
  AfterCreateResult r = CopyOffsite(options, id, &dump, repos_, env_, reporter_);
  ASSERT_FALSE(r.outcome);
  EXPECT_EQ(r.outcome.error().code, ExitCode::kFailed);
  EXPECT_EQ(r.outcome.error().message,
            "backup " + id + " was created without the database: pg_dump: connection refused");
  EXPECT_TRUE(r.offsite.error);  // still in the record (--json "offsite": {"to", "error"})
  EXPECT_FALSE(r.maintain);

  // Without an offsite failure the missing database alone fails it; the copy went through.
  repos_.offsite_env_.SetRule(std::nullopt);
  AfterCreateResult copied = CopyOffsite(options, id, &dump, repos_, env_, reporter_);
  ASSERT_FALSE(copied.outcome);
  EXPECT_NE(copied.outcome.error().message.find("without the database"), std::string::npos);
  EXPECT_TRUE(copied.offsite.copied);
  EXPECT_FALSE(copied.maintain);
}

TEST_F(AfterCreateMemTest, ForgetAndPruneKeepByTheRulesInThisHostsAndAppsGroupsOnly) {
  Put("storage/a.txt", std::string(80'000, '1'));
  const std::string blog = Created("blog");  // another app's: its retention is its own
  const std::string first = Created();
  Put("storage/a.txt", std::string(80'000, '2'));
  const std::string second = Created();
  Put("storage/a.txt", std::string(80'000, '3'));
  const std::string third = Created();
  AfterCreateOptions options = Retention(2);
  AfterCreateResult r = CopyOffsite(options, third, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(r.outcome);
  EXPECT_EQ(repos_.copy_opens, 0);
  ASSERT_TRUE(r.maintain);
  MaintainAfterCreate(options, repos_, env_, reporter_, r);
  ASSERT_TRUE(r.maintenance);
  EXPECT_FALSE(r.maintenance->error) << r.maintenance->error->message;
  EXPECT_EQ(r.maintenance->forgotten, 1u);
  ASSERT_TRUE(r.maintenance->prune);
  EXPECT_TRUE(r.maintenance->prune->changed);
  EXPECT_GT(r.maintenance->prune->bytes_freed(), 0u);
  EXPECT_TRUE(r.outcome);
  EXPECT_EQ(Ids("/repo"), (std::set<std::string>{blog, second, third}));
  EXPECT_EQ(Restored("/repo", second, "/out2"), std::string(80'000, '2'));
  EXPECT_EQ(Restored("/repo", third, "/out3"), std::string(80'000, '3'));
  EXPECT_EQ(Restored("/repo", blog, "/outb"), std::string(80'000, '1'));
  EXPECT_TRUE(reporter_.warnings.empty());
  auto locks = backend_->List("locks/");
  ASSERT_TRUE(locks);
  EXPECT_TRUE(locks->empty());  // every step released what it took
}

TEST_F(AfterCreateMemTest, NothingForgottenIsNoPruneAndNoRuleOpensNothing) {
  Put("storage/a.txt", "alpha\n");
  const std::string id = Created();
  AfterCreateOptions keep = Retention(5);
  AfterCreateResult r = CopyOffsite(keep, id, nullptr, repos_, env_, reporter_);
  MaintainAfterCreate(keep, repos_, env_, reporter_, r);
  ASSERT_TRUE(r.maintenance);
  EXPECT_EQ(r.maintenance->forgotten, 0u);
  EXPECT_FALSE(r.maintenance->prune);
  EXPECT_FALSE(r.maintenance->error);
  EXPECT_EQ(repos_.exclusive_opens, 1);

  AfterCreateOptions none = Retention(0);  // prune_after_create on, but no rule set
  AfterCreateResult n = CopyOffsite(none, id, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(n.maintain);
  MaintainAfterCreate(none, repos_, env_, reporter_, n);
  EXPECT_FALSE(n.maintenance);  // --json "maintenance": null
  EXPECT_EQ(repos_.exclusive_opens, 1);

  AfterCreateOptions off = Retention(1);
  off.prune_after_create = false;
  AfterCreateResult o = CopyOffsite(off, id, nullptr, repos_, env_, reporter_);
  EXPECT_FALSE(o.maintain);
  MaintainAfterCreate(off, repos_, env_, reporter_, o);
  EXPECT_FALSE(o.maintenance);
  EXPECT_EQ(repos_.exclusive_opens, 1);
}

// Given the create's repository, forget decides there, unlocked, whether a backup is due to go,
// and locks only when one is: the lock alone was five requests to a remote repository.
TEST_F(AfterCreateMemTest, ForgetLocksOnlyWhenTheCommittedRepositoryHasABackupDueToGo) {
  Put("storage/a.txt", "alpha\n");
  const std::string older = Created();
  Put("storage/a.txt", "beta\n");
  const std::string id = Created();
  repos_.committed = repo_.get();

  AfterCreateOptions keep = Retention(2);  // both kept: nothing opened, nothing locked
  AfterCreateResult r = CopyOffsite(keep, id, nullptr, repos_, env_, reporter_);
  MaintainAfterCreate(keep, repos_, env_, reporter_, r);
  ASSERT_TRUE(r.maintenance);
  EXPECT_EQ(r.maintenance->forgotten, 0u);
  EXPECT_FALSE(r.maintenance->prune);
  EXPECT_FALSE(r.maintenance->error);
  EXPECT_EQ(repos_.exclusive_opens, 0);

  // A snapshot that does not read: the locked way, which names it and leaves it alone.
  ASSERT_TRUE(backend_->Put("snapshots/20200101-0000-full", "not a snapshot"));
  AfterCreateResult damaged = CopyOffsite(keep, id, nullptr, repos_, env_, reporter_);
  MaintainAfterCreate(keep, repos_, env_, reporter_, damaged);
  ASSERT_TRUE(damaged.maintenance);
  EXPECT_EQ(damaged.maintenance->forgotten, 0u);
  EXPECT_EQ(repos_.exclusive_opens, 1);
  ASSERT_EQ(reporter_.warnings.size(), 1u);
  EXPECT_NE(reporter_.warnings[0].find("20200101-0000-full"), std::string::npos)
      << reporter_.warnings[0];
  ASSERT_TRUE(backend_->Delete("snapshots/20200101-0000-full"));

  AfterCreateOptions one = Retention(1);  // the older one is due: locked, forgotten, pruned
  AfterCreateResult due = CopyOffsite(one, id, nullptr, repos_, env_, reporter_);
  MaintainAfterCreate(one, repos_, env_, reporter_, due);
  ASSERT_TRUE(due.maintenance);
  EXPECT_FALSE(due.maintenance->error) << due.maintenance->error->message;
  EXPECT_EQ(due.maintenance->forgotten, 1u);
  EXPECT_TRUE(due.maintenance->prune);
  EXPECT_EQ(repos_.exclusive_opens, 2);
  EXPECT_EQ(Ids("/repo"), (std::set<std::string>{id}));
  (void)older;
}

TEST_F(AfterCreateMemTest, AHeldLockAfterCreateIsAWarningAndTheBackupStands) {
  Put("storage/a.txt", "alpha\n");
  const std::string older = Created();
  Put("storage/a.txt", "beta\n");
  const std::string id = Created();
  // A verify of another process holds its shared lock past the 60 s forget + prune wait for.
  repo::LockHolder verify = env_.ThisProcess();
  verify.pid = 2000;
  verify.start_ticks = 7;
  env_.StartProcess(2000, 7);
  const int64_t now = std::chrono::duration_cast<seconds>(env_.Now().time_since_epoch()).count();
  ASSERT_TRUE(backend_->Put("locks/shared-verify",
                            repo::FormatLockRecord(repo::LockRecord{verify, "shared", now})));
  AfterCreateOptions options = Retention(1);
  AfterCreateResult r = CopyOffsite(options, id, nullptr, repos_, env_, reporter_);
  const auto slept_before = env_.Slept();
  MaintainAfterCreate(options, repos_, env_, reporter_, r);
  EXPECT_GE(env_.Slept() - slept_before, seconds(60));  // it waited, on the manual clock
  EXPECT_TRUE(r.outcome);                               // never the create's failure
  ASSERT_TRUE(r.maintenance);
  ASSERT_TRUE(r.maintenance->error);
  EXPECT_EQ(r.maintenance->error->code, ExitCode::kLocked);
  ASSERT_EQ(reporter_.warnings.size(), 1u);
  EXPECT_EQ(reporter_.warnings[0], "the backup stands, but forget/prune after it failed: " +
                                       r.maintenance->error->message);
  EXPECT_EQ(Ids("/repo"), (std::set<std::string>{older, id}));  // nothing forgotten
}

TEST_F(AfterCreateMemTest, APruneFailingAfterCreateIsAWarningAndEveryKeptBackupRestores) {
  Put("storage/a.txt", std::string(80'000, 'a'));
  Created();
  Put("storage/a.txt", std::string(80'000, 'b'));
  const std::string id = Created();
  // Write 1 is the exclusive lock's; forget only deletes; prune's first write (a repacked pack
  // or its new index) and every one after it fail.
  repos_.maintain_env_.SetRule(io::FaultRule{io::FaultOp::kWrite, 2, ENOSPC, true, false});
  AfterCreateOptions options = Retention(1);
  AfterCreateResult r = CopyOffsite(options, id, nullptr, repos_, env_, reporter_);
  MaintainAfterCreate(options, repos_, env_, reporter_, r);
  EXPECT_TRUE(repos_.maintain_env_.Fired());
  EXPECT_TRUE(r.outcome);
  ASSERT_TRUE(r.maintenance);
  ASSERT_TRUE(r.maintenance->error);
  ASSERT_EQ(reporter_.warnings.size(), 1u);
  EXPECT_NE(reporter_.warnings[0].find("the backup stands, but forget/prune after it failed"),
            std::string::npos);
  EXPECT_EQ(Ids("/repo"), std::set<std::string>{id});  // forget went through before the prune
  EXPECT_EQ(Restored("/repo", id, "/out"), std::string(80'000, 'b'));
  // A later prune (the next create's) finishes the job.
  repos_.maintain_env_.SetRule(std::nullopt);
  Reopen();
  auto pruned = Prune(*repo_, env_, PruneOptions{}, quiet_);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_TRUE(pruned->changed);
  EXPECT_EQ(Restored("/repo", id, "/out2"), std::string(80'000, 'b'));
}

// A failed offsite copy used to be left for good: the next create copied only its own backup.
TEST_F(AfterCreateMemTest, ABackupWhoseOffsiteCopyFailedIsCaughtUpByTheNextCreate) {
  Put("storage/a.txt", "alpha\n");
  const std::string first = Created();
  repos_.offsite_env_.SetRule(io::FaultRule{io::FaultOp::kAny, 1, EIO, true, false});
  AfterCreateResult failed = CopyOffsite(Offsite(), first, nullptr, repos_, env_, reporter_);
  ASSERT_FALSE(failed.outcome);
  EXPECT_NE(
      failed.outcome.error().message.find("(the next create copies it, or now: velin backup copy " +
                                          first + " --to /offsite)"),
      std::string::npos)
      << failed.outcome.error().message;
  repos_.offsite_env_.SetRule(std::nullopt);

  Put("storage/a.txt", "beta\n");
  const std::string second = Created();
  AfterCreateResult caught = CopyOffsite(Offsite(), second, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(caught.outcome) << caught.outcome.error().message;
  EXPECT_EQ(caught.offsite.caught_up, std::vector<std::string>{first});
  EXPECT_EQ(Ids("/offsite"), (std::set<std::string>{first, second}));
  EXPECT_EQ(Restored("/offsite", first, "/out1"), "alpha\n");
  EXPECT_EQ(Restored("/offsite", second, "/out2"), "beta\n");

  // Nothing is due any more: the next copy carries its own backup only.
  Put("storage/a.txt", "gamma\n");
  const std::string third = Created();
  AfterCreateResult next = CopyOffsite(Offsite(), third, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(next.outcome) << next.outcome.error().message;
  EXPECT_TRUE(next.offsite.caught_up.empty());
  EXPECT_EQ(next.offsite.copied->snapshots_copied, 1u);
  EXPECT_FALSE(env_.Stat("/repo/state/offsite-pending/" + first));
  EXPECT_TRUE(reporter_.warnings.empty());
}

// A note names its offsite as backup.offsite was spelt then: another spelling of the same
// place ("/offsite//" for "/offsite", "s3://b/p/" for "s3://b/p") is caught up all the same;
// another place is said at every create, never dropped without a word.
TEST_F(AfterCreateMemTest, ANoteIsCaughtUpWhateverTheSpellingAndOneForAnotherOffsiteIsSaid) {
  Put("storage/a.txt", "alpha\n");
  const std::string first = Created();
  Put("storage/a.txt", "beta\n");
  const std::string second = Created();
  ASSERT_TRUE(io::CreateDirs(env_, "/repo/state/offsite-pending"));
  ASSERT_TRUE(io::WriteFileDurably(env_, "/repo/state/offsite-pending/" + first, "/offsite//"));
  ASSERT_TRUE(io::WriteFileDurably(env_, "/repo/state/offsite-pending/" + second, "/elsewhere"));

  Put("storage/a.txt", "gamma\n");
  const std::string third = Created();
  AfterCreateResult r = CopyOffsite(Offsite(), third, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(r.outcome) << r.outcome.error().message;
  EXPECT_EQ(r.offsite.caught_up, std::vector<std::string>{first});
  EXPECT_EQ(Ids("/offsite"), (std::set<std::string>{first, third}));
  ASSERT_EQ(reporter_.warnings.size(), 1u);
  EXPECT_NE(reporter_.warnings[0].find("backup " + second +
                                       " is still due at the earlier offsite /elsewhere"),
            std::string::npos)
      << reporter_.warnings[0];
  EXPECT_TRUE(env_.Stat("/repo/state/offsite-pending/" + second));
}

TEST_F(AfterCreateMemTest, ABackupForgottenBeforeItsOffsiteCopyWasCaughtUpIsDroppedQuietly) {
  Put("storage/a.txt", "alpha\n");
  const std::string first = Created();
  repos_.offsite_env_.SetRule(io::FaultRule{io::FaultOp::kAny, 1, EIO, true, false});
  ASSERT_FALSE(CopyOffsite(Offsite(), first, nullptr, repos_, env_, reporter_).outcome);
  repos_.offsite_env_.SetRule(std::nullopt);
  ASSERT_TRUE(env_.Stat("/repo/state/offsite-pending/" + first));
  ASSERT_TRUE(env_.RemoveFile("/repo/snapshots/" + first));  // forgotten here meanwhile

  Put("storage/a.txt", "beta\n");
  const std::string second = Created();
  AfterCreateResult r = CopyOffsite(Offsite(), second, nullptr, repos_, env_, reporter_);
  ASSERT_TRUE(r.outcome) << r.outcome.error().message;
  EXPECT_TRUE(r.offsite.caught_up.empty());
  EXPECT_EQ(Ids("/offsite"), std::set<std::string>{second});
  EXPECT_FALSE(env_.Stat("/repo/state/offsite-pending/" + first));
  EXPECT_TRUE(reporter_.warnings.empty());
}

// A URL is compared as velin opens it: percent-escapes decoded. "s3://bkt/my%20repo" passed as
// another repository than "s3://bkt/my repo", and an offsite copy there was no second copy.
TEST(SameRepositoryLocationUrls, ComparesTheDecodedLocation) {
  io::MemEnv env;
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"s3://bkt/my repo", "s3://bkt/my%20repo"},
           {"s3://bkt/pr", "s3://bkt/%70r"},
           {"s3://bkt/pr", "s3://bkt//%70r/"},
           {"sftp://u@h/srv/off", "sftp://%75@H:22/srv/%6Fff"},
           {"ftp://h/off", "ftp://anonymous@h:21/off"},
           {"ftps://u@h:990/a b", "ftps://u@h/a%20b"}}) {
    EXPECT_TRUE(SameRepositoryLocation(env, a, b)) << a << " vs " << b;
    EXPECT_TRUE(SameRepositoryLocation(env, b, a)) << b << " vs " << a;
  }
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"s3://bkt/my repo", "s3://bkt/my%2520repo"},
           {"s3://bkt/pr", "s3://other/pr"},
           {"s3://bkt/pr", "s3://bkt/pr2"},
           {"sftp://u@h/srv/off", "sftp://u@h:2222/srv/off"},
           {"sftp://u@h/srv/off", "ftps://u@h/srv/off"},
           {"ftp://u@h/off", "ftp://v@h/off"},
           {"s3://bkt/pr", "/bkt/pr"}}) {
    EXPECT_FALSE(SameRepositoryLocation(env, a, b)) << a << " vs " << b;
  }
}

}  // namespace
}  // namespace velin::backup
