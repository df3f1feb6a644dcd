// The pruner on a real local repository with crafted damage: whatever it cannot account for
// (an unreadable index object or snapshot, a blob no index lists, a pack that is gone, a delta
// whose base is listed nowhere, a blob that is damaged or lies outside its pack when it would
// be copied) makes it refuse with a DamageError before it deletes or writes anything. Files in
// data/ that are not packs, and young packs no index lists, are left alone.
#include "velin/backup/pruner.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/test_support.hpp"
#include "velin/backup/verifier.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/pack.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/repo/tree.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {
namespace {

namespace fs = std::filesystem;
using repo::BlobId;
using velin::testing::TempDir;
using velin::testing::WriteFile;

class PrunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = storage::LocalBackend::Open(io::Env::Default(), dir_.path(), true);
    ASSERT_TRUE(backend) << backend.error().message;
    backend_ = std::move(*backend);
    auto r = repo::Repository::Open(*backend_, true);
    ASSERT_TRUE(r) << r.error().message;
    Reopen();
  }

  void Reopen() {
    auto r = repo::Repository::Open(*backend_, false);
    ASSERT_TRUE(r) << r.error().message;
    repo_ = std::move(*r);
    ASSERT_TRUE(repo_->LoadIndex());
  }

  // Saves `blobs` (uncompressed) into one new pack with its index object; returns their ids.
  std::vector<BlobId> SavePack(const std::vector<std::string>& blobs,
                               repo::BlobType type = repo::BlobType::kData) {
    std::vector<BlobId> ids;
    {
      repo::BlobWriter writer(*repo_, {.codec = repo::Codec::kNone, .workers = 1});
      for (const auto& b : blobs) {
        ids.push_back(repo::Sha256(b));
        EXPECT_TRUE(writer.Save(type, ids.back(), b));
      }
      EXPECT_TRUE(writer.Flush());
    }
    Reopen();
    return ids;
  }

  // A delta blob of `delta` against `base` (which may be stored nowhere), as an index of
  // version 2 lists it.
  static void AddDelta(repo::PackBuilder& builder, const BlobId& delta, const BlobId& base) {
    std::string stored(reinterpret_cast<const char*>(base.bytes.data()), 32);
    builder.Add(repo::BlobType::kData, delta, repo::Codec::kZstdDelta, 21, stored + "script",
                &base);
  }

  // Stores what `builder` holds as a pack with its own index object, written by hand (no
  // BlobWriter: it would refuse such blobs).
  // Returns the pack's id.
  BlobId PutPackAndIndex(repo::PackBuilder& builder) {
    const std::vector<repo::PackEntry> entries = builder.entries();
    std::string pack = builder.Finish();
    const BlobId pack_id = repo::Sha256(pack);
    EXPECT_TRUE(backend_->Put(repo::PackObjectName(pack_id), pack));
    std::string index = repo::EncodeIndexObject({{pack_id, entries}});
    auto index_id = repo_->HashBlob(index);
    EXPECT_TRUE(index_id);
    if (index_id) {
      EXPECT_TRUE(backend_->Put("index/" + index_id->Hex(), index));
    }
    return pack_id;
  }

  // A snapshot with one stream source made of `chunks`.
  void StreamSnapshot(const std::string& id, const std::vector<BlobId>& chunks) {
    repo::SnapshotSource src;
    src.name = "db";
    src.kind = repo::SourceKind::kStream;
    src.chunks = chunks;
    PutSnapshot(id, src);
  }

  void PutSnapshot(const std::string& id, const repo::SnapshotSource& src) {
    repo::Snapshot snap;
    snap.id = id;
    snap.time = "2026-01-01T00:00:00Z";
    snap.strategy = repo::Strategy::kFull;
    snap.sources = {src};
    ASSERT_TRUE(backend_->Put(repo::SnapshotObjectName(id), repo::EncodeSnapshot(snap)));
  }

  Result<PruneResult> Prune(PruneOptions options = {}) {
    Reopen();
    NullReporter quiet;
    return backup::Prune(*repo_, io::Env::Default(), options, quiet);
  }

  // Every file of the repository with its content: what a refused prune must leave as it was.
  std::map<std::string, std::string> Files() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
      if (e.is_regular_file()) out[e.path().string()] = velin::testing::ReadFileOrDie(e.path());
    }
    return out;
  }

  std::string PackPath(const BlobId& blob) const {
    const std::optional<repo::IndexEntry> e = repo_->index().Find(blob);
    EXPECT_TRUE(e);
    return dir_ / repo::PackObjectName(repo_->index().PackId(e.value().pack));
  }

  // Expects a refusal naming `words` that changed nothing.
  void ExpectRefused(const std::string& words) {
    const auto before = Files();
    auto r = Prune();
    ASSERT_FALSE(r) << words;
    EXPECT_EQ(r.error().code, ExitCode::kDamage) << r.error().message;
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
    EXPECT_EQ(Files(), before) << words;
  }

  TempDir dir_;
  std::unique_ptr<storage::LocalBackend> backend_;
  std::unique_ptr<repo::Repository> repo_;
};

std::string Bytes(size_t n, char c) { return std::string(n, c) + std::to_string(n); }

TEST_F(PrunerTest, RepacksAndDeletesWhatNoBackupUses) {
  auto a = SavePack({Bytes(3000, 'k'), Bytes(3000, 'd')});  // kept, dropped: repacked
  auto b = SavePack({Bytes(2000, 'x')});                    // unused: deleted
  StreamSnapshot("20260101-0000-full", {a[0]});
  auto r = Prune();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->packs_repacked, 1u);
  EXPECT_EQ(r->packs_deleted, 1u);
  EXPECT_EQ(r->blobs_removed, 2u);
  EXPECT_EQ(r->index_objects_replaced, 2u);
  Reopen();
  EXPECT_EQ(*repo_->ReadBlob(a[0]), Bytes(3000, 'k'));
  EXPECT_FALSE(repo_->ReadBlob(a[1]));
  EXPECT_FALSE(repo_->ReadBlob(b[0]));
  auto again = Prune();  // nothing left to do
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
}

TEST_F(PrunerTest, RefusesWhenAnIndexObjectIsDamaged) {
  auto a = SavePack({Bytes(100, 'a')});
  StreamSnapshot("20260101-0000-full", a);
  for (const auto& e : fs::directory_iterator(dir_ / "index")) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    WriteFile(e.path(), "not an index object");
  }
  ExpectRefused("prune refuses to run");
}

TEST_F(PrunerTest, RefusesWhenASnapshotCannotBeRead) {
  auto a = SavePack({Bytes(100, 'a'), Bytes(100, 'b')});
  StreamSnapshot("20260101-0000-full", {a[0]});
  ASSERT_TRUE(backend_->Put(repo::SnapshotObjectName("20260101-0001-full"), "{ torn"));
  ExpectRefused("20260101-0001-full");
}

TEST_F(PrunerTest, RefusesABackupThatReferencesBlobsNoIndexLists) {
  SavePack({Bytes(100, 'a')});
  // A stream chunk, a path source's tree, and a file chunk inside a tree, each unknown.
  StreamSnapshot("20260101-0000-full", {repo::Sha256("never stored")});
  ExpectRefused("references blob " + repo::Sha256("never stored").Short() + ", which no index");
  fs::remove(dir_ / repo::SnapshotObjectName("20260101-0000-full"));

  repo::SnapshotSource path_source;
  path_source.name = "storage";
  path_source.kind = repo::SourceKind::kPath;
  path_source.tree = repo::Sha256("no such tree");
  PutSnapshot("20260101-0001-full", path_source);
  ExpectRefused("which no index lists");
  fs::remove(dir_ / repo::SnapshotObjectName("20260101-0001-full"));

  repo::Node file;
  file.type = repo::NodeType::kFile;
  file.name = "f";
  file.mode = 0644;
  file.size = 5;
  file.content = {repo::Sha256("lost chunk")};
  repo::Tree tree;
  tree.nodes = {file};
  const std::string encoded = repo::EncodeTree(tree);
  SavePack({encoded}, repo::BlobType::kTree);
  path_source.tree = repo::Sha256(encoded);
  PutSnapshot("20260101-0002-full", path_source);
  ExpectRefused("references blob " + repo::Sha256("lost chunk").Short());
}

TEST_F(PrunerTest, RefusesWhenAUsedBlobsPackIsGone) {
  auto a = SavePack({Bytes(100, 'a')});
  SavePack({Bytes(100, 'b')});
  StreamSnapshot("20260101-0000-full", a);
  fs::remove(PackPath(a[0]));
  ExpectRefused("which is missing; prune refuses to run");
}

TEST_F(PrunerTest, RefusesADeltaBlobWhoseBaseNoIndexLists) {
  // A delta blob as an index of version 2 lists it, with a base that is nowhere.
  const BlobId base = repo::Sha256("a base nobody stored");
  const BlobId delta = repo::Sha256("the delta's plaintext");
  repo::PackBuilder builder;
  AddDelta(builder, delta, base);
  PutPackAndIndex(builder);
  StreamSnapshot("20260101-0000-full", {delta});
  // The index counts such a delta as not stored (Index::Finalize), so the backup is what
  // references a blob no index lists.
  ExpectRefused("references blob " + delta.Short() + ", which no index lists");
}

class WarningLog : public NullReporter {
 public:
  void Warn(std::string_view message) override { warnings.emplace_back(message); }
  std::vector<std::string> warnings;
};

// What the prune of an earlier velin left: a kept pack still indexed with an unused delta blob
// whose base it deleted. The index counts it as not stored, verify warns, and the next prune
// drops the entry although nothing else is to be done (one pack, one index object, all kept).
TEST_F(PrunerTest, DropsTheEntryOfAnUnusedDeltaBlobWhoseBaseAnEarlierPruneDeleted) {
  const std::string used_bytes = Bytes(3000, 'u');
  const BlobId used = repo::Sha256(used_bytes);
  const BlobId base = repo::Sha256("a base an earlier prune deleted");
  const BlobId delta = repo::Sha256("the delta's plaintext");
  repo::PackBuilder builder;
  builder.Add(repo::BlobType::kData, used, repo::Codec::kNone,
              static_cast<uint32_t>(used_bytes.size()), used_bytes, nullptr);
  AddDelta(builder, delta, base);
  const BlobId pack_id = PutPackAndIndex(builder);
  StreamSnapshot("20260101-0000-full", {used});
  Reopen();
  EXPECT_FALSE(repo_->index().Find(delta));
  ASSERT_EQ(repo_->index().dangling_deltas().size(), 1u);
  WarningLog log;
  auto report = VerifyBackups(*repo_, log, {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  ASSERT_EQ(log.warnings.size(), 1u);
  EXPECT_NE(log.warnings[0].find("delta blob " + delta.Short()), std::string::npos)
      << log.warnings[0];

  auto pruned = Prune();
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_TRUE(pruned->changed);
  EXPECT_EQ(pruned->packs_deleted, 0u);
  EXPECT_EQ(pruned->blobs_removed, 1u);
  Reopen();
  EXPECT_TRUE(repo_->index().dangling_deltas().empty());
  EXPECT_TRUE(repo_->index().Find(used));
  EXPECT_TRUE(fs::exists(dir_ / repo::PackObjectName(pack_id)));  // the pack was kept as it is
  WarningLog again;
  report = VerifyBackups(*repo_, again, {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_TRUE(again.warnings.empty()) << again.warnings.front();
}

// Repacking copies blobs checked the way a restore reads them: a damaged one, or one the pack
// is too short to hold, stops the prune before anything is written or deleted.
TEST_F(PrunerTest, RefusesToCopyADamagedOrTruncatedBlob) {
  auto a = SavePack({Bytes(3000, 'k'), Bytes(3000, 'd')});
  StreamSnapshot("20260101-0000-full", {a[0]});
  const std::string pack = PackPath(a[0]);
  const repo::IndexEntry entry = repo_->index().Find(a[0]).value();
  std::string bytes = velin::testing::ReadFileOrDie(pack);
  fs::permissions(pack, fs::perms::owner_write, fs::perm_options::add);

  std::string flipped = bytes;
  flipped[entry.offset + 10] ^= 1;
  WriteFile(pack, flipped);
  ExpectRefused("is damaged; prune refuses to copy it");

  WriteFile(pack, bytes.substr(0, entry.offset + entry.length / 2));
  ExpectRefused("lies outside the pack");

  WriteFile(pack, bytes);
  auto r = Prune();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->packs_repacked, 1u);
}

TEST_F(PrunerTest, LeavesForeignFilesAndYoungUnindexedPacksAlone) {
  auto a = SavePack({Bytes(100, 'a')});
  auto b = SavePack({Bytes(100, 'b')});
  StreamSnapshot("20260101-0000-full", a);
  // Another tool's file in data/, and b's pack as a running create would have it: no index.
  WriteFile(dir_ / "data/00/notes.txt", "not a pack");
  const std::string young = PackPath(b[0]);
  for (const auto& e : fs::directory_iterator(dir_ / "index")) {
    auto data = backend_->Get("index/" + e.path().filename().string());
    ASSERT_TRUE(data);
    auto packs = repo::DecodeIndexObject(*data);
    ASSERT_TRUE(packs);
    if (packs->front().second.front().id == b[0]) fs::remove(e.path());
  }
  auto r = Prune();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->packs_young, 1u);
  EXPECT_TRUE(fs::exists(young));
  EXPECT_TRUE(fs::exists(dir_ / "data/00/notes.txt"));
  // Old enough, the unindexed pack goes; the foreign file stays.
  PruneOptions now;
  now.unindexed_min_age = std::chrono::seconds(0);
  r = Prune(now);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->packs_deleted, 1u);
  EXPECT_FALSE(fs::exists(young));
  EXPECT_TRUE(fs::exists(dir_ / "data/00/notes.txt"));
  Reopen();
  EXPECT_EQ(*repo_->ReadBlob(a[0]), Bytes(100, 'a'));
}

}  // namespace
}  // namespace velin::backup
