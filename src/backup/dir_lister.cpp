#include "velin/backup/dir_lister.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "velin/backup/archiver.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/threads.hpp"

namespace velin::backup {

namespace {

// ListDirectory, giving up (an empty listing) once *stop is set.
Result<DirListing> ListUnlessStopped(io::Env& env, const std::string& abs,
                                     const std::string& rel_app,
                                     const std::vector<std::string>& exclude,
                                     const std::atomic<bool>* stop) {
  DirListing out;
  // One open of the directory: its names, their lstats and its own fstat all come from the
  // directory opened, even if its path is made to lead elsewhere meanwhile (the walk checks
  // `self` against the lstat its parent's listing gave).
  Result<io::DirPtr> opened = env.OpenDir(abs);
  if (!opened) {
    if (opened.error().sys_errno == 0) return tl::unexpected(opened.error());
    return tl::unexpected(
        ErrnoError(TrFormat("cannot list {}", abs), opened.error().sys_errno).value());
  }
  const io::DirPtr dir = std::move(*opened);
  VELIN_ASSIGN(out.entries, env.ListDirAt(*dir));
  if (Result<io::FileInfo> self = env.StatAt(*dir, ".")) out.self = *self;
  out.stable_inodes = env.StableInodes(*dir);
  std::sort(out.entries.begin(), out.entries.end(),
            [](const io::DirEntry& a, const io::DirEntry& b) { return a.name < b.name; });
  // One lstat per entry, relative to the directory's descriptor: the kernel resolves one name
  // instead of walking the whole path from / (half of a no-change backup's time with many
  // small files).
  out.infos.resize(out.entries.size());
  for (size_t i = 0; i < out.entries.size(); ++i) {
    if (stop && stop->load(std::memory_order_relaxed)) return DirListing{};
    if (IsExcluded(exclude, rel_app + "/" + out.entries[i].name)) continue;
    out.infos[i] = env.StatAt(*dir, out.entries[i].name);
  }
  return out;
}

// The walk's order of two directories of one include: depth first, children by name, i.e. their
// paths compared component by component ("a/b" before "a-c", unlike the strings).
bool WalksBefore(std::string_view a, std::string_view b) {
  for (;;) {
    const size_t ea = std::min(a.find('/'), a.size());
    const size_t eb = std::min(b.find('/'), b.size());
    const std::string_view ca = a.substr(0, ea);
    const std::string_view cb = b.substr(0, eb);
    if (ca != cb) return ca < cb;
    if (ea == a.size() || eb == b.size()) return ea == a.size() && eb != b.size();
    a.remove_prefix(ea + 1);
    b.remove_prefix(eb + 1);
  }
}

}  // namespace

Result<DirListing> ListDirectory(io::Env& env, const std::string& abs, const std::string& rel_app,
                                 const std::vector<std::string>& exclude) {
  return ListUnlessStopped(env, abs, rel_app, exclude, nullptr);
}

namespace {

// As CreateBackup walks them.
std::vector<std::string> NormalIncludes(const std::vector<std::string>& include) {
  std::vector<std::string> out;
  for (const auto& path : include) out.push_back(NormalizeInclude(path));
  return out;
}

}  // namespace

DirLister::DirLister(io::Env& env, const CreateOptions& options)
    : env_(env),
      plan_{options.app_root, NormalIncludes(options.include), options.exclude,
            options.skip_paths} {
  // Without a thread (ulimit -u), or once it throws (out of memory), the lister is done: the
  // walk lists every directory itself, and meets what is short itself.
  auto thread = StartThread([this] { Run(); },
                            [this](const Error&) {
                              std::lock_guard lock(mu_);
                              done_ = true;
                              changed_.notify_all();
                            });
  if (thread) {
    thread_ = std::move(*thread);
  } else {
    done_ = true;
  }
}

DirLister::~DirLister() { Stop(); }

void DirLister::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    ready_.clear();
    ready_entries_ = 0;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DirLister::WaitDone() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return done_ || stop_; });
}

size_t DirLister::listed() const { return listed_.load(std::memory_order_relaxed); }

size_t DirLister::taken() const {
  std::lock_guard lock(mu_);
  return taken_;
}

size_t DirLister::missed() const {
  std::lock_guard lock(mu_);
  return missed_;
}

void DirLister::Run() {
  for (size_t root = 0; root < plan_.include.size() && !stop_; ++root) {
    const std::string& include = plan_.include[root];
    const std::string abs = io::JoinPath(plan_.app_root, include);
    // As ArchivePath: a symlink include is followed when it leads to a directory.
    auto info = env_.Stat(abs);
    if (info && info->type == io::FileType::kSymlink) info = env_.Stat(abs + "/.");
    if (info && info->type == io::FileType::kDirectory) ListTree(root, abs, include);
  }
  std::lock_guard lock(mu_);
  done_ = true;
  changed_.notify_all();
}

// As ArchiveDir and ArchiveNode decide: every entry that is a directory by its lstat, not
// excluded and not a skip path, is walked into, in name order, after its parent.
void DirLister::ListTree(size_t root, const std::string& abs, const std::string& rel_app) {
  if (!StackHasRoom()) return;  // deeper, the walk lists itself (core/stack.hpp)
  // Its age counts from before the listing, not from when there was room for it.
  const auto made = env_.SteadyNow();
  auto listing = ListUnlessStopped(env_, abs, rel_app, plan_.exclude, &stop_);
  if (!listing || stop_) return;  // the walk lists it itself and reports what is wrong
  listed_.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::pair<std::string, std::string>> subdirs;  // path, name
  for (size_t i = 0; i < listing->entries.size(); ++i) {
    const auto& info = listing->infos[i];
    if (!info || !*info || (*info)->type != io::FileType::kDirectory) continue;
    const std::string& name = listing->entries[i].name;
    std::string child = io::JoinPath(abs, name);
    if (std::find(plan_.skip_paths.begin(), plan_.skip_paths.end(), child) !=
        plan_.skip_paths.end()) {
      continue;
    }
    subdirs.emplace_back(std::move(child), name);
  }
  if (!Push({root, abs, std::move(*listing), made})) return;
  for (size_t i = 0; i < subdirs.size() && !stop_; ++i) {
    ListTree(root, subdirs[i].first, rel_app + "/" + subdirs[i].second);
  }
}

bool DirLister::Push(Item item) {
  std::unique_lock lock(mu_);
  const size_t n = item.listing.entries.size();
  // A directory larger than the bound goes alone.
  changed_.wait(lock, [&] { return stop_ || ready_.empty() || ready_entries_ + n <= kMaxEntries; });
  if (stop_) return false;
  ready_entries_ += n;
  ready_.push_back(std::move(item));
  changed_.notify_all();
  return true;
}

std::optional<DirListing> DirLister::Take(size_t root, const std::string& abs) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop_) {
      ++missed_;
      return std::nullopt;
    }
    if (ready_.empty()) {
      if (done_) {
        ++missed_;
        return std::nullopt;
      }
      changed_.wait(lock);
      continue;
    }
    Item& front = ready_.front();
    if (front.root == root && front.abs == abs) {
      if (env_.SteadyNow() - front.made > kMaxAge) {
        ready_entries_ -= front.listing.entries.size();
        ready_.pop_front();
        changed_.notify_all();
        ++missed_;
        return std::nullopt;
      }
      DirListing out = std::move(front.listing);
      ready_entries_ -= out.entries.size();
      ready_.pop_front();
      ++taken_;
      changed_.notify_all();
      return out;
    }
    if (front.root < root || (front.root == root && WalksBefore(front.abs, abs))) {
      ready_entries_ -= front.listing.entries.size();  // a directory the walk skipped
      ready_.pop_front();
      changed_.notify_all();
      continue;
    }
    ++missed_;  // the lister passed `abs` by (unreadable then, or new since)
    return std::nullopt;
  }
}

}  // namespace velin::backup
