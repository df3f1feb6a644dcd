// A repository: packs, index objects, snapshots and a config object in a storage::Backend
// (docs/repository-format.md). Opening reads the config and refuses a format newer than this
// velin understands; LoadIndex() merges every index object in memory. Reads verify: ReadBlob
// returns a blob only when its SHA-256 matches its id. Writing goes through a BlobWriter
// (blob_writer.hpp); snapshots are written last, as the commit point.
// REQUIRES: LoadIndex() before ReadBlob(); ReadBlob() may be called from several threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/crypto/aead.hpp"
#include "velin/crypto/blob_id_hasher.hpp"
#include "velin/crypto/key_object.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/crypto/master_key.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/chunker.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/repo/tree.hpp"
#include "velin/repo/tree_prefetch.hpp"
#include "velin/storage/backend.hpp"
#include "velin/storage/temp_names.hpp"

namespace velin::repo {

// 2: encrypted repositories (docs/encryption.md). 3: delta blobs (codec kZstdDelta,
// docs/delta.md); new repositories are created at 3, and an older velin refuses them by their
// version. Repositories at 1 or 2 are read and written as before, without delta blobs.
// 4: VLNTREE2 trees (fifos, device nodes, extended attributes, sparse files; tree.hpp); new
// repositories are created at 4. Repositories at 1-3 get VLNTREE1 trees as before.
inline constexpr int kFormatVersion = 4;
inline constexpr int kDeltaFormatVersion = 3;
inline constexpr int kExtendedTreeFormatVersion = 4;

// The chunker sizes a config may name (docs/repository-format.md, "config"): every velin has
// written 512 KiB / 1 MiB / 8 MiB.
inline constexpr uint64_t kMinChunkMinSize = 64 * 1024;
inline constexpr uint64_t kMaxChunkMaxSize = 64 * 1024 * 1024;

// The HKDF info of the key that authenticates an encrypted repository's config
// (crypto::MasterKey::Derive).
inline constexpr std::string_view kConfigMacPurpose = "velin repository config v1";

// The objects a command replaces under their own name (a Put over an existing one): the
// repository's config (`backup upgrade`) and the record of the last verify (every verify,
// kVerifyRecordObject). No other object is ever written twice: locks are refreshed under new
// names. For storage::BackendOptions::replaced_in_place, which the backend that opens a
// repository is given.
std::set<std::string> ObjectsReplacedInPlace();

// The repository's directories (the root, keys, locks, index, snapshots, state,
// state/offsite-pending, data and data/00 … data/ff) and the one object of its root (config),
// docs/repository-format.md: where storage::Backend::RemoveStaleTemps looks for the temps of dead
// writers, and nowhere else (the root may be the user's home, beside their own files).
storage::TempLayout TempFileLayout();

struct RepoConfig {
  int format_version = 1;
  std::string id;  // random, 32 hex digits
  ChunkerParams chunker;
  crypto::Cipher cipher = crypto::Cipher::kNone;
  // As stored: "sha256:<hex>" (unencrypted), "hmac-sha256:<hex>" (encrypted), "" in the configs
  // of velins before it; checked on every open.
  std::string checksum;
};

// How to create or unlock an encrypted repository. The passphrase is asked for only when the
// repository is (or is being created) encrypted.
struct RepoKeyOptions {
  crypto::Cipher cipher = crypto::Cipher::kNone;  // for Init / Open(create)
  std::function<Result<std::string>()> passphrase;
  // The passphrase as its environment variable holds it, when that differs from `passphrase`
  // (which has trailing newlines stripped, as a file's), else "": tried for unlocking only, when
  // `passphrase` opens no key — velins before 2026-12 took such a value verbatim, and
  // repositories initialised from it keep opening (docs/encryption.md, "Passphrases").
  std::function<Result<std::string>()> unstripped_passphrase;
  crypto::KeyOrigin origin;          // recorded in a new key object
  crypto::ScryptParams scrypt = {};  // for a new key object
  // Called by Open, on its thread, once an encrypted repository's config is read and before its
  // passphrase is asked for and derived (scrypt: ~0.1 s): what needs no key can start then.
  std::function<void()> deriving;
};

// How the keys of another repository that open with the passphrase were told from its own.
enum class ForeignKeyEvidence {
  kConfigChecksum,  // their master keys do not verify the config's checksum
  // The config has no checksum (an older velin's): the repository's first snapshot or index
  // object opened with another key, not with them.
  kSealedObject,
};

// The key of a repository that a passphrase opened, and the keys that opened with it but
// belong to another repository (copied in), told apart by `told_by`.
struct RepositoryKey {
  crypto::OpenedKey key;
  std::vector<std::string> foreign;
  ForeignKeyEvidence told_by = ForeignKeyEvidence::kConfigChecksum;
};

// Something wrong found while loading: which object, what.

struct ObjectDamage {
  std::string object;
  std::string message;
};

class ObjectFetcher;  // object_fetch.hpp

class Repository {
 public:
  // Opens the repository in `backend`. With `create`, a backend without a config object is
  // initialised; without it, that is an error saying to run `velin backup init`. A backend
  // that holds repository objects (keys, packs, index objects, snapshots) but no config is a
  // damaged repository: a DamageError, never initialised over.
  static Result<std::unique_ptr<Repository>> Open(storage::Backend& backend, bool create,
                                                  const RepoKeyOptions& keys = {});
  // Writes a fresh config object (and, when encrypted, the first key object before it, so the
  // config is the commit point); an error when one exists, a DamageError when other
  // repository objects do.
  static Status Init(storage::Backend& backend, const RepoKeyOptions& keys = {});
  // The config object of the repository in `backend`, range-checked but not yet authenticated
  // (no key is opened): for a look before unlocking, as `backup copy` compares a destination's
  // id and cipher with its source's before it tries the passphrase there.
  static Result<RepoConfig> ReadConfig(storage::Backend& backend);
  // The key of the encrypted repository in `backend` that `passphrase` opens, for the commands
  // that change keys without opening the repository (`backup key`): as Open chooses it (a key
  // copied from another repository with the same passphrase opens too, but is not taken). A
  // backend without a config (an interrupted init) gives the first key that opens.
  static Result<RepositoryKey> OpenKey(storage::Backend& backend, std::string_view passphrase);

  storage::Backend& backend() { return backend_; }
  const RepoConfig& config() const { return config_; }
  const Chunker& chunker() const { return chunker_; }
  bool encrypted() const { return sealer_ != nullptr; }
  // The ids of the keys that opened with the passphrase but belong to another repository
  // (RepositoryKey::foreign): for a warning naming each.
  const std::vector<std::string>& foreign_keys() const { return foreign_keys_; }
  ForeignKeyEvidence foreign_keys_told_by() const { return foreign_told_by_; }
  // Whether delta blobs may be written here (format version 3 and later).
  bool delta_blobs() const { return config_.format_version >= kDeltaFormatVersion; }
  // Whether trees are written as VLNTREE2 here (format version 4 and later).
  bool extended_trees() const { return config_.format_version >= kExtendedTreeFormatVersion; }

  // The id of a blob: SHA-256, or HMAC-SHA-256 with the master key's MAC key when encrypted.
  Result<BlobId> HashBlob(std::string_view data) const;
  // Seals `plain` as the object (`kind`, `name`) when encrypted; returns it unchanged otherwise.
  Result<std::string> SealObject(std::string_view kind, std::string_view name,
                                 std::string plain) const;
  // The reverse; a DamageError when the object was altered, truncated or swapped.
  // SealObject into dst[0, SealedSize(n)) (a pack's buffer): no copy, no allocation.
  size_t SealedSize(size_t plain_size) const;
  Status SealObjectInto(std::string_view kind, std::string_view name, std::string_view plain,
                        char* dst) const;
  Result<std::string> OpenObject(std::string_view kind, std::string_view name,
                                 std::string stored) const;

  // Raises the repository to kFormatVersion (one atomic write of the config object) and returns
  // the version it had; a config without a checksum (an older velin's) gets one too. Only
  // `format_version` and `checksum` change: every other field stays as read, those of a later
  // velin too. Older velins refuse a raised version afterwards (not the checksum, a field they
  // do not read).
  // REQUIRES: the exclusive lock.
  Result<int> UpgradeFormat();
  // Reads the config object again, for a command that opened the repository before it held its
  // lock: a `backup upgrade` may have raised the format version in between (a create then
  // stored no extended attributes and warned that the repository was still at version 3). Its
  // checksum is checked with the key opened; an id, cipher or chunker other than the one opened
  // is an error (the repository was replaced meanwhile), and the config stays as it was.
  Status ReloadConfig();

  // Called before each commit step (an index object, a snapshot, prune's and forget's
  // deletions) and after a snapshot is written: fails once the repository lock is lost
  // (RepoLock::Check, which asks the storage: one request). Unset: always Ok.
  void SetCommitGuard(std::function<Status()> guard) { commit_guard_ = std::move(guard); }
  Status CheckCommitGuard() const { return commit_guard_ ? commit_guard_() : Ok(); }

  // What LoadIndex asks the storage about the packs the index objects list.
  enum class PackCheck {
    // Only the packs of blobs that several packs list (rare: a Stat each, one listing beyond
    // a few), so that a blob stored again after its pack went is read from the new pack.
    kDuplicates,
    // Every pack, with one listing of data/ (one request per 1000 packs on S3): the entries
    // of packs that are gone are dropped, so that `create` stores their blobs again instead
    // of pointing a new backup at them (index().missing_packs() names them).
    kAll,
    // No pack is asked about, but the verify record is read (one small object): the entries
    // of the packs it lists as damaged are dropped, as kAll drops them, and the others are
    // taken as there. For `create` and `copy` into an SFTP/FTP repository, where listing data/
    // is hundreds of round trips. Without damaged packs it is kDuplicates.
    kDamaged,
  };
  // Either way a pack the verify record lists as damaged (repo/damaged_packs.hpp) counts as
  // absent: with kAll and kDamaged its entries are dropped (damaged_packs() names those), with
  // kDuplicates a blob another pack holds too is read from there.
  // Reads and merges every index object. An unreadable or damaged one is skipped and listed
  // in index_damage() (create then stores its blobs again; verify reports it). The snapshots
  // listed just before are remembered: a snapshot another velin commits after that may point
  // at index objects this load did not see, so reading it (LoadSnapshot, LoadAllSnapshots,
  // ResolveSnapshotId) loads the index again first, instead of calling its blobs missing.
  Status LoadIndex(PackCheck check = PackCheck::kDuplicates);
  // Merges into index() the index objects (their plaintext) that this process wrote since
  // LoadIndex (BlobWriterOptions::add_to_index): a later writer here (the next backup copied
  // to the same destination) finds their blobs stored instead of sending them again.
  // REQUIRES: no read or writer of this repository runs meanwhile.
  Status AddIndexObjects(const std::vector<std::string>& objects);
  const Index& index() const { return index_; }
  const std::vector<ObjectDamage>& index_damage() const { return index_damage_; }
  // Those of index().missing_packs() that are there but a verify found damaged (kAll only).
  const std::vector<BlobId>& damaged_packs() const { return damaged_packs_; }
  // What to say of a blob no index lists, in parentheses after it: with a damaged index object,
  // that one (the blob is likely listed there, and only verify names it otherwise) — "index
  // object index/238f… is damaged: run `velin backup verify --all`"; else "run `velin backup
  // verify`".
  std::string NotIndexedHint() const;

  // The blob's plaintext, checked against its id. Missing or damaged: DamageError naming the
  // blob and pack.
  Result<std::string> ReadBlob(const BlobId& id) const;
  // The same into `raw`, with `stored` as scratch: both keep their memory from call to call,
  // so a loop reading many blobs allocates (and page-faults) nothing after the first.
  Status ReadBlobInto(const BlobId& id, std::string& raw, std::string& stored) const;
  // The second half of ReadBlobInto, for a caller that read the stored bytes itself (restore
  // reads neighbouring blobs of a pack at once): `stored` holds blob `id`'s bytes as entry `e`
  // places them in its pack; opened, decompressed and checked against the id into `raw`
  // (`stored` may be taken over). Damaged: DamageError naming the blob and pack.
  Status DecodeStoredBlob(const BlobId& id, const IndexEntry& e, std::string& stored,
                          std::string& raw) const;
  // The first half of ReadBlobInto: blob `id`'s stored bytes (sealed, compressed) into `stored`
  // and its index entry into `e`, unchecked (`backup copy` sends them on as they are, after
  // CheckStoredBlob). Missing from the index or its pack: DamageError naming the blob and pack.
  Status ReadStoredInto(const BlobId& id, IndexEntry& e, std::string& stored) const;
  // DecodeStoredBlob for a caller that wants the stored bytes checked, not decoded: opened and
  // decompressed into `scratch` and hashed; damaged: the same DamageError.
  Status CheckStoredBlob(const BlobId& id, const IndexEntry& e, std::string_view stored,
                         std::string& scratch) const;
  // A blob's stored bytes as a pack holds them: opened (when encrypted) and decompressed into
  // `raw`; returns the id its plaintext hashes to, for the caller to compare with the one it
  // expects. Restore, verify and prune all check blobs this way. A delta blob's base is read
  // (and checked) from the repository.
  Result<BlobId> DecodeBlob(const BlobId& id, Codec codec, uint64_t raw_length,
                            std::string_view stored, std::string& raw) const;
  // DecodeBlob for a caller that wants the id only (verify, prune): the same checks, but a
  // blob stored as is (incompressible data) is hashed where it lies, or where it was opened,
  // instead of being copied first. `scratch` may hold anything afterwards.
  Result<BlobId> CheckBlob(const BlobId& id, Codec codec, uint64_t raw_length,
                           std::string_view stored, std::string& scratch) const;
  // CheckBlob for a caller done with the stored bytes once they are checked (verify, which has
  // hashed its pack segment already): an encrypted blob is opened where it lies, overwriting
  // `stored`, instead of into a buffer of its own (that copy, and the zeros a growing buffer
  // is filled with first, were a third of what encryption added to a verify).
  Result<BlobId> CheckBlobInPlace(const BlobId& id, Codec codec, uint64_t raw_length,
                                  std::span<char> stored, std::string& scratch) const;
  // A tree blob, decoded. From a remote repository the trees of its subdirectories are then
  // read ahead, several at a time (tree_prefetch.hpp). Any thread.
  Result<Tree> ReadTree(const BlobId& id);
  // While one lives, the trees read ahead have their own subtrees read ahead as well
  // (TreePrefetcher::SetReadDeeper): for a walk that takes every tree it is handed (create's of
  // its parent, a whole restore's, the verify of one backup), never one that skips subtrees
  // (prune's).
  class DeeperTreeReads {
   public:
    explicit DeeperTreeReads(Repository& repo) : prefetch_(repo.tree_prefetch_.get()) {
      if (prefetch_) prefetch_->SetReadDeeper(true);
    }
    ~DeeperTreeReads() {
      if (prefetch_) prefetch_->SetReadDeeper(false);
    }
    DeeperTreeReads(const DeeperTreeReads&) = delete;
    DeeperTreeReads& operator=(const DeeperTreeReads&) = delete;

   private:
    TreePrefetcher* prefetch_;
  };
  // Trees of one pack, sorted by offset, with one ranged read (what the read-ahead uses,
  // TreePrefetcher::ReadRunFn): a result for each, in order. A read that fails or comes short
  // fails each of them; a damaged tree fails alone. Any thread.
  std::vector<Result<Tree>> ReadTreeRun(const std::vector<BlobId>& ids);
  // Tree `id` from its blob's checked plaintext `raw`: DamageError, named by the id, when it
  // does not decode. A source top tree of an earlier spelling decodes named (SnapshotFrom).
  Result<Tree> DecodeTreeBlob(const BlobId& id, std::string_view raw) const;

  // Snapshot ids, sorted (ids sort by time). Objects in snapshots/ whose name cannot be an id
  // (CouldBeSnapshotId: ".DS_Store", "notes.txt") are no backups: left out, and their names
  // put in `foreign` when given (list and verify --all say so).
  Result<std::vector<std::string>> ListSnapshotIds(std::vector<std::string>* foreign = nullptr);
  // Snapshot `id` was written by this process (its index objects are in index()): no reason
  // to load the index again when it is read.
  void NoteSnapshotWritten(const std::string& id);
  Result<Snapshot> LoadSnapshot(const std::string& id);
  // Every snapshot that can be read, oldest first; damaged ones are listed in `damage` (each
  // message says "snapshot ID: why"), names that are no id in `foreign` (ListSnapshotIds).
  Result<std::vector<Snapshot>> LoadAllSnapshots(std::vector<ObjectDamage>* damage,
                                                 std::vector<std::string>* foreign = nullptr);
  // Resolves "latest", a full id or a unique prefix to an id. Unknown or ambiguous: usage error.
  // "latest" is the newest (repo::SnapshotNewer) of the snapshots `filter` matches; an id or a
  // prefix names a snapshot whatever its host and app.
  Result<std::string> ResolveSnapshotId(const std::string& name);
  Result<std::string> ResolveSnapshotId(const std::string& name, const SnapshotFilter& filter);

 private:
  Repository(storage::Backend& backend, RepoConfig config)
      : backend_(backend), config_(std::move(config)), chunker_(config_.chunker) {}
  // The master key of a new encrypted repository (or of the key objects an interrupted init
  // left).
  static Result<crypto::MasterKey> CreateKeys(storage::Backend& backend,
                                              const RepoKeyOptions& keys);
  // Opens the key (encrypted) and checks the config's checksum with it.
  Status Unlock(const RepoKeyOptions& keys);
  // Of the keys `passphrase` opens, the one whose master key verifies the config's checksum
  // (`canonical`, DecodeConfig's); without a checksum (an older velin's config) the one whose
  // master key every key shares, or that opens a snapshot or index object. A DamageError when
  // none is the repository's.
  static Result<RepositoryKey> SelectKey(storage::Backend& backend, const RepoConfig& config,
                                         const std::string& canonical, std::string_view passphrase);
  // The config's checksum against its content (keyed when encrypted): a DamageError naming the
  // config when they differ. Ok when it has none (written by an older velin).
  Status CheckConfigChecksum() const;
  // A delta blob's opened stored bytes (base id, zstd frame) into `raw`.
  // `stored` opened when the repository is encrypted (into a buffer of this thread's, valid
  // until its next call), else `stored` itself.
  Result<std::string_view> OpenStored(const BlobId& id, Codec codec, std::string_view stored) const;
  Status DecodeDeltaBlob(std::string_view stored, uint64_t raw_length, std::string& raw) const;
  // Reads the snapshot objects of `ids` ahead, several at a time from a remote backend.
  std::unique_ptr<ObjectFetcher> FetchSnapshots(const std::vector<std::string>& ids);
  // Snapshot `id` from its object's stored bytes (or the error reading them).
  Result<Snapshot> SnapshotFrom(const std::string& id, Result<std::string> stored);
  // ReadTree without reading ahead.
  Result<Tree> ReadTreeNow(const BlobId& id);
  // Loads the index again when one of `ids` was committed after it was loaded (see LoadIndex).
  Status CatchUpIndex(const std::vector<std::string>& ids);

  storage::Backend& backend_;
  RepoConfig config_;
  std::string config_canonical_;                  // what config_.checksum covers
  std::optional<crypto::Key256> config_mac_key_;  // encrypted: keys the config's checksum
  std::vector<std::string> foreign_keys_;
  ForeignKeyEvidence foreign_told_by_ = ForeignKeyEvidence::kConfigChecksum;
  Chunker chunker_;
  Index index_;
  std::vector<ObjectDamage> index_damage_;
  std::vector<BlobId> damaged_packs_;
  // The snapshot ids listed before the index was loaded (with those written since); unset
  // before LoadIndex.
  std::optional<std::set<std::string>> indexed_snapshots_;
  PackCheck pack_check_ = PackCheck::kDuplicates;  // the last LoadIndex's, for CatchUpIndex
  std::unique_ptr<crypto::Sealer> sealer_;         // null: unencrypted
  std::unique_ptr<crypto::BlobIdHasher> hasher_;
  std::function<Status()> commit_guard_;
  // The top trees of path sources that earlier velins recorded under another spelling
  // ("storage/uploads/"), with the name their one node is read under: filled as snapshots are
  // read, read by the tree prefetcher's threads too.
  mutable std::mutex legacy_tops_mutex_;
  std::atomic<bool> has_legacy_tops_{false};
  std::unordered_map<BlobId, std::string, BlobIdHash> legacy_tops_;
  // Remote repositories only. Last: its threads read through the members above.
  std::unique_ptr<TreePrefetcher> tree_prefetch_;
};

}  // namespace velin::repo
