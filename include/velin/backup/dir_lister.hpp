// Lists a backup's directories ahead of its walk, on a thread of its own: each directory's
// entries sorted by name and one lstat per entry that is not excluded — the system calls that
// are most of a no-change backup of many small files. The walk compares what it takes from
// here with the earlier backup (a different core's work), and `backup create` starts the lister
// before it unlocks the repository, so an encrypted repository's key derivation (scrypt,
// ~0.07 s) runs beside the listing instead of before it.
//
// The lister visits the directories in the walk's order (include by include, each depth first,
// children by name) and follows the walk's rules (excludes, skip paths, symlinked include
// roots), holding at most kMaxEntries entries that the walk has not taken yet. A listing the
// walk did not ask for (a directory it skipped) is dropped; a directory the lister did not list
// (one it could not read, or that appeared since) the walk lists itself, and reports what is
// wrong with it. So does a directory whose listing is older than kMaxAge (the walk was slow,
// or waited for a lock): a listing the walk uses is about as fresh as the walk's own would be.
// The cost of a slow walk is bounded too: at most kMaxEntries lstats thrown away per kMaxAge.
// REQUIRES: env is safe to call from two threads (every Env of velin's is).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/io/env.hpp"

namespace velin::backup {

// One directory as the walk sees it: its entries sorted by name and, for each entry that is not
// excluded (no value), its lstat or why that failed.
struct DirListing {
  std::vector<io::DirEntry> entries;
  std::vector<std::optional<Result<io::FileInfo>>> infos;
  // The fstat of the directory listed (its device and inode say which one it was), and
  // whether its file system keeps inode numbers (io::Env::StableInodes).
  std::optional<io::FileInfo> self;
  bool stable_inodes = true;
};

// Lists `abs`, whose path relative to the app root is `rel_app`, skipping the lstat of entries
// that `exclude` (globs, see IsExcluded) matches.
Result<DirListing> ListDirectory(io::Env& env, const std::string& abs, const std::string& rel_app,
                                 const std::vector<std::string>& exclude);

struct CreateOptions;

class DirLister {
 public:
  static constexpr size_t kMaxEntries = 32768;  // ~5 MiB of listings ahead at most
  static constexpr std::chrono::seconds kMaxAge{2};

  // Starts listing at once the directories a backup with `options` walks (its app_root,
  // include, exclude and skip_paths, copied).
  DirLister(io::Env& env, const CreateOptions& options);
  ~DirLister();  // Stop()
  DirLister(const DirLister&) = delete;
  DirLister& operator=(const DirLister&) = delete;

  // The listing of `abs`, a directory of backup.include number `root`, or nothing: list it
  // yourself. Waits while the lister has not got that far. Listings of directories before
  // `abs` in the walk's order that were not taken are dropped.
  std::optional<DirListing> Take(size_t root, const std::string& abs);

  // Ends the listing (joins the thread); Take answers nothing from then on. Idempotent.
  void Stop();

  // For tests: waits until the lister has listed all it will (or is stopped); the directories
  // it listed, those whose listing the walk took, and those the walk listed itself.
  void WaitDone();
  size_t listed() const;
  size_t taken() const;
  size_t missed() const;

 private:
  // What the lister needs of a backup's options.
  struct Plan {
    std::string app_root;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    std::vector<std::string> skip_paths;
  };
  struct Item {
    size_t root;
    std::string abs;
    DirListing listing;
    std::chrono::steady_clock::time_point made;  // when its listing began
  };

  void Run();
  void ListTree(size_t root, const std::string& abs, const std::string& rel_app);
  bool Push(Item item);  // false: stopped

  io::Env& env_;
  const Plan plan_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Item> ready_;
  size_t ready_entries_ = 0;
  bool done_ = false;  // the lister has listed all it will
  std::atomic<bool> stop_{false};
  std::atomic<size_t> listed_{0};
  size_t taken_ = 0;
  size_t missed_ = 0;
  std::thread thread_;
};

}  // namespace velin::backup
