// The trees of a remote repository are read ahead (repo/tree_prefetch.hpp): on a repository
// that says it is on S3 (a MemEnv behind, each ranged read taking a moment), a walk of a backup
// of many directories sees the same trees as on the local repository, verify and restore come
// out the same, the trees are read from several threads, a directory's subtrees with one
// request, and a tree that cannot be read fails the walk with the same error as without
// reading ahead.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "mem_repo.hpp"
#include "support/forwarding_backend.hpp"
#include "support/test_support.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/backup/verifier.hpp"

namespace velin::backup {
namespace {

// Says it is on S3; each ranged read of a pack takes 2 ms; a chosen range fails with EIO.
class FarAwayBackend : public testing::ForwardingBackend {
 public:
  explicit FarAwayBackend(storage::Backend& base) : ForwardingBackend(base) {}
  std::string Location() const override { return "s3://mem/repo"; }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    if (name.starts_with("data/")) {
      {
        std::lock_guard lock(mu_);
        threads_.insert(std::this_thread::get_id());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::lock_guard lock(mu_);
      // Any read of that range fails, one of several trees read together too.
      if (name == failing_pack_ && offset <= failing_offset_ && failing_offset_ < offset + length) {
        return ErrnoError(name, 5);
      }
      ranged_reads_++;
    }
    return base().GetRange(name, offset, length);
  }
  void Fail(const std::string& pack, uint64_t offset) {
    std::lock_guard lock(mu_);
    failing_pack_ = pack;
    failing_offset_ = offset;
  }
  uint64_t ranged_reads() const { return ranged_reads_.load(); }
  size_t threads() {
    std::lock_guard lock(mu_);
    return threads_.size();
  }

 private:
  std::mutex mu_;
  std::set<std::thread::id> threads_;
  std::string failing_pack_;
  uint64_t failing_offset_ = 0;
  std::atomic<uint64_t> ranged_reads_{0};
};

// Every node under `tree`, one line each ("path type"), in walk order, or the walk's error.
Status WalkTrees(repo::Repository& r, const repo::BlobId& tree, const std::string& path,
                 std::vector<std::string>& out) {
  VELIN_ASSIGN(repo::Tree t, r.ReadTree(tree));
  for (const repo::Node& n : t.nodes) {
    out.push_back(path + "/" + n.name + " " + std::to_string(static_cast<int>(n.type)));
    if (n.type == repo::NodeType::kDir)
      VELIN_TRY(WalkTrees(r, n.subtree, path + "/" + n.name, out));
  }
  return Ok();
}

class TreePrefetchMemTest : public MemRepoTest {
 protected:
  void SetUp() override {
    MemRepoTest::SetUp();
    // 6 directories of 6 directories of 2 files, and a file beside each directory.
    for (int a = 0; a < 6; ++a) {
      Put("storage/a" + std::to_string(a) + "/note", "note " + std::to_string(a));
      for (int b = 0; b < 6; ++b) {
        const std::string dir = "storage/a" + std::to_string(a) + "/b" + std::to_string(b);
        Put(dir + "/x", "x" + dir);
        Put(dir + "/y", "y" + dir);
      }
    }
    auto snap = Backup();
    ASSERT_TRUE(snap) << snap.error().message;
    snapshot_ = *snap;
    Reopen();  // repo_ with the backup's blobs in its index
    far_ = std::make_unique<FarAwayBackend>(*backend_);
    auto r = repo::Repository::Open(*far_, false, keys_);
    ASSERT_TRUE(r) << r.error().message;
    far_repo_ = std::move(*r);
    ASSERT_TRUE(far_repo_->LoadIndex());
  }

  const repo::BlobId& Root() const { return snapshot_.sources.front().tree; }

  repo::Snapshot snapshot_;
  std::unique_ptr<FarAwayBackend> far_;
  std::unique_ptr<repo::Repository> far_repo_;
};

TEST_F(TreePrefetchMemTest, AWalkSeesTheSameTreesReadFromSeveralThreads) {
  std::vector<std::string> here, there;
  ASSERT_TRUE(WalkTrees(*repo_, Root(), "", here));
  ASSERT_TRUE(WalkTrees(*far_repo_, Root(), "", there));
  EXPECT_EQ(there, here);
  EXPECT_EQ(here.size(), 1 + 6u * (1 + 1 + 6 * 3));  // storage; per a: a, note, 6 × (b, x, y)
  EXPECT_GT(far_->threads(), 1u) << "the subtrees were read ahead";
}

// A directory's subtrees, written one after the other, are read ahead with one request: once
// `storage` is handed out, its six subtrees come in one read (six before), and are then handed
// out without another.
TEST_F(TreePrefetchMemTest, ADirectorysSubtreesAreReadAheadWithOneRequest) {
  auto root = far_repo_->ReadTree(Root());  // read by the caller; queues `storage`
  ASSERT_TRUE(root) << root.error().message;
  ASSERT_EQ(root->nodes.size(), 1u);
  auto storage = far_repo_->ReadTree(root->nodes[0].subtree);  // ahead or by the caller: once
  ASSERT_TRUE(storage) << storage.error().message;
  ASSERT_EQ(storage->nodes.size(), 6u);  // a0..a5
  std::set<uint32_t> packs;  // the writer's workers filled packs of their own: one or two
  for (const repo::Node& n : storage->nodes) packs.insert(repo_->index().Find(n.subtree)->pack);
  const uint64_t expected = 2 + packs.size();
  ASSERT_TRUE(testing::WaitFor([&] { return far_->ranged_reads() >= expected; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(far_->ranged_reads(), expected) << "the root, storage, the a's a read per pack";
}

// While a DeeperTreeReads lives (create's walk of its parent, a whole restore), the subtrees of
// the a's are read too, before the walk takes any a: the b's come in a read per pack as well.
TEST_F(TreePrefetchMemTest, WhileReadingDeeperTheSubtreesOfSubtreesComeToo) {
  std::set<uint32_t> a_packs, b_packs;
  {
    repo::Repository::DeeperTreeReads deeper(*far_repo_);
    auto root = far_repo_->ReadTree(Root());
    ASSERT_TRUE(root) << root.error().message;
    auto storage = far_repo_->ReadTree(root->nodes[0].subtree);
    ASSERT_TRUE(storage) << storage.error().message;
    for (const repo::Node& a : storage->nodes) {
      a_packs.insert(repo_->index().Find(a.subtree)->pack);
      auto a_tree = repo_->ReadTree(a.subtree);  // where its b's lie (the near repository)
      ASSERT_TRUE(a_tree);
      for (const repo::Node& b : a_tree->nodes) {
        if (b.type == repo::NodeType::kDir) b_packs.insert(repo_->index().Find(b.subtree)->pack);
      }
    }
    const uint64_t expected = 2 + a_packs.size() + b_packs.size();
    EXPECT_TRUE(testing::WaitFor([&] { return far_->ranged_reads() >= expected; }))
        << far_->ranged_reads() << " reads, " << expected << " expected";
  }
}

TEST_F(TreePrefetchMemTest, VerifyAndRestoreComeOutTheSame) {
  auto report = VerifyBackups(*far_repo_, quiet_, {snapshot_.id});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  RestoreOptions o;
  o.target = "/out";
  auto restored = RestoreSnapshot(*far_repo_, snapshot_, env_, quiet_, o);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(Read("/out/storage/a3/b4/y"), "ystorage/a3/b4");
  EXPECT_EQ(Read("/out/storage/a5/note"), "note 5");
}

TEST_F(TreePrefetchMemTest, ATreeThatCannotBeReadFailsTheWalkAsWithoutReadingAhead) {
  // The tree of a2/b3 (below the source's root, wherever that starts), from the local repository.
  repo::BlobId target;
  std::function<void(const repo::BlobId&, const std::string&)> find = [&](const repo::BlobId& id,
                                                                          const std::string& path) {
    auto tree = repo_->ReadTree(id);
    ASSERT_TRUE(tree) << tree.error().message;
    for (const auto& n : tree->nodes) {
      if (n.type != repo::NodeType::kDir) continue;
      if ((path + "/" + n.name).ends_with("/a2/b3")) target = n.subtree;
      find(n.subtree, path + "/" + n.name);
    }
  };
  find(Root(), "");
  ASSERT_NE(target, repo::BlobId());
  auto e = repo_->index().Find(target);
  ASSERT_TRUE(e);
  far_->Fail(repo::PackObjectName(repo_->index().PackId(e->pack)), e->offset);
  std::vector<std::string> there;
  Status walked = WalkTrees(*far_repo_, Root(), "", there);
  ASSERT_FALSE(walked);
  // The same walk, one tree at a time (a repository that reads nothing ahead).
  class NearBackend : public testing::ForwardingBackend {
   public:
    NearBackend(storage::Backend& base, FarAwayBackend& far) : ForwardingBackend(base), far_(far) {}
    Result<std::string> GetRange(const std::string& name, uint64_t offset,
                                 uint64_t length) override {
      return far_.GetRange(name, offset, length);
    }

   private:
    FarAwayBackend& far_;
  } near(*backend_, *far_);
  auto r = repo::Repository::Open(near, false, keys_);
  ASSERT_TRUE(r);
  ASSERT_TRUE((*r)->LoadIndex());
  std::vector<std::string> one_by_one;
  Status alone = WalkTrees(**r, Root(), "", one_by_one);
  ASSERT_FALSE(alone);
  EXPECT_EQ(walked.error().message, alone.error().message);
  EXPECT_EQ(there, one_by_one) << "the walk got as far";
}

// A backend that answers a ranged read spanning more than one tree with half of it, without an
// error: a run is never cut past what came (ASan would see it), each of its trees is damage,
// and the walk, whose reads of one tree each come whole, comes out as on the local one.
TEST_F(TreePrefetchMemTest, ARunReadShortIsNeverReadPastItsEnd) {
  uint64_t longest = 0;  // the longest stored tree
  std::function<void(const repo::BlobId&)> measure = [&](const repo::BlobId& id) {
    auto e = repo_->index().Find(id);
    ASSERT_TRUE(e);
    longest = std::max<uint64_t>(longest, e->length);
    auto tree = repo_->ReadTree(id);
    ASSERT_TRUE(tree) << tree.error().message;
    for (const auto& n : tree->nodes) {
      if (n.type == repo::NodeType::kDir) measure(n.subtree);
    }
  };
  measure(Root());
  class ShortBackend : public testing::ForwardingBackend {
   public:
    ShortBackend(storage::Backend& base, uint64_t longest)
        : ForwardingBackend(base), longest_(longest) {}
    std::string Location() const override { return "s3://mem/short"; }
    Result<std::string> GetRange(const std::string& name, uint64_t offset,
                                 uint64_t length) override {
      auto got = base().GetRange(name, offset, length);
      if (got && name.starts_with("data/") && length > longest_) {
        got->resize(got->size() / 2);
        ++shortened;
      }
      return got;
    }
    std::atomic<int> shortened{0};

   private:
    uint64_t longest_;
  } short_reads(*backend_, longest);
  auto r = repo::Repository::Open(short_reads, false, keys_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE((*r)->LoadIndex());
  // The a's of one pack: one read, answered with half of it.
  auto root = repo_->ReadTree(Root());
  ASSERT_TRUE(root) << root.error().message;
  auto storage = repo_->ReadTree(root->nodes.at(0).subtree);
  ASSERT_TRUE(storage) << storage.error().message;
  std::vector<repo::BlobId> subtrees;
  for (const repo::Node& n : storage->nodes) {
    if (n.type == repo::NodeType::kDir) subtrees.push_back(n.subtree);
  }
  ASSERT_EQ(subtrees.size(), 6u);
  // Those in the pack holding most of them (the writer's workers fill a pack each).
  std::map<uint32_t, int> per_pack;
  for (const auto& id : subtrees) per_pack[repo_->index().Find(id)->pack]++;
  const uint32_t pack = std::max_element(per_pack.begin(), per_pack.end(), [](auto& x, auto& y) {
                          return x.second < y.second;
                        })->first;
  std::erase_if(subtrees, [&](const auto& id) { return repo_->index().Find(id)->pack != pack; });
  ASSERT_GE(subtrees.size(), 3u);
  std::sort(subtrees.begin(), subtrees.end(), [&](const auto& x, const auto& y) {
    return repo_->index().Find(x)->offset < repo_->index().Find(y)->offset;
  });
  std::vector<Result<repo::Tree>> run = (*r)->ReadTreeRun(subtrees);
  EXPECT_EQ(short_reads.shortened.load(), 1);
  ASSERT_EQ(run.size(), subtrees.size());
  for (const auto& tree : run) {
    ASSERT_FALSE(tree);
    EXPECT_EQ(tree.error().code, ExitCode::kDamage) << tree.error().message;
  }
  // Read whole, the same run is the trees; and a walk comes out as on the local repository.
  std::vector<Result<repo::Tree>> whole = far_repo_->ReadTreeRun(subtrees);
  ASSERT_EQ(whole.size(), subtrees.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    ASSERT_TRUE(whole[i]) << whole[i].error().message;
    auto alone = repo_->ReadTree(subtrees[i]);
    ASSERT_TRUE(alone);
    EXPECT_EQ(whole[i]->nodes.size(), alone->nodes.size());
    EXPECT_EQ(whole[i]->nodes.at(0).name, alone->nodes.at(0).name);
  }
  std::vector<std::string> here, there;
  ASSERT_TRUE(WalkTrees(*repo_, Root(), "", here));
  Status st = WalkTrees(**r, Root(), "", there);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(there, here);
}

}  // namespace
}  // namespace velin::backup
