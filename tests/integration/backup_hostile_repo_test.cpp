// Hostile repositories (issue 16 §3): repositories crafted with velin's own repository code or
// damaged by hand — hardlinks to outside the target, names with '/', a symlink and a file at
// the same path, a file claiming an enormous size or chunk count, truncated packs, packs
// swapped in from another repository. For each, restore writes nothing outside its target (a
// sentinel directory next to it stays untouched), ends with one line and exit 4 (damage) or 1,
// and never crashes (the suite also runs under ASan).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "support/backup_fixture.hpp"
#include "support/crafted_repo.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/pack.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

repo::Node Node(repo::NodeType type, const std::string& name, const std::string& target = "") {
  repo::Node n;
  n.type = type;
  n.name = name;
  n.mode = 0644;
  n.target = target;
  if (type == repo::NodeType::kFile) {
    n.content.push_back(repo::Sha256(kCraftedContent));
    n.size = sizeof(kCraftedContent) - 1;
  }
  return n;
}

// The top tree of source "storage" whose directory holds `inner` (saved as a subtree).
repo::Tree StorageHolding(const repo::Tree& inner) {
  repo::Node dir;
  dir.type = repo::NodeType::kDir;
  dir.name = "storage";
  dir.mode = 0755;
  dir.subtree = repo::Sha256(repo::EncodeTree(inner));
  return TreeOf({dir});
}

class HostileRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(app_.path("outside"));
    WriteFile(app_.path("outside/sentinel"), "keep me\n");
    fs::create_directories(target_);
  }

  // Restores `id` into the target and checks the outcome every hostile case must have.
  void ExpectRefusedCleanly(const std::string& id, const std::string& what) {
    ++tried_;
    RunResult r = app_.Run({"backup", "restore", id, "--target", target_});
    std::cerr << "[hostile] " << what << ": exit " << r.exit_code << ": " << r.err;
    EXPECT_TRUE(r.exit_code == 4 || r.exit_code == 1) << what << ": exit " << r.exit_code << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
    ExpectNothingOutside(what);
    if (!::testing::Test::HasFailure()) ++passed_;
  }

  void ExpectNothingOutside(const std::string& what) {
    std::vector<std::string> outside;
    for (const auto& e : fs::recursive_directory_iterator(app_.path("outside"))) {
      outside.push_back(e.path().filename().string());
    }
    EXPECT_EQ(outside, std::vector<std::string>{"sentinel"}) << what;
    EXPECT_EQ(ReadFileOrDie(app_.path("outside/sentinel")), "keep me\n") << what;
    struct stat st {};
    ASSERT_EQ(::stat(app_.path("outside/sentinel").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << what << ": the sentinel got a hardlink";
    for (const auto& e : fs::recursive_directory_iterator(app_.path("jail"))) {
      EXPECT_TRUE(e.path().string().rfind(target_, 0) == 0) << what << ": " << e.path();
    }
  }

  static void TearDownTestSuite() {
    std::cerr << "[hostile] cases tried " << tried_ << ", passed " << passed_ << "\n";
  }

  BackupApp app_;
  std::string target_ = app_.path("jail/target");
  static int tried_, passed_;
};

int HostileRepoTest::tried_ = 0;
int HostileRepoTest::passed_ = 0;

TEST_F(HostileRepoTest, CraftedTreesWriteNothingOutsideTheTarget) {
  using repo::NodeType;
  const std::string sentinel = app_.path("outside/sentinel");
  struct Case {
    std::string id, what;
    repo::Tree inner;  // what directory storage/ holds
  };
  std::vector<Case> cases = {
      {"20260101-0000-full", "hardlink to an absolute path",
       TreeOf({Node(NodeType::kHardlink, "h", sentinel)})},
      {"20260101-0001-full", "hardlink with ..",
       TreeOf({Node(NodeType::kHardlink, "h", "../../../outside/sentinel")})},
      {"20260101-0006-full", "hardlink to a path through a symlink to outside",
       TreeOf({Node(NodeType::kHardlink, "h", "storage/l/sentinel"),
               Node(NodeType::kSymlink, "l", app_.path("outside"))})},
      {"20260101-0002-full", "name with a slash", TreeOf({Node(NodeType::kFile, "sub/file")})},
      {"20260101-0003-full", "symlink then file at the same path",
       TreeOf({Node(NodeType::kSymlink, "x", app_.path("outside")), Node(NodeType::kFile, "x")})},
      {"20260101-0005-full", "a name that is a single dot", TreeOf({Node(NodeType::kFile, ".")})},
  };
  for (const auto& c : cases) {
    CraftSnapshot(app_.repo(), c.id, {{"storage", StorageHolding(c.inner)}}, {c.inner});
  }
  // A file written through a symlink that an earlier source of the same backup restored.
  CraftSnapshot(app_.repo(), "20260101-0004-full",
                {{"storage", TreeOf({Node(NodeType::kSymlink, "storage", app_.path("outside"))})},
                 {"storage/s", TreeOf({Node(NodeType::kFile, "s")})}});
  cases.push_back({"20260101-0004-full", "a source written through a symlink source", {}});
  for (const auto& c : cases) {
    ExpectRefusedCleanly(c.id.substr(0, 13), c.what);
    fs::remove_all(target_);
    fs::create_directories(target_);
  }
}

TEST_F(HostileRepoTest, HugeCountsAreRefusedWithoutAllocatingThem) {
  using repo::NodeType;
  // A file that claims 2^60 bytes and a file of 200000 chunks that add up to more than its size.
  repo::Node huge = Node(NodeType::kFile, "huge");
  huge.size = uint64_t{1} << 60;
  repo::Node many = Node(NodeType::kFile, "many");
  many.content.assign(200000, repo::Sha256(kCraftedContent));
  many.size = 5;
  CraftSnapshot(app_.repo(), "20260102-0000-full", {{"storage", StorageHolding(TreeOf({huge}))}},
                {TreeOf({huge})});
  CraftSnapshot(app_.repo(), "20260102-0001-full", {{"storage", StorageHolding(TreeOf({many}))}},
                {TreeOf({many})});
  ExpectRefusedCleanly("20260102-0000", "size 2^60");
  EXPECT_FALSE(fs::exists(target_ + "/storage/huge"));
  fs::remove_all(target_);
  ExpectRefusedCleanly("20260102-0001", "200000 chunks over a 5-byte size");
  EXPECT_FALSE(fs::exists(target_ + "/storage/many"));
  EXPECT_EQ(TempFilesUnder(target_), std::vector<std::string>{});
}

TEST_F(HostileRepoTest, TruncatedAndSwappedPacksAreDamage) {
  for (int i = 0; i < 4; ++i) {
    WriteFile(app_.root() + "/storage/f" + std::to_string(i), RandomData(40000 + i, 300 + i));
  }
  std::string id = app_.Json({"backup", "create"})["id"];
  std::vector<std::string> packs;
  for (const auto& e : fs::recursive_directory_iterator(app_.repo() + "/data")) {
    if (e.is_regular_file()) packs.push_back(e.path().string());
  }
  ASSERT_FALSE(packs.empty());
  // Another repository with other content: its packs copied over ours under our names.
  BackupApp other;
  for (int i = 0; i < 4; ++i) {
    WriteFile(other.root() + "/storage/f" + std::to_string(i), RandomData(40000 + i, 900 + i));
  }
  ASSERT_EQ(other.Run({"backup", "create"}).exit_code, 0);
  std::vector<std::string> other_packs;
  for (const auto& e : fs::recursive_directory_iterator(other.repo() + "/data")) {
    if (e.is_regular_file()) other_packs.push_back(e.path().string());
  }
  ASSERT_FALSE(other_packs.empty());
  for (const std::string& pack : packs) {
    std::string saved = ReadFileOrDie(pack);
    fs::permissions(pack, fs::perms::owner_write, fs::perm_options::add);
    for (int variant = 0; variant < 3; ++variant) {
      std::string what = pack + (variant == 0   ? " truncated to half"
                                 : variant == 1 ? " truncated to nothing"
                                                : " swapped with another repository's");
      std::string bad = variant == 0   ? saved.substr(0, saved.size() / 2)
                        : variant == 1 ? std::string()
                                       : ReadFileOrDie(other_packs[0]);
      WriteFile(pack, bad);
      ExpectRefusedCleanly(id, what);
      EXPECT_EQ(app_.Run({"backup", "verify", "--all"}).exit_code, 4) << what;
      // No file of the target differs from the backed-up one.
      if (fs::exists(target_ + "/storage")) {
        for (const auto& e : fs::recursive_directory_iterator(target_ + "/storage")) {
          if (!e.is_regular_file()) continue;
          std::string rel = fs::relative(e.path(), target_).string();
          EXPECT_EQ(ReadFileOrDie(e.path().string()), ReadFileOrDie(app_.root() + "/" + rel))
              << what << ": " << rel;
        }
      }
      fs::remove_all(target_);
    }
    WriteFile(pack, saved);
  }
  EXPECT_EQ(app_.Run({"backup", "verify", "--all"}).exit_code, 0);
}

std::set<std::string> PackFiles(const std::string& repo) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file()) out.insert(e.path().string());
  }
  return out;
}

// A second backup stored as deltas against the first; the packs holding the bases removed:
// restoring the second is damage (exit 4), and its file is not left half-made in the target.
TEST_F(HostileRepoTest, DeltaBlobWhoseBaseIsMissing) {
  std::string first, second;
  for (int i = 0; i < 60000; ++i) {
    std::string row = "row " + std::to_string(i) + " value " + std::to_string(i * 7919 % 100003);
    first += row + "\n";
    second += (i % 100 == 0 ? row + " changed" : row) + "\n";
  }
  WriteFile(app_.root() + "/storage/rows.txt", first);
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::set<std::string> first_packs = PackFiles(app_.repo());
  WriteFile(app_.root() + "/storage/rows.txt", second);
  nlohmann::json created = app_.Json({"backup", "create"});
  ASSERT_LT(created["bytes_added"].get<uint64_t>() * 5, first.size()) << created;  // deltas
  for (const auto& pack : first_packs) fs::remove(pack);
  ExpectRefusedCleanly(created["id"], "delta blob whose base is missing");
  EXPECT_FALSE(fs::exists(target_ + "/storage/rows.txt"));
  EXPECT_EQ(TempFilesUnder(target_), std::vector<std::string>{});
  RunResult verify = app_.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verify.exit_code, 4) << verify.err;
}

// Rewrites the repository so that every base of a delta blob is itself stored as a delta blob
// whose base is `self ? itself : the delta that used it` (a cycle of one or two): a new pack
// holds the rewritten bases, and one index object, listing it instead of the bases' old
// entries, replaces every index object. Returns how many bases were rewritten.
size_t MakeDeltaBasesCyclic(const std::string& repo_dir, bool self) {
  auto backend = storage::LocalBackend::Open(io::Env::Default(), repo_dir, false);
  EXPECT_TRUE(backend);
  if (!backend) return 0;
  auto r = repo::Repository::Open(**backend, false);
  EXPECT_TRUE(r);
  if (!r) return 0;
  auto index_objects = (*backend)->List("index/");
  EXPECT_TRUE(index_objects);
  repo::IndexPacks packs;
  std::map<repo::BlobId, repo::PackEntry> bases;  // base id -> its entry
  std::map<repo::BlobId, repo::BlobId> user;      // base id -> a delta blob that uses it
  for (const auto& o : *index_objects) {
    auto data = (*backend)->Get(o.name);
    EXPECT_TRUE(data);
    auto decoded = repo::DecodeIndexObject(*data);
    EXPECT_TRUE(decoded) << o.name;
    for (auto& p : *decoded) {
      for (const auto& e : p.second) {
        if (e.codec == repo::Codec::kZstdDelta) user.emplace(e.base, e.id);
      }
      packs.push_back(std::move(p));
    }
  }
  for (auto& [pack_id, entries] : packs) {
    std::erase_if(entries, [&](const repo::PackEntry& e) {
      if (!user.count(e.id)) return false;
      bases.emplace(e.id, e);
      return true;
    });
  }
  repo::PackBuilder builder;
  for (const auto& [id, e] : bases) {
    const repo::BlobId base = self ? id : user.at(id);
    std::string stored(reinterpret_cast<const char*>(base.bytes.data()), base.bytes.size());
    stored += "not a delta script";
    builder.Add(e.type, id, repo::Codec::kZstdDelta, e.raw_length, stored, &base);
  }
  repo::IndexPacks crafted{{repo::BlobId(), builder.entries()}};
  std::string pack = builder.Finish();
  crafted[0].first = repo::Sha256(pack);
  EXPECT_TRUE((*backend)->Put(repo::PackObjectName(repo::Sha256(pack)), pack));
  EXPECT_FALSE(crafted[0].second.empty());
  crafted.insert(crafted.end(), packs.begin(), packs.end());
  std::string index = repo::EncodeIndexObject(crafted);
  for (const auto& o : *index_objects) EXPECT_TRUE((*backend)->Delete(o.name));
  auto index_id = (*r)->HashBlob(index);
  EXPECT_TRUE(index_id);
  EXPECT_TRUE((*backend)->Put("index/" + index_id->Hex(), index));
  return bases.size();
}

// Delta blobs whose bases are delta blobs again, in a cycle of one (a base that is itself) or
// of two (a base whose base is the delta that uses it): a reader that followed bases would
// never end. Restoring either backup is damage (exit 4, one line naming the delta base),
// verify reports it, and prune ends without making it worse.
TEST_F(HostileRepoTest, DeltaBlobWhoseBaseIsCyclic) {
  std::string first, second;
  for (int i = 0; i < 60000; ++i) {
    std::string row = "row " + std::to_string(i) + " value " + std::to_string(i * 7919 % 100003);
    first += row + "\n";
    second += (i % 100 == 0 ? row + " changed" : row) + "\n";
  }
  for (bool self : {true, false}) {
    const std::string what =
        self ? "delta base that is itself" : "two delta blobs based on each other";
    BackupApp app;
    WriteFile(app.root() + "/storage/rows.txt", first);
    std::string older = app.Json({"backup", "create"})["id"];
    WriteFile(app.root() + "/storage/rows.txt", second);
    nlohmann::json created = app.Json({"backup", "create"});
    ASSERT_LT(created["bytes_added"].get<uint64_t>() * 5, first.size()) << created;  // deltas
    ASSERT_GE(MakeDeltaBasesCyclic(app.repo(), self), 1u) << what;
    for (const std::string& id : {older, created["id"].get<std::string>()}) {
      const std::string target = app.path("out-" + id);
      RunOptions quick;
      quick.timeout_seconds = 60;  // a loop would show as a kill, not hang the suite
      RunResult r = app.Run({"backup", "restore", id, "--target", target}, quick);
      ++tried_;
      EXPECT_EQ(r.exit_code, 4) << what << ": " << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
      EXPECT_NE(r.err.find("is itself a delta blob"), std::string::npos) << what << ": " << r.err;
      EXPECT_FALSE(fs::exists(target + "/storage/rows.txt")) << what;
      if (fs::exists(target)) {
        EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << what;
      }
      if (!::testing::Test::HasFailure()) ++passed_;
    }
    RunOptions quick;
    quick.timeout_seconds = 60;
    RunResult verify = app.Run({"backup", "verify", "--all"}, quick);
    EXPECT_EQ(verify.exit_code, 4) << what << ": " << verify.err;
    EXPECT_NE((verify.out + verify.err).find("is itself a delta blob"), std::string::npos)
        << what << ": " << verify.out << verify.err;
    RunResult prune = app.Run({"backup", "prune"}, quick);
    EXPECT_TRUE(prune.exit_code == 0 || prune.exit_code == 4) << what << ": " << prune.err;
    EXPECT_EQ(app.Run({"backup", "verify", "--all"}, quick).exit_code, 4) << what;
  }
}

}  // namespace
}  // namespace velin::testing
