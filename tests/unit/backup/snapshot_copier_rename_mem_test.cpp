// Snapshot ids are unique within a repository, not across repositories nor across time: a
// backup made in the minute of one that retention forgot takes its id again, and two hosts'
// repositories copying into one offsite repository both have a "…-0230-full". `backup copy`
// skipped any id the destination had, so such a backup never reached the copy while the copy
// reported it "already there". Now the copy compares what it finds: the same snapshot is
// skipped, another one makes the copy store this one under the next free id of its minute,
// sealed anew for that id when the repositories are encrypted, and a later copy finds it there.
#include <set>

#include "mem_repo.hpp"
#include "support/forwarding_backend.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/backup/snapshot_copier.hpp"
#include "velin/repo/snapshot_commit.hpp"

namespace velin::backup {
namespace {

using std::chrono::seconds;

// The destination as a copy sees it while another copy runs beside it: the first time the copy
// looks for `name`, the other copy has just stored `bytes` there.
class CopyBesideIt : public testing::ForwardingBackend {
 public:
  CopyBesideIt(storage::Backend& base, std::string name, std::string bytes)
      : ForwardingBackend(base), name_(std::move(name)), bytes_(std::move(bytes)) {}
  Result<std::optional<storage::ObjectInfo>> Stat(const std::string& name) override {
    if (name == name_ && !done_) {
      done_ = true;
      VELIN_TRY(base().Put(name_, bytes_));
    }
    return base().Stat(name);
  }
  bool done() const { return done_; }

 private:
  std::string name_;
  std::string bytes_;
  bool done_ = false;
};

class SnapshotCopierRenameMemTest : public MemRepoTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      keys_.cipher = crypto::Cipher::kAes256Gcm;
      keys_.passphrase = [] { return Result<std::string>("copy-rename"); };
      keys_.scrypt = {.n = 1024, .r = 8, .p = 1};
    }
    MemRepoTest::SetUp();
    // The destination, as `backup copy` creates it: the source's config and keys.
    auto b = storage::LocalBackend::Open(env_, "/copy", true);
    ASSERT_TRUE(b) << b.error().message;
    copy_backend_ = std::move(*b);
    auto keys = backend_->List("keys/");
    ASSERT_TRUE(keys) << keys.error().message;
    std::vector<std::string> names = {"config"};
    for (const auto& k : *keys) names.push_back(k.name);
    for (const auto& name : names) {
      auto bytes = backend_->Get(name);
      ASSERT_TRUE(bytes) << name << ": " << bytes.error().message;
      ASSERT_TRUE(copy_backend_->Put(name, *bytes));
    }
  }

  // A full backup of /app/storage/who.txt = `text`, ten seconds after the last.
  std::string BackupOf(const std::string& text) {
    env_.Advance(seconds(10));
    Put("storage/who.txt", text);
    auto s = Backup();
    EXPECT_TRUE(s) << s.error().message;
    return s ? s->id : "";
  }

  // `through`: the destination's backend as the copy sees it (default: /copy itself).
  Result<CopyStats> Copy(const std::vector<std::string>& ids, storage::Backend* through = nullptr) {
    Reopen();
    VELIN_ASSIGN(auto dest,
                 repo::Repository::Open(through ? *through : *copy_backend_, false, keys_));
    VELIN_TRY(dest->LoadIndex());
    return CopySnapshots(*repo_, *dest, ids, repo::BlobWriterOptions{}, env_, quiet_);
  }

  std::set<std::string> CopyIds() {
    auto dest = repo::Repository::Open(*copy_backend_, false, keys_);
    EXPECT_TRUE(dest) << dest.error().message;
    if (!dest) return {};
    auto ids = (*dest)->ListSnapshotIds();
    EXPECT_TRUE(ids) << ids.error().message;
    return ids ? std::set<std::string>(ids->begin(), ids->end()) : std::set<std::string>();
  }

  // who.txt as the copy's snapshot `id` restores it.
  std::string RestoredFromCopy(const std::string& id) {
    auto dest = repo::Repository::Open(*copy_backend_, false, keys_);
    EXPECT_TRUE(dest) << dest.error().message;
    if (!dest) return "";
    EXPECT_TRUE((*dest)->LoadIndex());
    auto snapshot = (*dest)->LoadSnapshot(id);
    EXPECT_TRUE(snapshot) << snapshot.error().message;
    if (!snapshot) return "";
    EXPECT_EQ(snapshot->id, id);
    const std::string target = "/restored-" + id;
    auto restored = RestoreSnapshot(**dest, *snapshot, env_, quiet_, {.target = target});
    EXPECT_TRUE(restored) << restored.error().message;
    return Read(target + "/storage/who.txt");
  }

  // What `forget` does to the source's snapshot `id`.
  void Forget(const std::string& id) {
    ASSERT_TRUE(backend_->Delete(repo::SnapshotObjectName(id)));
  }

  std::unique_ptr<storage::LocalBackend> copy_backend_;
};

// Must show: a backup that took the id of a forgotten one, copied where the forgotten one was
// copied before, reaches the copy under the next free id of its minute, restores its own
// files there, leaves the earlier copy as it was, and is found there by the next copy; a third
// backup of that minute whose id the renamed one holds is renamed again.
TEST_P(SnapshotCopierRenameMemTest, ABackupReusingACopiedIdReachesTheCopyUnderTheNextFreeId) {
  const std::string first = BackupOf("first\n");
  auto one = Copy({first});
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->snapshots_copied, 1u);
  EXPECT_TRUE(one->renamed.empty());

  Forget(first);
  const std::string second = BackupOf("second\n");
  ASSERT_EQ(second, first) << "the same minute, the forgotten id again";
  auto two = Copy({second});
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_EQ(two->snapshots_copied, 1u);
  EXPECT_EQ(two->snapshots_present, 0u);
  ASSERT_EQ(two->renamed.size(), 1u);
  EXPECT_EQ(two->renamed[0].id, first);
  EXPECT_EQ(two->renamed[0].as, first + "-2");
  EXPECT_TRUE(two->renamed[0].copied);
  EXPECT_FALSE(two->renamed[0].host.empty()) << "the machine's host name holds the id there";
  EXPECT_EQ(CopyIds(), (std::set<std::string>{first, first + "-2"}));
  EXPECT_EQ(RestoredFromCopy(first), "first\n");
  EXPECT_EQ(RestoredFromCopy(first + "-2"), "second\n");

  // Copied again: found under its new id (and said so), nothing stored twice.
  auto again = Copy({second});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->snapshots_copied, 0u);
  EXPECT_EQ(again->snapshots_present, 1u);
  ASSERT_EQ(again->renamed.size(), 1u);
  EXPECT_EQ(again->renamed[0].as, first + "-2");
  EXPECT_FALSE(again->renamed[0].copied);
  EXPECT_EQ(again->blobs_copied, 0u);

  // A third backup of the minute is "…-2" in the source; the copy's "…-2" is the second one.
  const std::string third = BackupOf("third\n");
  ASSERT_EQ(third, first + "-2");
  auto three = Copy({second, third});
  ASSERT_TRUE(three) << three.error().message;
  EXPECT_EQ(three->snapshots_present, 1u);
  EXPECT_EQ(three->snapshots_copied, 1u);
  ASSERT_EQ(three->renamed.size(), 2u);
  EXPECT_EQ(three->renamed[0].as, first + "-2");
  EXPECT_FALSE(three->renamed[0].copied);
  EXPECT_EQ(three->renamed[1].id, first + "-2");
  EXPECT_EQ(three->renamed[1].as, first + "-3");
  EXPECT_TRUE(three->renamed[1].copied);
  EXPECT_EQ(RestoredFromCopy(first + "-3"), "third\n");
  EXPECT_EQ(RestoredFromCopy(first + "-2"), "second\n");

  auto fourth = Copy({second, third});
  ASSERT_TRUE(fourth) << fourth.error().message;
  EXPECT_EQ(fourth->snapshots_present, 2u);
  EXPECT_EQ(fourth->snapshots_copied, 0u);
  EXPECT_EQ(fourth->renamed.size(), 2u);
  EXPECT_EQ(CopyIds(), (std::set<std::string>{first, first + "-2", first + "-3"}));
}

// Must show: a snapshot the copy holds under its own id is skipped as before (the bytes are
// compared, not just the name), and a damaged snapshot of the same minute in the copy is not
// taken for this one: the copy stores a sound one beside it.
TEST_P(SnapshotCopierRenameMemTest, TheSameSnapshotIsSkippedAndADamagedNeighbourIsNotTakenForIt) {
  const std::string first = BackupOf("first\n");
  ASSERT_TRUE(Copy({first}));
  auto again = Copy({first});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->snapshots_present, 1u);
  EXPECT_EQ(again->snapshots_copied, 0u);

  Forget(first);
  const std::string second = BackupOf("second\n");
  ASSERT_EQ(second, first);
  ASSERT_TRUE(Copy({second}));
  // The renamed copy is damaged: the next copy stores the snapshot once more.
  const std::string renamed = repo::SnapshotObjectName(first + "-2");
  auto bytes = copy_backend_->Get(renamed);
  ASSERT_TRUE(bytes) << bytes.error().message;
  std::string broken = *bytes;
  broken[broken.size() / 2] ^= 0x20;
  ASSERT_TRUE(copy_backend_->Put(renamed, broken));
  auto repaired = Copy({second});
  ASSERT_TRUE(repaired) << repaired.error().message;
  ASSERT_EQ(repaired->renamed.size(), 1u);
  EXPECT_EQ(repaired->renamed[0].as, first + "-3");
  EXPECT_EQ(RestoredFromCopy(first + "-3"), "second\n");
}

// Must show: the renaming commit looks for the snapshot again under the commit lock, among the
// ids listed there (a copy running beside this one may have stored it meanwhile): when found,
// nothing is written and the id found is returned; else the next free id of the minute.
TEST_P(SnapshotCopierRenameMemTest, TheRenamingCommitLooksForTheSnapshotAgainUnderTheLock) {
  const std::string first = BackupOf("first\n");
  std::vector<std::string> seen;
  auto found = repo::CommitSnapshotText(
      env_, *repo_, first, seconds(1),
      [](const std::string&) -> Result<std::string> { return Failure("must not encode"); },
      [&seen](const std::vector<std::string>& ids) -> Result<std::string> {
        seen = ids;
        return ids.front();
      });
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->id, first);
  EXPECT_FALSE(found->written);
  EXPECT_EQ(seen, std::vector<std::string>{first});

  auto written = repo::CommitSnapshotText(
      env_, *repo_, first, seconds(1),
      [this, &first](const std::string& id) {
        auto text = env_.ReadFile("/repo/snapshots/" + first);
        EXPECT_TRUE(text) << text.error().message;
        auto opened = repo_->OpenObject("snapshot", first, text ? *text : "");
        EXPECT_TRUE(opened) << opened.error().message;
        return repo::RenameSnapshotText(opened ? *opened : "", id);
      },
      [](const std::vector<std::string>&) { return Result<std::string>(std::string()); });
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->id, first + "-2");
  EXPECT_TRUE(written->written);
  Reopen();
  auto back = repo_->LoadSnapshot(first + "-2");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, first + "-2");
}

// Must show: a copy that found the target's id free when it began, and finds it taken when it
// commits (another host's copy of the same minute stored its backup meanwhile), leaves that
// backup in place and stores this one under the next free id, instead of writing over it.
TEST_P(SnapshotCopierRenameMemTest, AnIdTakenWhileTheCopyRanIsNotWrittenOver) {
  const std::string first = BackupOf("first\n");
  auto other = backend_->Get(repo::SnapshotObjectName(first));
  ASSERT_TRUE(other) << other.error().message;
  Forget(first);
  const std::string second = BackupOf("second\n");
  ASSERT_EQ(second, first);

  CopyBesideIt beside(*copy_backend_, repo::SnapshotObjectName(first), *other);
  auto copied = Copy({second}, &beside);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_TRUE(beside.done());
  EXPECT_EQ(copied->snapshots_copied, 1u);
  ASSERT_EQ(copied->renamed.size(), 1u);
  EXPECT_EQ(copied->renamed[0].as, first + "-2");
  auto there = copy_backend_->Get(repo::SnapshotObjectName(first));
  ASSERT_TRUE(there) << there.error().message;
  EXPECT_EQ(*there, *other) << "the other copy's backup was written over";
  EXPECT_EQ(RestoredFromCopy(first + "-2"), "second\n");
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, SnapshotCopierRenameMemTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

TEST(SnapshotIdBase, StripsOnlyANumericSuffix) {
  EXPECT_EQ(repo::SnapshotIdBase("20261125-1430-full"), "20261125-1430-full");
  EXPECT_EQ(repo::SnapshotIdBase("20261125-1430-full-2"), "20261125-1430-full");
  EXPECT_EQ(repo::SnapshotIdBase("20261125-1430-incr-12"), "20261125-1430-incr");
  EXPECT_EQ(repo::SnapshotIdBase("20261125-1430-incr-"), "20261125-1430-incr-");
  EXPECT_EQ(repo::SnapshotIdBase("x"), "x");
}

}  // namespace
}  // namespace velin::backup
