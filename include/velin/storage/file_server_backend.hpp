// A repository on a file server reached through libcurl: SFTP (`sftp://user@host:port/path`,
// public-key login, host key checked against a known_hosts file — never unchecked) or FTP
// (`ftp://user@host:port/path`, password from VELIN_FTP_PASSWORD; `ftps://` = FTP with explicit
// TLS required for control and data). Put is atomic: the object is uploaded under a temp name
// ("name.tmp-<random>", never listed) in its directory, then renamed with the protocol's rename
// command, so a reader sees the old object, the new one, or briefly none — never a partial one.
// Missing directories are created on upload. Dropped connections, timeouts and refused
// connections are retried with backoff, as for S3. Thread-safe; connections are pooled.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "velin/storage/backend.hpp"
#include "velin/storage/dir_listing.hpp"
#include "velin/storage/retry_policy.hpp"

namespace velin::storage {

class CurlPool;
class ReadTails;

enum class FileProtocol { kSftp, kFtp, kFtps };

struct FileServerOptions {
  FileProtocol protocol = FileProtocol::kSftp;
  std::string host;
  int port = 0;  // 0 = 22 (sftp) or 21 (ftp/ftps)
  std::string user;
  // The repository directory: for SFTP an absolute path, for FTP relative to the login
  // directory ("" = the login directory itself). No leading or trailing '/'.
  std::string root;
  std::string password;         // FTP only
  std::string key_file;         // SFTP only: private key (ed25519 or ecdsa)
  std::string public_key_file;  // SFTP only: its public half ("" = derived from key_file)
  std::string key_passphrase;   // SFTP only: of key_file ("" = none)
  std::string known_hosts;      // SFTP only: required
  std::string ca_file;          // FTPS only: CA bundle for a private CA ("" = the system's)
  // A local directory where packs wait, as unnamed files (O_TMPFILE), while they are uploaded
  // (NewObjectWriter); "" = none: packs are put whole from memory.
  std::string spill_dir;
  // The objects a caller replaces under their own name (a Put over an existing one): one found
  // missing by Get or Stat while a copy a replacing Put moved aside (`<name>.tmp-old-…`) is there
  // is put back, or read where it is (RecoverMovedAside). Storage knows no object names: the
  // repository layer names them (repo::ObjectsReplacedInPlace).
  std::set<std::string> replaced_in_place;
};

class FileServerBackend : public Backend {
 public:
  // Checks the options (no connection yet). `retry` defaults to RetryPolicy{}.
  static Result<std::unique_ptr<FileServerBackend>> Create(FileServerOptions options,
                                                           const RetryPolicy* retry = nullptr);
  ~FileServerBackend() override;

  // Logs in and lists the repository directory once, so that a wrong key, host key, password
  // or path gives its clear one-line error at open time; OpenBackend calls it.
  Status CheckAccess();

  std::string Location() const override;
  Status Put(const std::string& name, std::string_view data) override;
  // `last_sweep` is the server's clock as its listings show it: a pack directory (data/xx)
  // with no entry made or removed in it since two days and an hour before that sweep is not
  // listed, since every temp in it was old enough then and went (CachingBackend keeps the time).
  Result<StaleTempSweep> RemoveStaleTemps(int64_t last_sweep, const TempLayout& layout) override;
  Result<std::string> Get(const std::string& name) override;
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& name) override;
  Result<std::optional<ObjectInfo>> Stat(const std::string& name) override;
  // A pack written into an unnamed file in FileServerOptions::spill_dir as it fills, and
  // uploaded from there on Commit (as Put uploads: a temp name, then a rename), so that its
  // writer goes on while it travels and several packs travel at once without being held in
  // memory (a server 20 ms away takes ~30 MB/s on one connection). nullptr (whole Puts) when
  // there is no spill_dir, it has less than 256 MiB free, or it cannot hold unnamed files.
  Result<std::unique_ptr<ObjectWriter>> NewObjectWriter(const std::string& dir) override;

  // Requests sent to the server so far (transfers, listings, commands; each attempt counts).
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  struct Transfer;
  struct Reply;
  class SpillWriter;
  FileServerBackend(FileServerOptions options, const RetryPolicy& retry);
  bool IsSftp() const { return options_.protocol == FileProtocol::kSftp; }
  // The server-side path of an object ("" = the root) for URLs and quote commands.
  std::string RemotePath(const std::string& name) const;
  std::string UrlOf(const std::string& remote_path, bool directory) const;
  // The quote command removing `remote_path`; `may_fail` prefixes "*" (libcurl goes on when the
  // server refuses it).
  std::string RemoveCommand(const std::string& remote_path, bool may_fail) const;
  // The HEAD request (size, existence) of the object `name`.
  Transfer HeadOf(const std::string& name) const;
  Result<Reply> Perform(const Transfer& transfer, bool& transient, int* curl_code = nullptr);
  Result<Reply> PerformWithRetries(const Transfer& transfer);
  Error CurlError(const Transfer& transfer, int code, const char* error_buffer) const;
  bool IsKeyExchangeFailure(int code, const char* error_buffer) const;
  // A failed upload of `t` to `temp` in `dir`: its temp removed, and on SFTP a full disk or a
  // read-only file system named (EROFS: not retried, and readers go on without their lock).
  Status UploadFailed(const Transfer& t, const std::string& temp, const std::string& dir,
                      const Error& error, int code, bool& transient);
  // What an SFTP server says (statvfs) of the file system holding `dir`, or of its nearest
  // existing parent (`dir` of the result): the room left for this user, and whether it is
  // mounted read-only. nullopt when the server does not say.
  struct ServerFs {
    std::string dir;
    uint64_t free = 0;
    bool read_only = false;
  };
  std::optional<ServerFs> ServerFileSystem(const std::string& dir);
  // SFTP: the directory on the way to `dir` (itself or its nearest missing parent) that the
  // server refuses to make for lack of permission, or nullopt (file_server_refusal.cpp).
  std::optional<std::string> SftpDirectoryRefused(const std::string& dir);
  // FTP: the file or directory on the way to `remote_path` that exists but that the login may
  // not read or enter, or nullopt when `remote_path` is simply not there (file_server_refusal.cpp).
  std::optional<std::string> FtpPathRefused(const std::string& remote_path);
  // The entries of the server directory `remote_path`; none when it does not exist. Their
  // times are UTC (ListingOffset).
  Result<std::vector<ListingEntry>> ListingAt(const std::string& remote_path,
                                              const std::string& what);
  // How far the times of this server's listings are ahead of UTC: OpenSSH's SFTP server (and
  // many FTP servers) write them in the server's own time zone. Learnt once, from the entry of
  // `entries` (the listing of `remote_path`) last modified: its listed time against the
  // modification time the server's stat gives (SFTP attributes, FTP MDTM: UTC), rounded to a
  // quarter of an hour. 0 until known, and where the server gives no such time.
  int64_t ListingOffset(const std::string& remote_path, const std::vector<ListingEntry>& entries);
  // Uploads `data`, or with fd >= 0 the first `size` bytes of that file, as `name`.
  Status PutOnce(const std::string& name, std::string_view data, int fd, uint64_t size,
                 bool& transient);
  Status PutFromFile(const std::string& name, int fd, uint64_t size);
  // The entries of `dir` ("" = the root); none when it does not exist.
  Result<std::vector<ListingEntry>> Listing(const std::string& dir);
  Status ListDir(const std::string& dir, const std::string& prefix, std::vector<ObjectInfo>& out);
  // Removes the stale temps among `entries` (the listing of `dir`), counted in `removed`, and
  // names its subdirectories to sweep.
  Status SweepTemps(const TempLayout& layout, const std::string& dir,
                    const std::vector<ListingEntry>& entries, int64_t now, int64_t skip_before,
                    std::vector<std::string>& subdirs, size_t& removed);
  // `name` missing: its copy a replacing Put moved aside and never removed, put back under
  // `name` (which is returned) or, where it cannot be renamed, its own name; nullopt when there
  // is none.
  Result<std::optional<std::string>> RecoverMovedAside(const std::string& name);
  // Runs quote commands (delete, rename) on their own request.
  Status RunCommands(const std::vector<std::string>& commands, const std::string& what,
                     bool& transient);

  FileServerOptions options_;
  std::unique_ptr<RetryPolicy> retry_;
  std::unique_ptr<CurlPool> pool_;
  // FTP only: the rest of a pack read at its second read (velin/storage/read_tails.hpp).
  std::unique_ptr<ReadTails> tails_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<bool> spill_refused_{false};  // said once, at -v, why packs are put whole
  std::mutex offset_mu_;
  std::optional<int64_t> listing_offset_;  // ListingOffset, once known
};

}  // namespace velin::storage
