#include "velin/storage/file_server_backend.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "curl_session.hpp"
#include "file_server_transfer.hpp"
#include "velin/core/host_port.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/storage/dir_listing.hpp"
#include "velin/storage/read_tails.hpp"
#include "velin/storage/temp_names.hpp"

namespace velin::storage {
namespace {

// Temp names: "<name>.tmp-<12 hex>", "<name>.tmp-old-<12 hex>" (velin/storage/temp_names.hpp).
constexpr std::string_view kTempMarker = ".tmp-";
// What an FTP backend keeps of packs read to their end: four packs, one per connection.
constexpr uint64_t kTailBudget = 64ULL << 20;
// The least free space in FileServerOptions::spill_dir for packs to wait there: a backup keeps
// up to (uploads + 2 × workers) packs of 16 MiB in it (128 MiB with 4 uploads and 2 workers).
constexpr uint64_t kMinSpillRoom = 256ULL << 20;

// SFTP quote commands take paths in double quotes (libcurl unescapes \" and \\).
std::string QuotePath(const std::string& path) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

FileServerBackend::FileServerBackend(FileServerOptions options, const RetryPolicy& retry)
    : options_(std::move(options)),
      retry_(std::make_unique<RetryPolicy>(retry)),
      pool_(std::make_unique<CurlPool>()),
      tails_(options_.protocol == FileProtocol::kSftp ? nullptr
                                                      : std::make_unique<ReadTails>(kTailBudget)) {}

FileServerBackend::~FileServerBackend() = default;

Result<std::unique_ptr<FileServerBackend>> FileServerBackend::Create(FileServerOptions options,
                                                                     const RetryPolicy* retry) {
  bool sftp = options.protocol == FileProtocol::kSftp;
  if (options.host.empty())
    return UsageError(std::string(Tr("remote destination without a host name")));
  if (options.user.empty()) {
    return UsageError(TrFormat("{}://{}: the URL must name the user (user@host)",
                               sftp ? "sftp" : "ftp", options.host));
  }
  if (sftp && options.key_file.empty()) {
    return UsageError(
        TrFormat("sftp://{}: set storage.sftp.key_file (a private key)", options.host));
  }
  if (sftp && options.known_hosts.empty()) {
    return UsageError(TrFormat(
        "sftp://{}: set storage.sftp.known_hosts (velin never connects unchecked)", options.host));
  }
  if (options.port == 0) options.port = sftp ? 22 : 21;
  while (!options.root.empty() && options.root.back() == '/') options.root.pop_back();
  while (!options.root.empty() && options.root.front() == '/') options.root.erase(0, 1);
  return std::unique_ptr<FileServerBackend>(
      new FileServerBackend(std::move(options), retry ? *retry : RetryPolicy{}));
}

std::string FileServerBackend::Location() const {
  std::string scheme = IsSftp()                                   ? "sftp"
                       : options_.protocol == FileProtocol::kFtps ? "ftps"
                                                                  : "ftp";
  return scheme + "://" + options_.user + "@" + HostPort(options_.host, options_.port) + "/" +
         options_.root;
}

std::string FileServerBackend::RemotePath(const std::string& name) const {
  std::string path = options_.root;
  if (!name.empty()) path += path.empty() ? name : "/" + name;
  return IsSftp() ? "/" + path : path;
}

std::string FileServerBackend::UrlOf(const std::string& remote_path, bool directory) const {
  std::string path = remote_path;
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  std::string url = std::string(IsSftp() ? "sftp" : "ftp") + "://" +
                    HostPort(options_.host, options_.port) + "/" + UriEncode(path, true);
  if (directory && !path.empty()) url += "/";
  return url;
}

Status FileServerBackend::CheckAccess() {
  std::vector<ObjectInfo> ignored;
  return ListDir("", "\x01", ignored);  // a prefix nothing matches: one listing, no recursion
}

Status FileServerBackend::RunCommands(const std::vector<std::string>& commands,
                                      const std::string& what, bool& transient) {
  Transfer t;
  t.kind = Transfer::Kind::kCommand;
  t.url = UrlOf("", true);
  // FTP paths are relative to the login directory, where libcurl changes back to before a
  // request on a connection an upload left in the object's directory; commands sent before
  // that (CURLOPT_QUOTE) ran in the upload's directory instead: after the transfer they run
  // where they should.
  if (IsSftp()) {
    t.quote = commands;
  } else {
    t.postquote = commands;
  }
  t.what = what;
  VELIN_ASSIGN(Reply reply, Perform(t, transient));
  (void)reply;
  return Ok();
}

Status FileServerBackend::PutOnce(const std::string& name, std::string_view data, int fd,
                                  uint64_t size, bool& transient) {
  auto [dir, base] = SplitPath(RemotePath(name));
  std::string temp_base = base + std::string(kTempMarker) + RandomHex(12);
  std::string temp = dir.empty() ? temp_base : dir + "/" + temp_base;
  std::string final_path = dir.empty() ? base : dir + "/" + base;
  Transfer t;
  t.kind = Transfer::Kind::kUpload;
  t.url = UrlOf(temp, false);
  t.body = data;
  t.body_fd = fd;
  t.body_size = size;
  t.what = "put " + name;
  if (IsSftp()) {
    t.postquote = {"rename " + QuotePath(temp) + " " + QuotePath(final_path)};
  } else {
    t.postquote = {"RNFR " + temp_base, "RNTO " + base};  // in the upload's directory
  }
  int code = CURLE_OK;
  auto uploaded = Perform(t, transient, &code);
  if (uploaded) return Ok();
  if (code != CURLE_QUOTE_ERROR)
    return UploadFailed(t, temp, dir, uploaded.error(), code, transient);
  // The rename was refused: OpenSSH's SFTP rename (and many FTP servers' RNTO) never replaces an
  // existing file. Move the old object aside (under a temp name, which listings skip), move the
  // new one in, then delete the old: no instant without the object under one of the two names,
  // so a crash in between never loses it (the old one is then `<name>.tmp-old-…` on the server).
  const std::string aside_base = base + std::string(kTempMarker) + "old-" + RandomHex(12);
  const std::string aside = dir.empty() ? aside_base : dir + "/" + aside_base;
  std::vector<std::string> commands =
      IsSftp()
          ? std::vector<std::string>{"rename " + QuotePath(final_path) + " " + QuotePath(aside),
                                     "rename " + QuotePath(temp) + " " + QuotePath(final_path),
                                     "*rm " + QuotePath(aside)}
          : std::vector<std::string>{"RNFR " + final_path, "RNTO " + aside, "RNFR " + temp,
                                     "RNTO " + final_path, "*DELE " + aside};
  auto replaced = RunCommands(commands, "put " + name + " (replace)", transient);
  if (!replaced) {
    bool ignored = false;
    (void)RunCommands({RemoveCommand(temp, true)}, "cleanup", ignored);
  }
  return replaced;
}

std::string FileServerBackend::RemoveCommand(const std::string& remote_path, bool may_fail) const {
  return std::string(may_fail ? "*" : "") +
         (IsSftp() ? "rm " + QuotePath(remote_path) : "DELE " + remote_path);
}

Status FileServerBackend::UploadFailed(const Transfer& t, const std::string& temp,
                                       const std::string& dir, const Error& error, int code,
                                       bool& transient) {
  // A server that could not be reached left nothing behind; one that took part of the object
  // (a full disk, a dropped connection) has it under the temp name: it goes now, not when a
  // later sweep finds it an hour old, since it holds the room the next attempt needs.
  if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
      code == CURLE_OPERATION_TIMEDOUT) {
    return tl::unexpected(error);
  }
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    // Stopped by SIGTERM/SIGINT: the server may hold part of the body under the temp name (a
    // copy stopped mid-pack left 4 MiB there, a prune its lock's temp, for a sweep an hour
    // later). It goes as a stop's other cleanup does, within the same grace; one that was never
    // sent costs a refused removal.
    if (StopRequested()) {
      TerminationCleanup cleanup;
      bool ignored = false;
      (void)RunCommands({RemoveCommand(temp, true)}, "cleanup", ignored);
    }
    return tl::unexpected(error);
  }
  bool ignored = false;
  (void)RunCommands({RemoveCommand(temp, true)}, "cleanup", ignored);
  // SFTP says only "Failure" when the disk is full or the file system read-only (and "No such
  // file" when a directory could not be made on one): ask the server.
  if (!IsSftp()) return tl::unexpected(error);
  const std::string where = NoTr(Location() + ": " + t.what + ": ");
  // libcurl makes an upload's missing directories, takes the server's refusal of one as "it
  // may be there already", and uploads into it: "No such file" (ENOENT) for a directory this
  // login may not make, which readers took for damage instead of going on without their lock.
  if (code == CURLE_REMOTE_FILE_NOT_FOUND && !dir.empty()) {
    if (auto refused = SftpDirectoryRefused(dir)) {
      transient = false;  // no retry gives the login the right
      return tl::unexpected(Error{
          ExitCode::kFailed,
          where + TrFormat("access denied: the server does not let '{}' create the directory {}",
                           options_.user, *refused),
          EACCES});
    }
  }
  const uint64_t needed = t.body_fd >= 0 ? t.body_size : t.body.size();
  auto fs = ServerFileSystem(dir.empty() ? "/" : dir);
  if (!fs) return tl::unexpected(error);
  if (fs->read_only) {
    transient = false;  // no retry makes it writable; readers go on without a lock (EROFS)
    std::string_view detail = error.message;  // what libcurl said, after the same `where`
    if (detail.starts_with(where)) detail.remove_prefix(where.size());
    return tl::unexpected(
        Error{ExitCode::kFailed,
              where + TrFormat("the server's file system at {} is read-only ({})", fs->dir, detail),
              EROFS});
  }
  if (fs->free >= needed) return tl::unexpected(error);
  transient = false;  // the same upload would fail the same way
  return tl::unexpected(
      Error{ExitCode::kFailed,
            where + TrFormat("the server has no room for it ({} bytes free in {}, {} needed)",
                             fs->free, fs->dir, needed),
            ENOSPC});
}

std::optional<FileServerBackend::ServerFs> FileServerBackend::ServerFileSystem(
    const std::string& dir) {
  // A directory the upload could not make is not there to ask: its nearest existing parent is
  // on the same file system (or the one that refused to make it).
  std::string at = dir;
  for (int depth = 0; depth < 64; ++depth) {
    Transfer t;
    t.kind = Transfer::Kind::kCommand;
    t.url = UrlOf("", true);
    t.quote = {"statvfs " + QuotePath(at)};
    t.what = "statvfs";
    t.headers = true;
    bool ignored = false;
    auto reply = Perform(t, ignored);
    if (!reply) {
      if (at == "/" || at.empty()) return std::nullopt;
      const size_t slash = at.rfind('/');
      at = slash == std::string::npos || slash == 0 ? "/" : at.substr(0, slash);
      continue;
    }
    // "statvfs:\nf_bsize: 4096\nf_frsize: 4096\n…f_bavail: …\nf_flag: 1\n…" (f_flag bit 1:
    // ST_RDONLY, as the statvfs@openssh.com extension sends it).
    auto field = [&](const std::string& name) -> std::optional<uint64_t> {
      const std::string key = "\n" + name + ": ";
      const size_t found = reply->body.find(key);
      if (found == std::string::npos) return std::nullopt;
      uint64_t v = 0;
      const char* begin = reply->body.data() + found + key.size();
      auto [ptr, ec] = std::from_chars(begin, reply->body.data() + reply->body.size(), v);
      if (ec != std::errc() || ptr == begin) return std::nullopt;
      return v;
    };
    const auto blocks = field("f_bavail"), size = field("f_frsize"), flags = field("f_flag");
    if (!blocks || !size) return std::nullopt;
    return ServerFs{.dir = at, .free = *blocks * *size, .read_only = flags && (*flags & 1) != 0};
  }
  return std::nullopt;
}

Status FileServerBackend::Put(const std::string& name, std::string_view data) {
  if (tails_) tails_->Forget(name);
  return WithRetries(*retry_,
                     [&](bool& transient) { return PutOnce(name, data, -1, 0, transient); });
}

Status FileServerBackend::PutFromFile(const std::string& name, int fd, uint64_t size) {
  if (tails_) tails_->Forget(name);
  return WithRetries(*retry_,
                     [&](bool& transient) { return PutOnce(name, {}, fd, size, transient); });
}

class FileServerBackend::SpillWriter : public ObjectWriter {
 public:
  SpillWriter(FileServerBackend& backend, int fd) : backend_(backend), fd_(fd) {}
  ~SpillWriter() override { ::close(fd_); }  // an unnamed file: its blocks go with it
  SpillWriter(const SpillWriter&) = delete;
  SpillWriter& operator=(const SpillWriter&) = delete;

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return ErrnoError(TrFormat("{}: cannot keep a pack in {} while it is uploaded (set "
                                   "TMPDIR to a directory with room)",
                                   backend_.Location(), backend_.options_.spill_dir),
                          n < 0 ? errno : ENOSPC);
      }
      size_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Ok();
  }
  Status Commit(const std::string& name) override { return backend_.PutFromFile(name, fd_, size_); }

 private:
  FileServerBackend& backend_;
  int fd_;
  uint64_t size_ = 0;
};

Result<std::unique_ptr<ObjectWriter>> FileServerBackend::NewObjectWriter(const std::string& dir) {
  (void)dir;  // the upload makes its directory
  const std::string& spill = options_.spill_dir;
  if (spill.empty()) return std::unique_ptr<ObjectWriter>();
  struct statvfs fs {};
  int fd = -1;
  const bool room = ::statvfs(spill.c_str(), &fs) == 0 &&
                    static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize >= kMinSpillRoom;
  if (room) fd = ::open(spill.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (!spill_refused_.exchange(true)) {
      spdlog::debug("{}: packs are put whole from memory: {} {}", Location(), spill,
                    room ? "cannot hold unnamed files" : "has less than 256 MiB free");
    }
    return std::unique_ptr<ObjectWriter>();
  }
  return std::unique_ptr<ObjectWriter>(std::make_unique<SpillWriter>(*this, fd));
}

namespace {

// How long a reader that finds an object of FileServerOptions::replaced_in_place missing and its
// old one moved aside waits for the replace to finish before it takes the old one for what a
// killed writer left.
constexpr std::chrono::milliseconds kMovedAsideSettle{1500};

}  // namespace

// A Put that replaces an object moves the old one aside first (PutOnce): killed, or its
// connection lost, between that rename and the next, it leaves `config` only as
// `config.tmp-old-<12 hex>`, and every command took the repository for a damaged one (exit 4,
// "put back `config` from a copy") until someone found that name and renamed it by hand. The
// object moved aside is the whole old config: it is put back under its name (a rename, which
// never replaces, so a config another velin put there meanwhile stays), or read where it is when
// the server refuses the rename (a read-only repository). The newest, should there be several.
Result<std::optional<std::string>> FileServerBackend::RecoverMovedAside(const std::string& name) {
  const auto [dir, base] = SplitPath(name);
  VELIN_ASSIGN(std::vector<ListingEntry> entries, Listing(dir));
  const ListingEntry* aside = nullptr;
  for (const ListingEntry& entry : entries) {
    if (entry.is_directory) continue;
    // `name` is one of replaced_in_place, which the repository layer names: its directory is
    // the repository's.
    const TempName temp = ParseTempName(entry.name);
    if (temp.kind != TempKind::kMovedAside || temp.final_name != base) continue;
    if (!aside || entry.mtime > aside->mtime) aside = &entry;
  }
  if (!aside) return std::optional<std::string>();
  const std::string aside_name = dir.empty() ? aside->name : dir + "/" + aside->name;
  const std::string from = RemotePath(aside_name);
  const std::string to = RemotePath(name);
  // A replace under way is one round trip from its next rename: put back now, the old object
  // would refuse that rename and fail the command replacing it (a verify after its whole read).
  // A moment later the object is there again, unless its writer died.
  std::this_thread::sleep_for(kMovedAsideSettle);
  if (PerformWithRetries(HeadOf(name))) return std::optional<std::string>(name);
  bool transient = false;
  auto renamed = RunCommands(
      IsSftp() ? std::vector<std::string>{"rename " + QuotePath(from) + " " + QuotePath(to)}
               : std::vector<std::string>{"RNFR " + from, "RNTO " + to},
      "put back " + name, transient);
  if (renamed) {
    spdlog::warn("{}", TrFormat("{}: {} was missing and {} held it (a velin stopped while "
                                "replacing it): put it back",
                                Location(), name, aside_name));
    return std::optional<std::string>(name);
  }
  spdlog::warn("{}", TrFormat("{}: {} is missing and {} holds it (a velin stopped while "
                              "replacing it), which could not be renamed back ({}): read from "
                              "there",
                              Location(), name, aside_name, renamed.error().message));
  return std::optional<std::string>(aside_name);
}

Result<std::string> FileServerBackend::Get(const std::string& name) {
  Transfer t;
  t.url = UrlOf(RemotePath(name), false);
  t.what = "get " + name;
  auto reply = PerformWithRetries(t);
  if (reply) return std::move(reply->body);
  if (options_.replaced_in_place.contains(name) && IsNotFound(reply.error())) {
    // A listing that fails leaves the answer as it was: not found.
    auto found = RecoverMovedAside(name);
    if (found && *found) {
      Transfer again;
      again.url = UrlOf(RemotePath(**found), false);
      again.what = "get " + **found;
      VELIN_ASSIGN(Reply recovered, PerformWithRetries(again));
      return std::move(recovered.body);
    }
  }
  // An FTP server answers 550 for an object that is not there and for one this login may not
  // read alike: a repository it may not open read as none ("run 'velin backup init'").
  if (!IsSftp() && IsNotFound(reply.error())) {
    if (auto refused = FtpPathRefused(RemotePath(name))) {
      const std::string where = NoTr(Location() + ": " + t.what + ": ");
      return tl::unexpected(
          Error{ExitCode::kFailed,
                where + (*refused == RemotePath(name)
                             ? TrFormat("access denied: the server lists {} but does not let '{}' "
                                        "read it",
                                        *refused, options_.user)
                             : TrFormat("access denied: the server does not let '{}' into the "
                                        "directory {}",
                                        options_.user, *refused)),
                EACCES});
    }
  }
  return tl::unexpected(reply.error());
}

Result<std::string> FileServerBackend::GetRange(const std::string& name, uint64_t offset,
                                                uint64_t length) {
  if (length == 0) return std::string();
  Transfer t;
  t.url = UrlOf(RemotePath(name), false);
  t.what = "get " + name + " bytes " + std::to_string(offset) + "+" + std::to_string(length);
  Reply reply;
  std::optional<Result<std::string>> from_tail;
  if (tails_ && name.starts_with("data/")) {  // packs: written once, never changed
    // Its size first (a command on the connection, once a pack): a read near its end then runs
    // to the end and keeps the connection. A failed stat leaves the error to the read.
    if (!tails_->SizeOf(name)) (void)Stat(name);
    from_tail = tails_->Read(name, offset, length, [&](uint64_t from) -> Result<std::string> {
      Transfer rest = t;
      rest.range = std::make_pair(from, Transfer::kToEnd);
      rest.what = "get " + name + " from byte " + std::to_string(from);
      VELIN_ASSIGN(Reply whole, PerformWithRetries(rest));
      return std::move(whole.body);
    });
  }
  if (from_tail) {
    if (!*from_tail) return tl::unexpected(from_tail->error());
    reply.body = std::move(**from_tail);
  } else {
    // A range that ends where the object does is asked for as "to the end": libcurl aborts a
    // ranged FTP read once it has its bytes (and closes the connection) even at the end.
    const bool to_end = tails_ && tails_->SizeOf(name) == offset + length;
    t.range = std::make_pair(offset, to_end ? Transfer::kToEnd : offset + length - 1);
    VELIN_ASSIGN(reply, PerformWithRetries(t));
    if (reply.body.size() > length) reply.body.resize(length);  // grown since its size was asked
  }
  if (reply.body.size() != length) {
    return ShortObjectError(TrFormat(
        "{}: object {} is shorter than expected (wanted {} bytes at offset {}, got {})", Location(),
        name, std::to_string(length), std::to_string(offset), std::to_string(reply.body.size())));
  }
  return std::move(reply.body);
}

Result<std::vector<ListingEntry>> FileServerBackend::Listing(const std::string& dir) {
  return ListingAt(RemotePath(dir), "list " + (dir.empty() ? std::string("/") : dir));
}

Result<std::vector<ListingEntry>> FileServerBackend::ListingAt(const std::string& remote_path,
                                                               const std::string& what) {
  Transfer t;
  t.url = UrlOf(remote_path, true);
  t.what = what;
  auto reply = PerformWithRetries(t);
  if (!reply) {
    if (IsNotFound(reply.error())) return std::vector<ListingEntry>();
    return tl::unexpected(reply.error());
  }
  std::vector<ListingEntry> entries = ParseLongListing(reply->body);
  if (const int64_t offset = ListingOffset(remote_path, entries); offset != 0) {
    for (ListingEntry& e : entries) {
      if (e.mtime > 0) e.mtime -= offset;
    }
  }
  return entries;
}

// A server whose listings showed New York time made a live lock 5 hours old (stale) to whoever
// compared it with a clock; one on Berlin time dated it an hour ahead. Each time zone's offset is
// a whole quarter of an hour; a listed time is the true one in that zone cut to its minute, so
// up to 59 s early.
//
// Learnt only from a file written within the last day (kOffsetSource): a listed time carries the
// offset of its own date, and the newest file of the first listing may be months old (`config`,
// written once by init) — across a daylight saving change that offset is an hour off, and a
// read-only reader took a prune's fresh lock for an hour old and stale. And from the newest such
// file still there, trying the next ones when a stat finds none: the newest is often a lock
// attempt deleted a moment later, and a listing left uncorrected (its times 5 hours behind on New
// York time) beside a later, corrected one made `backup unlock --stale` take a live lock for
// stale. A listing with no such file stays uncorrected; its times are over a day old then, stale
// at every age velin judges either way.
int64_t FileServerBackend::ListingOffset(const std::string& remote_path,
                                         const std::vector<ListingEntry>& entries) {
  // Held while it is learnt: listings run several at a time (the sweep), and each would stat a
  // file of its own to learn the same offset.
  std::lock_guard lock(offset_mu_);
  if (listing_offset_) return *listing_offset_;
  constexpr int64_t kOffsetSource = 86400;
  constexpr int64_t kFarthestZone = 14 * 3600;  // a listed time is up to this far from UTC
  constexpr size_t kStats = 3;
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  std::vector<const ListingEntry*> recent;
  for (const ListingEntry& e : entries) {
    if (e.is_directory || !e.to_the_minute) continue;
    if (e.mtime < now - kOffsetSource - kFarthestZone) continue;  // old by any zone: no stat
    recent.push_back(&e);
  }
  std::sort(recent.begin(), recent.end(),
            [](const ListingEntry* a, const ListingEntry* b) { return a->mtime > b->mtime; });
  if (recent.size() > kStats) recent.resize(kStats);
  for (const ListingEntry* newest : recent) {
    Transfer t;
    t.kind = Transfer::Kind::kHead;
    t.url = UrlOf(remote_path.empty() ? newest->name : remote_path + "/" + newest->name, false);
    t.what = "stat " + newest->name;
    t.filetime = true;
    bool transient = false;
    auto reply = Perform(t, transient);
    if (!reply) continue;  // gone meanwhile (a lock attempt, a temp), or the server is busy
    constexpr int64_t kQuarter = 900;
    int64_t offset = 0;
    if (reply->filetime > 0) {
      // Written over a day ago (a listed time a zone ahead): the next listing.
      if (now - reply->filetime > kOffsetSource) return 0;
      const int64_t ahead = newest->mtime + 30 - reply->filetime;  // the middle of its minute
      offset = (ahead >= 0 ? ahead + kQuarter / 2 : ahead - kQuarter / 2) / kQuarter * kQuarter;
      if (offset > 14 * 3600 || offset < -12 * 3600) offset = 0;  // no time zone: a wrong reply
    }
    if (offset != 0) {
      spdlog::debug("{}: its listings show times {} s ahead of UTC (its time zone)", Location(),
                    offset);
    }
    listing_offset_ = offset;
    return offset;
  }
  return 0;  // nothing recent here to learn it from: the next listing
}

Status FileServerBackend::ListDir(const std::string& dir, const std::string& prefix,
                                  std::vector<ObjectInfo>& out) {
  VELIN_ASSIGN(std::vector<ListingEntry> entries, Listing(dir));
  for (ListingEntry& entry : entries) {
    std::string rel = dir.empty() ? entry.name : dir + "/" + entry.name;
    if (entry.is_directory) {
      std::string as_dir = rel + "/";
      size_t n = std::min(as_dir.size(), prefix.size());
      if (as_dir.compare(0, n, prefix, 0, n) == 0) VELIN_TRY(ListDir(rel, prefix, out));
    } else if (rel.compare(0, prefix.size(), prefix) == 0 &&
               entry.name.find(kTempMarker) == std::string::npos) {
      out.push_back(
          ObjectInfo{std::move(rel), entry.size, entry.mtime, entry.to_the_minute ? 60 : 86400});
    }
  }
  return Ok();
}

// Slack for the sweep's skipping (RemoveStaleTemps' `last_sweep`): the longest an upload is taken
// to run, from its temp's creation to its last write (a day), and a listing's coarsest time (a day:
// `ls -l` shows only the date of an entry over six months old).
constexpr int64_t kSweepSlack = 2 * 86400;

// A file server has no pids to ask: a temp upload counts as abandoned once it is older than
// kStaleTempAge by the server's own clock — its newest lock object, written by the command that
// sweeps (listing times may be local times read as UTC; the lock's are read the same way).
// Without a lock object there is no such clock, and nothing is removed. A "<name>.tmp-old-…"
// (the old object moved aside while a Put replaced it) goes only when <name> exists: without
// it, it is the only copy.
//
// Every repository directory (temp_names.hpp: never one of the user's beside them) is listed (a
// request each, four round trips on SFTP; a repository has up to 256 pack directories), so
// several are listed at a time, as many as reads at once (ParallelReadsFor): an unchanged backup to
// SFTP 20 ms away spent 21 of its 25 s here. The repository's own directories are listed from the
// start, beside locks/ (whose newest object is the clock) and the root (which names any other): the
// pack directories a round later. Walked a level at a time — locks/, the root, its directories, the
// pack directories — an unchanged backup to SFTP 20 ms away spent 0.34 s of its 2.7 s here.
Result<StaleTempSweep> FileServerBackend::RemoveStaleTemps(int64_t last_sweep,
                                                           const TempLayout& layout) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> dirs{"locks", "data", "", "index", "snapshots"};  // to list
  std::set<std::string> queued(dirs.begin(), dirs.end());
  std::optional<int64_t> now;  // once locks/ is listed
  int64_t skip_before = 0;
  int listing = 0;
  size_t removed = 0;
  std::optional<Error> failure;
  auto work = [&] {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return failure || !dirs.empty() || listing == 0; });
      if (failure || dirs.empty()) return;  // failed, or nothing left and nobody listing
      if (now && *now <= 0) return;         // no clock: nothing is removed
      std::string dir = std::move(dirs.front());
      dirs.pop_front();
      ++listing;
      lock.unlock();
      auto entries = Listing(dir);
      lock.lock();
      if (entries && dir == "locks") {
        int64_t newest = 0;
        for (const ListingEntry& e : *entries) {
          if (!e.is_directory && e.name.find(kTempMarker) == std::string::npos) {
            newest = std::max(newest, e.mtime);
          }
        }
        now = newest;
        // A temp is made in its directory (which dates the directory) and written within a day
        // (an upload that long has long stalled out); at the last sweep it was then over an hour
        // old and went (kSweepSlack). A last sweep "after" this one (another clock, a repository
        // made again) counts as none.
        skip_before =
            last_sweep > 0 && last_sweep <= newest ? last_sweep - kStaleTempAge - kSweepSlack : 0;
        cv.notify_all();
      }
      if (!entries && !failure) failure = entries.error();
      cv.wait(lock, [&] { return failure || now; });  // locks/ is first: its lister is not here
      if (failure || *now <= 0) {
        --listing;
        cv.notify_all();
        continue;
      }
      const int64_t clock = *now;
      lock.unlock();
      std::vector<std::string> subdirs;
      size_t n = 0;
      Status swept = SweepTemps(layout, dir, *entries, clock, skip_before, subdirs, n);
      lock.lock();
      --listing;
      removed += n;
      if (!swept && !failure) failure = swept.error();
      for (std::string& d : subdirs) {
        if (queued.insert(d).second) dirs.push_back(std::move(d));
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> helpers;
  const int most = std::max(1, ParallelReadsFor(Location()));
  helpers.reserve(static_cast<size_t>(most));
  for (int i = 1; i < most; ++i) {
    auto t = StartThread(work, nullptr);
    if (!t) break;  // no thread to spare (ulimit -u): fewer sweep
    helpers.push_back(std::move(*t));
  }
  work();
  for (std::thread& t : helpers) t.join();
  if (failure) return tl::unexpected(*failure);
  if (!now || *now <= 0) return StaleTempSweep{};
  return StaleTempSweep{removed, *now};
}

// Removes the stale temps of `dir` (counted in `removed`) and names its subdirectories.
Status FileServerBackend::SweepTemps(const TempLayout& layout, const std::string& dir,
                                     const std::vector<ListingEntry>& entries, int64_t now,
                                     int64_t skip_before, std::vector<std::string>& subdirs,
                                     size_t& removed) {
  for (const ListingEntry& entry : entries) {
    const std::string rel = dir.empty() ? entry.name : dir + "/" + entry.name;
    if (entry.is_directory) {
      // Only the repository's own directories: one of the user's beside them is never swept.
      if (!IsRepositoryDir(layout, rel)) continue;
      // Pack directories hold packs only: one untouched since before skip_before is skipped.
      if (dir != "data" || entry.mtime <= 0 || entry.mtime >= skip_before) subdirs.push_back(rel);
      continue;
    }
    const TempName temp = RepositoryTempName(layout, dir, entry.name);
    if (temp.kind == TempKind::kNone) continue;
    if (entry.mtime <= 0 || now - entry.mtime <= kStaleTempAge) continue;
    if (temp.kind == TempKind::kMovedAside) {
      const bool has_final = std::any_of(entries.begin(), entries.end(), [&](const auto& e) {
        return !e.is_directory && e.name == temp.final_name;
      });
      if (!has_final) continue;
    }
    const std::string path = RemotePath(rel);
    bool transient = false;
    auto gone = RunCommands({RemoveCommand(path, true)}, "remove stale temp " + rel, transient);
    if (!gone) return gone;
    ++removed;
  }
  return Ok();
}

Result<std::vector<ObjectInfo>> FileServerBackend::List(const std::string& prefix) {
  // The walk starts in the deepest directory the prefix names whole ("locks/" and "locks/x":
  // locks; "data/a": data), not at the root: each listing is a request (four round trips on
  // SFTP), and a backup listed the root a dozen times on the way to locks/ or snapshots/.
  // A directory that is not there lists as empty, as it did when the root was walked.
  const size_t slash = prefix.rfind('/');
  std::vector<ObjectInfo> out;
  VELIN_TRY(ListDir(slash == std::string::npos ? "" : prefix.substr(0, slash), prefix, out));
  return out;
}

Status FileServerBackend::Delete(const std::string& name) {
  if (tails_) tails_->Forget(name);
  std::string path = RemotePath(name);
  auto deleted = WithRetries(*retry_, [&](bool& transient) {
    return RunCommands({RemoveCommand(path, false)}, "delete " + name, transient);
  });
  if (deleted) return Ok();
  VELIN_ASSIGN(auto info, Stat(name));
  if (!info) return Ok();  // it was not there: deleting a missing object is fine
  return deleted;
}

FileServerBackend::Transfer FileServerBackend::HeadOf(const std::string& name) const {
  Transfer t;
  t.kind = Transfer::Kind::kHead;
  t.url = UrlOf(RemotePath(name), false);
  t.what = "stat " + name;
  return t;
}

Result<std::optional<ObjectInfo>> FileServerBackend::Stat(const std::string& name) {
  Transfer t = HeadOf(name);
  auto reply = PerformWithRetries(t);
  // As in Get.
  if (!reply && options_.replaced_in_place.contains(name) && IsNotFound(reply.error())) {
    auto found = RecoverMovedAside(name);
    if (!found || !*found) return std::optional<ObjectInfo>();
    t.url = UrlOf(RemotePath(**found), false);
    reply = PerformWithRetries(t);
  }
  if (!reply) {
    if (IsNotFound(reply.error())) return std::optional<ObjectInfo>();
    return tl::unexpected(reply.error());
  }
  if (reply->content_length >= 0) {
    if (tails_ && name.starts_with("data/")) {
      tails_->NoteSize(name, static_cast<uint64_t>(reply->content_length));
    }
    return std::optional<ObjectInfo>(
        ObjectInfo{name, static_cast<uint64_t>(reply->content_length)});
  }
  // No size in the reply: find the object in its directory's listing.
  VELIN_ASSIGN(auto listed, List(name));
  for (ObjectInfo& info : listed) {
    if (info.name == name) return std::optional<ObjectInfo>(std::move(info));
  }
  return std::optional<ObjectInfo>();
}

}  // namespace velin::storage
