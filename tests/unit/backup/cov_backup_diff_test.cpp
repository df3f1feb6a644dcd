// backup diff (DiffBackups) on in-memory backups, for the cases the inspect tests leave out:
// database streams changed, added, removed or turned into a path; a whole include only in one
// backup; an entry whose type changed; mode, owner and mtime changes ("metadata"); and a
// snapshot whose source tree is not the one it names, refused as damage.
#include "mem_repo.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/backup/stream_source.hpp"

namespace velin::backup {
namespace {

class FixedStream : public StreamSource {
 public:
  FixedStream(std::string name, std::string data)
      : name_(std::move(name)), data_(std::move(data)) {}
  std::string Name() const override { return name_; }
  Status Produce(const std::function<Status(std::string_view)>& sink) override {
    return sink(data_);
  }
  nlohmann::json Metadata() const override { return nlohmann::json::object(); }

 private:
  std::string name_;
  std::string data_;
};

class BackupDiffMemTest : public MemRepoTest {
 protected:
  // A full backup of `include` plus `streams`, one hour after the previous one.
  repo::Snapshot Take(std::vector<std::string> include, std::vector<StreamSource*> streams = {}) {
    env_.Advance(std::chrono::hours(1));
    Reopen();
    CreateOptions o;
    o.app_root = "/app";
    o.include = std::move(include);
    o.streams = std::move(streams);
    o.codec = repo::Codec::kZstd;
    o.velin_version = "test";
    o.app = "shop";
    auto s = CreateBackup(*repo_, env_, quiet_, o);
    EXPECT_TRUE(s) << s.error().message;
    Reopen();  // the index as a later command loads it, with this backup's blobs
    return s ? *s : repo::Snapshot{};
  }

  // "kind path type old>new" per change, in the diff's order.
  std::vector<std::string> Diff(const repo::Snapshot& from, const repo::Snapshot& to) {
    auto diff = DiffBackups(*repo_, from, to);
    EXPECT_TRUE(diff) << diff.error().message;
    std::vector<std::string> out;
    if (!diff) return out;
    for (const Change& c : *diff) {
      out.push_back(std::string(ChangeKindName(c.kind)) + " " + c.path + " " + c.type + " " +
                    std::to_string(c.old_size) + ">" + std::to_string(c.new_size));
    }
    return out;
  }

  using Lines = std::vector<std::string>;
};

TEST_F(BackupDiffMemTest, AStreamIsChangedOnlyWhenItsChunksDiffer) {
  Put("storage/a.txt", "a");
  FixedStream one("db", "CREATE TABLE t (x int);\n");
  FixedStream same("db", "CREATE TABLE t (x int);\n");
  FixedStream other("db", "CREATE TABLE t (x bigint, y text);\n");
  repo::Snapshot first = Take({"storage"}, {&one});
  repo::Snapshot second = Take({"storage"}, {&same});
  repo::Snapshot third = Take({"storage"}, {&other});
  EXPECT_EQ(Diff(first, second), Lines{});
  EXPECT_EQ(Diff(second, third), (Lines{"changed db stream 24>35"}));
  EXPECT_EQ(Diff(third, first), (Lines{"changed db stream 35>24"}));
}

TEST_F(BackupDiffMemTest, AStreamAddedRemovedOrReplacedByAPathIsListedOnItsOwnLine) {
  Put("storage/a.txt", "a");
  FixedStream dump("db", "dump bytes");
  repo::Snapshot files_only = Take({"storage"});
  repo::Snapshot with_stream = Take({"storage"}, {&dump});
  EXPECT_EQ(Diff(files_only, with_stream), (Lines{"added db stream 0>10"}));
  EXPECT_EQ(Diff(with_stream, files_only), (Lines{"removed db stream 10>0"}));

  // A directory included as "db" where a stream of that name was: the stream is removed and
  // every entry of the directory added (and the reverse).
  Put("db/schema.sql", "-- schema\n");
  repo::Snapshot db_dir = Take({"storage", "db"});
  EXPECT_EQ(Diff(with_stream, db_dir),
            (Lines{"removed db stream 10>0", "added db dir 0>0", "added db/schema.sql file 0>10"}));
  EXPECT_EQ(Diff(db_dir, with_stream), (Lines{"added db stream 0>10", "removed db dir 0>0",
                                              "removed db/schema.sql file 10>0"}));
}

TEST_F(BackupDiffMemTest, AnIncludeInOnlyOneBackupListsEverythingBelowIt) {
  Put("storage/a.txt", "a");
  Put("config/app.ini", "[app]\n");
  Put("config/sub/extra.ini", "x=1\n");
  repo::Snapshot both = Take({"storage", "config"});
  repo::Snapshot storage_only = Take({"storage"});
  EXPECT_EQ(Diff(both, storage_only),
            (Lines{"removed config dir 0>0", "removed config/app.ini file 6>0",
                   "removed config/sub dir 0>0", "removed config/sub/extra.ini file 4>0"}));
  EXPECT_EQ(Diff(storage_only, both),
            (Lines{"added config dir 0>0", "added config/app.ini file 0>6",
                   "added config/sub dir 0>0", "added config/sub/extra.ini file 0>4"}));
}

TEST_F(BackupDiffMemTest, AnEntryWhoseTypeChangedIsRemovedThenAdded) {
  Put("storage/cache", "a file first");
  repo::Snapshot file = Take({"storage"});
  ASSERT_TRUE(env_.RemoveFile("/app/storage/cache"));
  Put("storage/cache/x.bin", "xy");
  repo::Snapshot dir = Take({"storage"});
  EXPECT_EQ(Diff(file, dir),
            (Lines{"removed storage/cache file 12>0", "added storage/cache dir 0>0",
                   "added storage/cache/x.bin file 0>2"}));
  ASSERT_TRUE(env_.RemoveFile("/app/storage/cache/x.bin"));
  ASSERT_TRUE(env_.RemoveDir("/app/storage/cache"));
  ASSERT_TRUE(env_.Symlink("elsewhere", "/app/storage/cache"));
  repo::Snapshot link = Take({"storage"});
  EXPECT_EQ(Diff(dir, link),
            (Lines{"removed storage/cache dir 0>0", "removed storage/cache/x.bin file 2>0",
                   "added storage/cache symlink 0>9"}));
}

TEST_F(BackupDiffMemTest, ModeOwnerAndMtimeChangesAreMetadataButADirectorysMtimeIsNot) {
  Put("storage/keep.txt", "same bytes");
  Put("storage/sub/other.txt", "other");
  repo::Snapshot first = Take({"storage"});

  // Only the file's mtime: metadata. Adding a file moves the directory's mtime: not listed.
  ASSERT_TRUE(env_.SetMtime("/app/storage/keep.txt", 1'000'000'000'000'000'000));
  Put("storage/sub/new.txt", "n");
  repo::Snapshot touched = Take({"storage"});
  EXPECT_EQ(Diff(first, touched),
            (Lines{"metadata storage/keep.txt file 10>10", "added storage/sub/new.txt file 0>1"}));

  // A directory's mode and a file's owner: metadata each.
  ASSERT_TRUE(env_.SetMode("/app/storage/sub", 0700));
  ASSERT_TRUE(env_.SetOwner("/app/storage/sub/other.txt", 1234, 1234));
  repo::Snapshot moded = Take({"storage"});
  EXPECT_EQ(Diff(touched, moded),
            (Lines{"metadata storage/sub dir 0>0", "metadata storage/sub/other.txt file 5>5"}));
  // A backup against itself: nothing.
  EXPECT_EQ(Diff(moded, moded), Lines{});
}

TEST_F(BackupDiffMemTest, ASourceWhoseTreeIsNotItsOwnIsDamageNamingTheBackupAndSource) {
  Put("storage/a.txt", "a");
  Put("config/app.ini", "[app]\n");
  repo::Snapshot first = Take({"storage", "config"});
  repo::Snapshot second = Take({"storage", "config"});
  // The snapshot as a hostile repository could hold it: "storage" pointing at the tree of
  // "config", whose only node is named "config".
  repo::Snapshot swapped = second;
  ASSERT_EQ(swapped.sources.size(), 2u);
  repo::SnapshotSource* storage = nullptr;
  repo::SnapshotSource* config = nullptr;
  for (auto& s : swapped.sources) (s.name == "storage" ? storage : config) = &s;
  ASSERT_TRUE(storage && config);
  storage->tree = config->tree;
  for (const auto& [from, to] : {std::pair{&first, &swapped}, std::pair{&swapped, &first}}) {
    auto diff = DiffBackups(*repo_, *from, *to);
    ASSERT_FALSE(diff);
    EXPECT_EQ(diff.error().code, ExitCode::kDamage);
    EXPECT_EQ(diff.error().message, "backup " + second.id + ": source 'storage' has a bad root");
  }
}

TEST(ChangeKindNameTest, NamesEveryKind) {
  EXPECT_EQ(ChangeKindName(ChangeKind::kAdded), "added");
  EXPECT_EQ(ChangeKindName(ChangeKind::kRemoved), "removed");
  EXPECT_EQ(ChangeKindName(ChangeKind::kChanged), "changed");
  EXPECT_EQ(ChangeKindName(ChangeKind::kMetadata), "metadata");
}

}  // namespace
}  // namespace velin::backup
