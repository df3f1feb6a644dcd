#include "velin/repo/repository.hpp"

#include "config_checksum.hpp"
#include "velin/core/json_int.hpp"
#include "velin/core/json_read.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/damaged_packs.hpp"
#include "velin/repo/delta.hpp"
#include "velin/repo/object_fetch.hpp"
#include "velin/storage/temp_names.hpp"

namespace velin::repo {

Result<std::string> ConfigChecksum(std::string_view canonical, const crypto::Key256* mac_key) {
  if (mac_key == nullptr) return "sha256:" + Sha256(canonical).Hex();
  VELIN_ASSIGN(auto hmac, crypto::BlobIdHasher::Keyed(*mac_key));
  BlobId digest;
  VELIN_ASSIGN(digest.bytes, hmac->Hash(canonical));
  return "hmac-sha256:" + digest.Hex();
}

std::set<std::string> ObjectsReplacedInPlace() { return {"config", kVerifyRecordObject}; }

storage::TempLayout TempFileLayout() {
  storage::TempLayout layout;
  layout.dirs = {"", "keys", "locks", "index", "snapshots", "state", "state/offsite-pending"};
  layout.dirs.insert("data");
  for (int i = 0; i < 256; ++i) layout.dirs.insert(fmt::format("data/{:02x}", i));  // packs
  layout.root_objects = {"config"};
  return layout;
}

bool ChecksumsEqual(std::string_view a, std::string_view b) {
  // Compared in constant time: in an encrypted repository it is a MAC.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  return Sha256(raw).Hex().substr(0, 2 * bytes);
}

// The text a config's checksum covers: its JSON without "checksum", compact, keys sorted
// (nlohmann's object order) — every other field, also those of a later velin.
std::string CanonicalConfig(nlohmann::json j) {
  j.erase("checksum");
  return j.dump();
}

// The config object's bytes, with its checksum: keyed by `mac_key` in an encrypted repository.
Result<std::string> EncodeConfig(const RepoConfig& c, const crypto::Key256* mac_key) {
  nlohmann::json j = {{"format_version", c.format_version},
                      {"id", c.id},
                      {"chunker",
                       {{"algorithm", "fastcdc-gear"},
                        {"min_size", c.chunker.min_size},
                        {"avg_size", c.chunker.avg_size},
                        {"max_size", c.chunker.max_size},
                        {"seed", c.chunker.seed}}}};
  if (c.cipher != crypto::Cipher::kNone) j["encryption"] = crypto::CipherName(c.cipher);
  VELIN_ASSIGN(std::string checksum, ConfigChecksum(CanonicalConfig(j), mac_key));
  j["checksum"] = checksum;
  return j.dump(1) + "\n";
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
}

// Parses and range-checks a config object; `canonical` gets the text its checksum covers (the
// checksum itself is checked by Repository::CheckConfigChecksum, once the key is known).
Result<RepoConfig> DecodeConfig(const std::string& text, const std::string& where,
                                std::string& canonical) {
  RepoConfig c;
  std::string algorithm;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    c.format_version = JsonCount<int>(j, "format_version");
    if (c.format_version > kFormatVersion) {
      return UsageError(TrFormat(
          "repository {} has format version {}; this velin reads up to version {} (upgrade velin)",
          where, std::to_string(c.format_version), std::to_string(kFormatVersion)));
    }
    if (c.format_version < 1) {
      return DamageError(TrFormat("repository config {}/config has an invalid format version {}",
                                  where, std::to_string(c.format_version)));
    }
    c.id = JsonText(j, "id");
    const auto& ch = JsonField(j, "chunker");
    algorithm = JsonText(ch, "algorithm", "chunker.");
    c.chunker.min_size = JsonCount<uint64_t>(ch, "min_size", "chunker.");
    c.chunker.avg_size = JsonCount<uint64_t>(ch, "avg_size", "chunker.");
    c.chunker.max_size = JsonCount<uint64_t>(ch, "max_size", "chunker.");
    c.chunker.seed = JsonCount<uint64_t>(ch, "seed", "chunker.");
    if (j.contains("encryption")) {
      auto cipher = crypto::ParseCipher(JsonText(j, "encryption"));
      if (!cipher || c.format_version < 2) {
        return DamageError(
            TrFormat("repository config {}/config has an invalid encryption", where));
      }
      c.cipher = *cipher;
    }
    if (j.contains("checksum")) c.checksum = JsonText(j, "checksum");
    canonical = CanonicalConfig(std::move(j));
  } catch (const std::exception& e) {
    return DamageError(
        TrFormat("repository config {}/config is damaged ({})", where, JsonProblem(text, e)));
  }
  if (algorithm != "fastcdc-gear") {
    return DamageError(
        TrFormat("repository config {}/config names an unknown chunker algorithm "
                 "'{}'",
                 where, algorithm));
  }
  // Every velin has written 512 KiB / 1 MiB / 8 MiB. The bounds keep a damaged or edited config
  // from cutting files into millions of tiny blobs (min 2 cut a 20 KB file into 9273) or from
  // needing huge chunk buffers.
  const auto& p = c.chunker;
  if (p.min_size < kMinChunkMinSize || p.min_size > p.avg_size || p.avg_size > p.max_size ||
      (p.avg_size & (p.avg_size - 1)) != 0 || p.max_size > kMaxChunkMaxSize) {
    return DamageError(TrFormat("repository config {}/config has invalid chunker sizes", where));
  }
  if (c.id.size() != 32 || !IsLowerHex(c.id)) {
    return DamageError(TrFormat("repository config {}/config has an invalid id", where));
  }
  return c;
}

// While an encrypted init (`backup init`, or the first `backup create`) runs: written before its
// key object, removed once its config (the commit point) is written.
constexpr const char* kInitPendingObject = "state/init-pending";

// A backend without a config object that holds repository objects is a repository whose config
// was lost, not an empty place: a new config would give it a new id (and, when encrypted, a
// plaintext config next to its keys), after which nothing in it can be read. Key objects alone
// are what an encrypted init leaves when it stops before its commit point (the config): with
// `keys_may_remain` (an explicit `velin backup init` of an encrypted repository) they are left
// for CreateKeys to finish that init with; otherwise they are refused with a line saying how.
Status RequireNoRepositoryObjects(storage::Backend& backend, bool keys_may_remain) {
  for (const char* prefix : {"snapshots/", "index/", "data/"}) {
    VELIN_ASSIGN(auto objects, backend.List(prefix));
    if (objects.empty()) continue;
    return DamageError(
        TrFormat("repository {} has no config object but holds {} {} object(s) (e.g. {}): it is "
                 "damaged, and velin will not write a new config over it. Put back `config` from a "
                 "copy of this repository (the offsite copy, a file-system snapshot), or move the "
                 "directory aside and run `velin backup init` for a new, empty repository",
                 backend.Location(), std::to_string(objects.size()), prefix, objects.front().name));
  }
  VELIN_ASSIGN(auto keys, backend.List("keys/"));
  if (keys.empty() || keys_may_remain) return Ok();
  return DamageError(
      TrFormat("repository {} has no config object but holds {} keys/ object(s) (e.g. {}) and "
               "nothing else: an encrypted `velin backup init` stopped before it wrote the config. "
               "Run `velin backup init` with encryption and the passphrase it was started with to "
               "finish it (a new, empty repository under those keys), or move the directory aside",
               backend.Location(), std::to_string(keys.size()), keys.front().name));
}

// An encrypted blob's plaintext, opened where it lies in `stored` (overwritten). A stored
// length too short for an envelope goes through Open into `scratch`, which fails and says why.
Result<std::string_view> OpenWhereItLies(crypto::Sealer& sealer, const BlobId& id,
                                         std::span<char> stored, std::string& scratch) {
  const std::string_view view(stored.data(), stored.size());
  const std::string ad = crypto::AssociatedData("blob", id.Hex());
  Status st = stored.size() < crypto::kEnvelopeOverhead
                  ? sealer.Open(view, ad, scratch)
                  : sealer.OpenTo(view, ad, stored.data() + crypto::kEnvelopeHeaderSize);
  if (!st) return tl::unexpected(st.error().Wrap("blob " + id.Hex()));
  return view.substr(crypto::kEnvelopeHeaderSize, stored.size() - crypto::kEnvelopeOverhead);
}

// The id of a non-delta blob's opened bytes: hashed where they lie when stored as is, else
// decompressed into `scratch` first.
Result<BlobId> HashOpened(const Repository& repo, Codec codec, uint64_t raw_length,
                          std::string_view opened, std::string& scratch) {
  if (codec == Codec::kNone) {
    if (opened.size() != raw_length) {  // as DecompressInto says it
      return DamageError(std::string(Tr("stored length differs from raw length")));
    }
    return repo.HashBlob(opened);
  }
  VELIN_TRY(DecompressInto(codec, opened, raw_length, scratch));
  return repo.HashBlob(scratch);
}

// An encrypted, non-delta blob's `stored` bytes opened and decoded into `raw`; `stored` is
// overwritten.
Status OpenBlobInto(crypto::Sealer& sealer, const BlobId& id, Codec codec, uint64_t raw_length,
                    std::string& stored, std::string& raw) {
  // No third buffer, unlike OpenStored: the plaintext of a blob stored as is goes straight to
  // `raw`, a compressed one is opened where it lies in `stored` (an encrypted restore copied
  // every blob once more than a plain one, 2026-12-01).
  if (codec == Codec::kNone) {
    Status st = sealer.Open(stored, crypto::AssociatedData("blob", id.Hex()), raw);
    if (!st) return tl::unexpected(st.error().Wrap("blob " + id.Hex()));
    if (raw.size() != raw_length) {  // as DecompressInto says it
      return DamageError(std::string(Tr("stored length differs from raw length")));
    }
    return Ok();
  }
  VELIN_ASSIGN(std::string_view body, OpenWhereItLies(sealer, id, stored, raw));
  return DecompressInto(codec, body, raw_length, raw);
}

}  // namespace

Status Repository::Init(storage::Backend& backend, const RepoKeyOptions& keys) {
  VELIN_ASSIGN(auto existing, backend.Stat("config"));
  if (existing)
    return UsageError(TrFormat("a repository already exists at {}", backend.Location()));
  const bool encrypted = keys.cipher != crypto::Cipher::kNone;
  VELIN_TRY(RequireNoRepositoryObjects(backend, /*keys_may_remain=*/encrypted));
  RepoConfig config;
  config.id = RandomHex(16);
  config.format_version = kFormatVersion;
  std::optional<crypto::Key256> mac_key;
  if (encrypted) {
    config.cipher = keys.cipher;
    // Marked as under way before its key object is written, until its config is: what a kill
    // in between leaves is then told from a repository that lost its config (Open).
    VELIN_ASSIGN(auto marked, backend.Stat(kInitPendingObject));
    if (!marked) {
      VELIN_TRY(backend.Put(kInitPendingObject, "velin: an encrypted init is under way\n"));
    }
    VELIN_ASSIGN(crypto::MasterKey master, CreateKeys(backend, keys));
    VELIN_ASSIGN(mac_key, master.Derive(kConfigMacPurpose));
  }
  VELIN_ASSIGN(std::string text, EncodeConfig(config, mac_key ? &*mac_key : nullptr));
  VELIN_TRY(backend.Put("config", text));
  // Best effort: with a config there, the mark is never read again.
  if (encrypted) (void)backend.Delete(kInitPendingObject);
  return Ok();
}

Result<std::unique_ptr<Repository>> Repository::Open(storage::Backend& backend, bool create,
                                                     const RepoKeyOptions& keys) {
  auto text = backend.Get("config");
  if (!text && storage::IsNotFound(text.error())) {
    // The key objects of an encrypted init (a create's too) killed before its config, marked
    // as under way (kInitPendingObject): a create finishes it under the key its passphrase
    // opens (CreateKeys; another passphrase is refused), as `velin backup init` would: nothing
    // was stored under them yet. Keys without the mark are not: a repository that lost its
    // config (and all else) must not silently become a new, empty one under an unattended
    // create; that, or an older velin's interrupted init, is for an explicit `velin backup init`.
    bool finish_init = false;
    if (create && keys.cipher != crypto::Cipher::kNone) {
      VELIN_ASSIGN(auto pending, backend.Stat(kInitPendingObject));
      finish_init = pending.has_value();
    }
    VELIN_TRY(RequireNoRepositoryObjects(backend, /*keys_may_remain=*/finish_init));
    if (!create) {
      return UsageError(
          TrFormat("no repository at {} (run 'velin backup init' or 'velin backup create')",
                   backend.Location()));
    }
    VELIN_TRY(Init(backend, keys));
    text = backend.Get("config");
  }
  if (!text)
    return tl::unexpected(text.error().Wrap(TrFormat("repository {}", backend.Location())));
  std::string canonical;
  VELIN_ASSIGN(RepoConfig config, DecodeConfig(*text, backend.Location(), canonical));
  std::unique_ptr<Repository> repo(new Repository(backend, std::move(config)));
  repo->config_canonical_ = std::move(canonical);
  VELIN_TRY(repo->Unlock(keys));
  if (const int reads = storage::ParallelReadsFor(backend.Location()); reads > 0) {
    Repository* r = repo.get();
    repo->tree_prefetch_ = std::make_unique<TreePrefetcher>(
        [r](const BlobId& id) { return r->ReadTreeNow(id); }, reads,
        [r](const BlobId& id) -> std::optional<TreePrefetcher::Place> {
          const std::optional<IndexEntry> e = r->index_.Find(id);
          if (!e) return std::nullopt;
          return TreePrefetcher::Place{e->pack, e->offset, e->length};
        },
        [r](const std::vector<BlobId>& ids) { return r->ReadTreeRun(ids); });
  }
  return repo;
}

Result<RepoConfig> Repository::ReadConfig(storage::Backend& backend) {
  auto text = backend.Get("config");
  if (!text && storage::IsNotFound(text.error())) {
    return UsageError(
        TrFormat("no repository at {} (run 'velin backup init' or 'velin backup create')",
                 backend.Location()));
  }
  if (!text)
    return tl::unexpected(text.error().Wrap(TrFormat("repository {}", backend.Location())));
  std::string canonical;
  return DecodeConfig(*text, backend.Location(), canonical);
}

Result<RepositoryKey> Repository::OpenKey(storage::Backend& backend, std::string_view passphrase) {
  auto text = backend.Get("config");
  if (!text && storage::IsNotFound(text.error())) {
    // Key objects without a config (an interrupted init): nothing to tell a key by.
    VELIN_ASSIGN(crypto::OpenedKey key, crypto::OpenRepositoryKey(backend, passphrase));
    return RepositoryKey{.key = std::move(key), .foreign = {}};
  }
  if (!text)
    return tl::unexpected(text.error().Wrap(TrFormat("repository {}", backend.Location())));
  std::string canonical;
  VELIN_ASSIGN(RepoConfig config, DecodeConfig(*text, backend.Location(), canonical));
  return SelectKey(backend, config, canonical, passphrase);
}

Result<int> Repository::UpgradeFormat() {
  const int from = config_.format_version;
  if (from >= kFormatVersion && !config_.checksum.empty()) return from;
  // The config as read (its canonical text, every field but the checksum), with the version
  // raised: a field of a later velin stays, and the new checksum covers it as the reader
  // computes it (CanonicalConfig).
  nlohmann::json upgraded = nlohmann::json::parse(config_canonical_, nullptr, false);
  if (!upgraded.is_object()) {  // DecodeConfig wrote it: cannot happen
    return DamageError(TrFormat("repository config {}/config is damaged", backend_.Location()));
  }
  upgraded["format_version"] = std::max(from, kFormatVersion);
  VELIN_ASSIGN(std::string checksum, ConfigChecksum(CanonicalConfig(upgraded),
                                                    config_mac_key_ ? &*config_mac_key_ : nullptr));
  upgraded["checksum"] = std::move(checksum);
  const std::string text = upgraded.dump(1) + "\n";
  VELIN_TRY(backend_.Put("config", text));
  std::string canonical;
  VELIN_ASSIGN(config_, DecodeConfig(text, backend_.Location(), canonical));
  config_canonical_ = std::move(canonical);
  return from;
}

Status Repository::ReloadConfig() {
  auto text = backend_.Get("config");
  if (!text)
    return tl::unexpected(text.error().Wrap(TrFormat("repository {}", backend_.Location())));
  std::string canonical;
  VELIN_ASSIGN(RepoConfig config, DecodeConfig(*text, backend_.Location(), canonical));
  const ChunkerParams& a = config.chunker;
  const ChunkerParams& b = config_.chunker;
  if (config.id != config_.id || config.cipher != config_.cipher || a.min_size != b.min_size ||
      a.avg_size != b.avg_size || a.max_size != b.max_size || a.seed != b.seed) {
    return Failure(
        TrFormat("repository config {}/config changed after velin opened it (its id, "
                 "encryption or chunker differ now: the repository was replaced): run the "
                 "command again",
                 backend_.Location()));
  }
  std::swap(config_, config);
  std::swap(config_canonical_, canonical);
  if (Status checked = CheckConfigChecksum(); !checked) {
    std::swap(config_, config);
    std::swap(config_canonical_, canonical);
    return checked;
  }
  return Ok();
}

Status Repository::CheckConfigChecksum() const {
  if (config_.checksum.empty()) return Ok();  // written by an older velin
  const crypto::Key256* key = config_mac_key_ ? &*config_mac_key_ : nullptr;
  VELIN_ASSIGN(std::string expected, ConfigChecksum(config_canonical_, key));
  if (!ChecksumsEqual(expected, config_.checksum)) return ConfigChanged(backend_);
  return Ok();
}

tl::unexpected<Error> ConfigChanged(const storage::Backend& backend) {
  return DamageError(
      TrFormat("repository config {}/config has been changed or damaged (its checksum does not "
               "match): put back `config` from a copy of this repository (the offsite copy, a "
               "file-system snapshot)",
               backend.Location()));
}

namespace {

// Each pack's id and its size as listed.
using PackSizes = std::unordered_map<BlobId, uint64_t, BlobIdHash>;

Result<PackSizes> ListPackSizes(storage::Backend& backend) {
  VELIN_ASSIGN(auto objects, backend.List("data/"));
  PackSizes sizes;
  for (const auto& o : objects) {
    // Temp objects ("….tmp-…") and foreign files parse as no id: not packs.
    if (auto id = ParseBlobId(o.name.substr(o.name.rfind('/') + 1))) sizes[*id] = o.size;
  }
  return sizes;
}

// Index::PackPresence for PackCheck::kDuplicates: a Stat per pack asked about, one listing
// once more are asked (a repository where many blobs are listed twice). A failed request
// answers "present": the index stays as its objects list it. A pack shorter than its index
// entries need is not present, as with PackCheck::kAll, nor is one the verify record lists as
// damaged (read when the first pack is asked about: only a repository with duplicates pays
// the request), so that a blob stored again after a verify found it damaged is read from its
// new pack.
std::function<bool(const BlobId&, uint64_t)> PackPresenceByStat(storage::Backend& backend) {
  struct State {
    size_t stats = 0;
    std::optional<PackSizes> listed;
    std::optional<std::vector<BlobId>> damaged;  // sorted
  };
  return [&backend, state = std::make_shared<State>()](const BlobId& pack, uint64_t min_size) {
    if (!state->damaged) {
      auto damaged = LoadDamagedPacks(backend);  // unreadable: advisory, so none
      state->damaged = damaged ? std::move(*damaged) : std::vector<BlobId>();
    }
    if (std::binary_search(state->damaged->begin(), state->damaged->end(), pack)) return false;
    constexpr size_t kMaxStats = 16;
    if (!state->listed && state->stats < kMaxStats) {
      ++state->stats;
      auto info = backend.Stat(PackObjectName(pack));
      return !info || (info->has_value() && (*info)->size >= min_size);
    }
    if (!state->listed) {
      auto listed = ListPackSizes(backend);
      if (!listed) return true;
      state->listed = std::move(*listed);
    }
    auto it = state->listed->find(pack);
    return it != state->listed->end() && it->second >= min_size;
  };
}

// `message` without the "KIND NAME: " that OpenObject puts before its errors: an ObjectDamage
// names its object beside the message, and a line that shows both would say it twice.
std::string Unnamed(const std::string& message, std::string_view kind, std::string_view name) {
  const std::string prefix = TrFormat("{} {}", Tr(kind), name) + ": ";  // as OpenObject says it
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

}  // namespace

Status Repository::LoadIndex(PackCheck check) {
  if (tree_prefetch_) tree_prefetch_->Drain();  // no read may look at the index while it changes
  // Snapshots first: a writer puts its index objects before its snapshot, so every snapshot
  // listed now has its index objects in the listing below.
  VELIN_ASSIGN(std::vector<std::string> snapshot_ids, ListSnapshotIds());
  index_ = Index();
  index_damage_.clear();
  VELIN_ASSIGN(auto objects, backend_.List("index/"));
  // Packs are listed after the index objects, beside their reads: a pack is written before the
  // index object that lists it, so a pack missing here is gone, not still being written.
  // With them the verify record's damaged packs (one small object): taken as absent too.
  struct PackListing {
    PackSizes sizes;
    std::vector<BlobId> damaged;  // sorted
  };
  std::future<Result<PackListing>> listing;
  if (check == PackCheck::kAll) {
    auto list = [this]() -> Result<PackListing> {
      VELIN_ASSIGN(PackSizes sizes, ListPackSizes(backend_));
      VELIN_ASSIGN(std::vector<BlobId> damaged, LoadDamagedPacks(backend_));
      return PackListing{.sizes = std::move(sizes), .damaged = std::move(damaged)};
    };
    try {
      listing = std::async(std::launch::async, list);
    } catch (const std::system_error&) {
      listing = std::async(std::launch::deferred, list);  // no thread (ulimit -u): listed after
    }
  }
  std::sort(objects.begin(), objects.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  // Each entry takes at least kPackEntrySize bytes stored: an upper bound on the blob count.
  // Reserved address space that no entry fills is never touched, so costs no memory.
  uint64_t stored_bytes = 0;
  for (const auto& obj : objects) stored_bytes += obj.size;
  index_.Reserve(static_cast<size_t>(stored_bytes / kPackEntrySize));
  std::vector<ObjectFetcher::Object> names;
  for (const auto& obj : objects) names.push_back({obj.name, obj.size});
  ObjectFetcher fetcher(backend_, std::move(names));  // several at a time from a remote one
  for (const auto& obj : objects) {
    VELIN_ASSIGN(std::string stored, fetcher.Next());
    std::string expected = obj.name.substr(obj.name.rfind('/') + 1);
    auto data = OpenObject("index", expected, std::move(stored));
    if (!data) {
      index_damage_.push_back({obj.name, Unnamed(data.error().message, "index", expected)});
      continue;
    }
    auto hash = HashBlob(*data);
    if (!hash || hash->Hex() != expected) {
      index_damage_.push_back({obj.name, "content does not match its name (damaged)"});
      continue;
    }
    auto packs = DecodeIndexObject(*data);
    if (!packs) {
      index_damage_.push_back({obj.name, packs.error().message});
      continue;
    }
    for (const auto& [pack_id, entries] : *packs) VELIN_TRY(index_.AddPack(pack_id, entries));
  }
  PackListing listed;
  PackPresence presence;
  std::vector<BlobId> damaged_unlisted;  // kDamaged: the record's packs, sorted
  if (check == PackCheck::kDamaged) {
    auto damaged = LoadDamagedPacks(backend_);  // unreadable: advisory, so none
    if (damaged) damaged_unlisted = std::move(*damaged);
  }
  if (!damaged_unlisted.empty()) {
    presence.listed_all = true;  // every pack is answered, none asked: a file server is slow
    presence.present = [&damaged_unlisted](const BlobId& pack, uint64_t) {
      return !std::binary_search(damaged_unlisted.begin(), damaged_unlisted.end(), pack);
    };
  } else if (listing.valid()) {
    VELIN_ASSIGN(listed, listing.get());
    presence.listed_all = true;
    presence.present = [&listed](const BlobId& pack, uint64_t min_size) {
      if (std::binary_search(listed.damaged.begin(), listed.damaged.end(), pack)) return false;
      auto it = listed.sizes.find(pack);
      return it != listed.sizes.end() && it->second >= min_size;
    };
  } else {
    presence.present = PackPresenceByStat(backend_);
  }
  index_.Finalize(&presence);
  // The damaged ones among the absent, for create's warning; one also gone counts as gone.
  damaged_packs_.clear();
  for (const BlobId& pack : index_.missing_packs()) {
    if (!damaged_unlisted.empty() ||  // all of them, gone or not: nothing was listed
        (std::binary_search(listed.damaged.begin(), listed.damaged.end(), pack) &&
         listed.sizes.count(pack) > 0)) {
      damaged_packs_.push_back(pack);
    }
  }
  indexed_snapshots_.emplace(snapshot_ids.begin(), snapshot_ids.end());
  pack_check_ = check;
#ifdef __GLIBC__
  // The decoded index objects and the pack map were freed between the index's allocations;
  // glibc keeps such holes resident (5 of 55 bytes a blob with 16 M blobs) unless asked.
  ::malloc_trim(0);
#endif
  return Ok();
}

Status Repository::AddIndexObjects(const std::vector<std::string>& objects) {
  if (objects.empty()) return Ok();
  if (tree_prefetch_) tree_prefetch_->Drain();  // no read may look at the index while it changes
  for (const std::string& object : objects) {
    VELIN_ASSIGN(IndexPacks packs, DecodeIndexObject(object));
    for (const auto& [pack_id, entries] : packs) VELIN_TRY(index_.AddPack(pack_id, entries));
  }
  // Blobs listed before keep their entries (the first pack listed wins): those of the new packs
  // are the ones the index lacked. Packs found absent by LoadIndex stay absent.
  index_.Finalize();
  return Ok();
}

std::string Repository::NotIndexedHint() const {
  if (index_damage_.empty()) return std::string(Tr("run `velin backup verify`"));
  if (index_damage_.size() == 1) {
    return TrFormat("index object {} is damaged: run `velin backup verify --all`",
                    index_damage_.front().object);
  }
  return TrFormat("{} index objects are damaged, {} among them: run `velin backup verify --all`",
                  index_damage_.size(), index_damage_.front().object);
}

Result<std::string> Repository::ReadBlob(const BlobId& id) const {
  std::string raw;
  std::string stored;
  VELIN_TRY(ReadBlobInto(id, raw, stored));
  return raw;
}

Status Repository::ReadBlobInto(const BlobId& id, std::string& raw, std::string& stored) const {
  IndexEntry e;
  VELIN_TRY(ReadStoredInto(id, e, stored));
  return DecodeStoredBlob(id, e, stored, raw);
}

Status Repository::ReadStoredInto(const BlobId& id, IndexEntry& e, std::string& stored) const {
  const std::optional<IndexEntry> found = index_.Find(id);
  if (!found && !index_damage_.empty()) {
    return DamageError(
        TrFormat("blob {} is missing from the index ({})", id.Short(), NotIndexedHint()));
  }
  if (!found) return DamageError(TrFormat("blob {} is missing from the index", id.Short()));
  e = *found;
  std::string pack = PackObjectName(index_.PackId(e.pack));
  auto got = backend_.GetRangeInto(pack, e.offset, e.length, stored);
  if (!got && storage::IsDamagedRead(got.error())) {
    return DamageError(TrFormat("blob {}: pack {} {}", id.Short(), index_.PackId(e.pack).Short(),
                                storage::DamagedReadWhy(got.error())));
  }
  if (!got) {  // the read failed, not the data: exit 1, not 4 (the server went away, EIO, 403)
    return tl::unexpected(
        got.error().Wrap(TrFormat("blob {}: pack {}", id.Short(), index_.PackId(e.pack).Short())));
  }
  return Ok();
}

namespace {

// DecodeStoredBlob's and CheckStoredBlob's verdict on what the stored bytes hashed to.
Status BlobVerdict(const Index& index, const BlobId& id, const IndexEntry& e,
                   const Result<BlobId>& hash) {
  if (hash && *hash == id) return Ok();
  return DamageError(TrFormat("blob {} in pack {} is damaged ({})", id.Short(),
                              index.PackId(e.pack).Short(),
                              (hash ? std::string(Tr("hash mismatch")) : hash.error().message)));
}

}  // namespace

Status Repository::DecodeStoredBlob(const BlobId& id, const IndexEntry& e, std::string& stored,
                                    std::string& raw) const {
  Result<BlobId> hash = BlobId();
  if (e.codec == Codec::kNone && !encrypted() && stored.size() == e.raw_length) {
    // Stored as is (incompressible data): the stored bytes are the blob; hashed all the same.
    raw.swap(stored);
    hash = HashBlob(raw);
  } else if (encrypted() && e.codec != Codec::kZstdDelta) {
    Status opened = OpenBlobInto(*sealer_, id, e.codec, e.raw_length, stored, raw);
    hash = opened ? HashBlob(raw) : Result<BlobId>(tl::unexpected(opened.error()));
  } else {
    hash = DecodeBlob(id, e.codec, e.raw_length, stored, raw);
  }
  return BlobVerdict(index_, id, e, hash);
}

Status Repository::CheckStoredBlob(const BlobId& id, const IndexEntry& e, std::string_view stored,
                                   std::string& scratch) const {
  return BlobVerdict(index_, id, e, CheckBlob(id, e.codec, e.raw_length, stored, scratch));
}

Result<BlobId> Repository::DecodeBlob(const BlobId& id, Codec codec, uint64_t raw_length,
                                      std::string_view stored, std::string& raw) const {
  VELIN_ASSIGN(stored, OpenStored(id, codec, stored));
  if (codec == Codec::kZstdDelta) {
    VELIN_TRY(DecodeDeltaBlob(stored, raw_length, raw));
  } else {
    VELIN_TRY(DecompressInto(codec, stored, raw_length, raw));
  }
  return HashBlob(raw);
}

Result<std::string_view> Repository::OpenStored(const BlobId& id, Codec codec,
                                                std::string_view stored) const {
  if (!encrypted()) return stored;
  // Opened into a buffer each thread keeps: a copy of `stored` and a fresh plaintext per blob
  // cost an encrypted restore or verify twice the page faults of a plain one. A delta blob
  // keeps its own, since reading its base (never a delta) opens into the other one.
  thread_local std::string opened_blob, opened_delta;
  std::string& opened = codec == Codec::kZstdDelta ? opened_delta : opened_blob;
  auto st = sealer_->Open(stored, crypto::AssociatedData("blob", id.Hex()), opened);
  if (!st) return tl::unexpected(st.error().Wrap("blob " + id.Hex()));
  return std::string_view(opened);
}

Result<BlobId> Repository::CheckBlob(const BlobId& id, Codec codec, uint64_t raw_length,
                                     std::string_view stored, std::string& scratch) const {
  if (codec == Codec::kZstdDelta) return DecodeBlob(id, codec, raw_length, stored, scratch);
  VELIN_ASSIGN(stored, OpenStored(id, codec, stored));
  return HashOpened(*this, codec, raw_length, stored, scratch);
}

Result<BlobId> Repository::CheckBlobInPlace(const BlobId& id, Codec codec, uint64_t raw_length,
                                            std::span<char> stored, std::string& scratch) const {
  // A delta blob opens into a buffer of its own: reading its base may reuse this thread's.
  if (!encrypted() || codec == Codec::kZstdDelta) {
    return CheckBlob(id, codec, raw_length, std::string_view(stored.data(), stored.size()),
                     scratch);
  }
  VELIN_ASSIGN(std::string_view opened, OpenWhereItLies(*sealer_, id, stored, scratch));
  return HashOpened(*this, codec, raw_length, opened, scratch);
}

Status Repository::DecodeDeltaBlob(std::string_view stored, uint64_t raw_length,
                                   std::string& raw) const {
  if (stored.size() < 32)
    return DamageError(std::string(Tr("delta blob is shorter than its base id")));
  BlobId base;
  std::memcpy(base.bytes.data(), stored.data(), 32);
  const std::optional<IndexEntry> e = index_.Find(base);
  if (e && e->codec == Codec::kZstdDelta) {
    return DamageError(TrFormat("delta base {} is itself a delta blob", base.Short()));
  }
  // The base is never a delta blob itself, so these buffers are not in use further up.
  thread_local std::string base_raw;
  thread_local std::string base_stored;
  auto st = ReadBlobInto(base, base_raw, base_stored);
  if (!st) return DamageError(TrFormat("its delta base: {}", st.error().message));
  return DecodeDelta(stored.substr(32), base_raw, raw_length, raw);
}

Result<Tree> Repository::ReadTree(const BlobId& id) {
  if (!tree_prefetch_) return ReadTreeNow(id);
  std::optional<Tree> tree = tree_prefetch_->Take(id);
  if (!tree) {
    VELIN_ASSIGN(Tree read, ReadTreeNow(id));
    tree = std::move(read);
  }
  std::vector<BlobId> subtrees;
  for (const Node& n : tree->nodes) {
    if (n.type == NodeType::kDir) subtrees.push_back(n.subtree);
  }
  tree_prefetch_->Prefetch(subtrees);
  return std::move(*tree);
}

Result<Tree> Repository::DecodeTreeBlob(const BlobId& id, std::string_view raw) const {
  std::string top_name;
  if (has_legacy_tops_.load(std::memory_order_acquire)) {
    std::lock_guard lock(legacy_tops_mutex_);
    if (auto it = legacy_tops_.find(id); it != legacy_tops_.end()) top_name = it->second;
  }
  auto tree = DecodeTree(raw, top_name);
  if (!tree) return DamageError(TrFormat("tree {}: {}", id.Short(), tree.error().message));
  return tree;
}

std::vector<Result<Tree>> Repository::ReadTreeRun(const std::vector<BlobId>& ids) {
  std::vector<Result<Tree>> out;
  std::vector<IndexEntry> entries;
  uint64_t begin = UINT64_MAX;
  uint64_t end = 0;
  for (const BlobId& id : ids) {
    const std::optional<IndexEntry> e = index_.Find(id);
    if (!e || e->pack != (entries.empty() ? e->pack : entries.front().pack)) {
      // Not one pack's (the index changed?): each on its own.
      for (const BlobId& one : ids) out.push_back(ReadTreeNow(one));
      return out;
    }
    entries.push_back(*e);
    begin = std::min<uint64_t>(begin, e->offset);
    end = std::max<uint64_t>(end, e->offset + e->length);
  }
  std::string span;
  Status got = entries.empty()
                   ? Status(Ok())
                   : backend_.GetRangeInto(PackObjectName(index_.PackId(entries.front().pack)),
                                           begin, end - begin, span);
  if (got && !entries.empty() && span.size() != end - begin) {  // never read past what came
    got = DamageError(TrFormat("pack {} is shorter than its index says",
                               index_.PackId(entries.front().pack).Short()));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!got) {  // the walk reads each itself and meets the error itself
      out.push_back(tl::unexpected(got.error()));
      continue;
    }
    std::string stored(span.data() + (entries[i].offset - begin), entries[i].length);
    std::string raw;
    Status decoded = DecodeStoredBlob(ids[i], entries[i], stored, raw);
    out.push_back(decoded ? DecodeTreeBlob(ids[i], raw) : tl::unexpected(decoded.error()));
  }
  return out;
}

Result<Tree> Repository::ReadTreeNow(const BlobId& id) {
  VELIN_ASSIGN(std::string data, ReadBlob(id));
  return DecodeTreeBlob(id, data);
}

Result<std::vector<std::string>> Repository::ListSnapshotIds(std::vector<std::string>* foreign) {
  VELIN_ASSIGN(auto objects, backend_.List("snapshots/"));
  std::vector<std::string> ids;
  for (const auto& o : objects) {
    std::string name = o.name.substr(std::string("snapshots/").size());
    if (CouldBeSnapshotId(name)) {
      ids.push_back(std::move(name));
    } else if (foreign && storage::ParseTempName(name).kind == storage::TempKind::kNone) {
      foreign->push_back(o.name);  // a writer's temp object is no stranger: not worth a word
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void Repository::NoteSnapshotWritten(const std::string& id) {
  if (indexed_snapshots_) indexed_snapshots_->insert(id);
}

Status Repository::CatchUpIndex(const std::vector<std::string>& ids) {
  if (!indexed_snapshots_) return Ok();  // no index loaded: nothing to catch up with
  for (const std::string& id : ids) {
    if (indexed_snapshots_->count(id) == 0) return LoadIndex(pack_check_);
  }
  return Ok();
}

Result<Snapshot> Repository::LoadSnapshot(const std::string& id) {
  VELIN_TRY(CatchUpIndex({id}));
  return SnapshotFrom(id, backend_.Get(SnapshotObjectName(id)));
}

std::unique_ptr<ObjectFetcher> Repository::FetchSnapshots(const std::vector<std::string>& ids) {
  std::vector<ObjectFetcher::Object> names;
  for (const auto& id : ids) names.push_back({SnapshotObjectName(id), 0});
  return std::make_unique<ObjectFetcher>(backend_, std::move(names));
}

Result<Snapshot> Repository::SnapshotFrom(const std::string& id, Result<std::string> got) {
  // Every failure reads "snapshot ID: why", the id said once: OpenObject's errors and the
  // storage's name it already.
  const auto named = [&id](const std::string& why) {
    return why.find(id) != std::string::npos ? why : TrFormat("snapshot {}: {}", id, why);
  };
  if (!got) {
    Error e = got.error();
    e.message = named(e.message);
    return tl::unexpected(std::move(e));
  }
  auto text = OpenObject("snapshot", id, std::move(*got));
  if (!text) return DamageError(named(text.error().message));
  auto snapshot = DecodeSnapshot(*text);
  if (!snapshot) {  // damage, or a later velin's format ("upgrade velin", not damage)
    Error e = snapshot.error();
    e.message = named(e.message);
    return tl::unexpected(std::move(e));
  }
  if (snapshot->id != id)
    return DamageError(TrFormat("snapshot {}: holds id {}", id, snapshot->id));
  // An include an earlier velin recorded as written ("storage/uploads/", "./storage"): read in
  // the one spelling it has now, its top node (named "" or ".") under the name it has now.
  for (SnapshotSource& src : snapshot->sources) {
    if (src.kind != SourceKind::kPath) continue;
    std::string clean = io::CleanPath(src.name);
    if (clean == src.name || clean.empty() || clean[0] == '/') continue;
    {
      std::lock_guard lock(legacy_tops_mutex_);
      legacy_tops_[src.tree] = io::Basename(clean);
      has_legacy_tops_.store(true, std::memory_order_release);
    }
    std::map<std::string, std::string> links;
    for (auto& [link, text] : src.links) links[io::CleanPath(link)] = std::move(text);
    src.links = std::move(links);
    std::map<std::string, std::string> resolved;
    for (auto& [link, path] : src.links_resolved) resolved[io::CleanPath(link)] = std::move(path);
    src.links_resolved = std::move(resolved);
    src.name = std::move(clean);
  }
  return snapshot;
}

Result<std::vector<Snapshot>> Repository::LoadAllSnapshots(std::vector<ObjectDamage>* damage,
                                                           std::vector<std::string>* foreign) {
  VELIN_ASSIGN(auto ids, ListSnapshotIds(foreign));
  VELIN_TRY(CatchUpIndex(ids));
  std::vector<Snapshot> out;
  auto fetcher = FetchSnapshots(ids);
  for (const auto& id : ids) {
    auto s = SnapshotFrom(id, fetcher->Next());
    if (s) {
      out.push_back(std::move(*s));
    } else if (s.error().code == ExitCode::kDamage && damage) {
      damage->push_back({SnapshotObjectName(id), s.error().message});
    } else {
      return tl::unexpected(s.error());
    }
  }
  return out;
}

Result<std::string> Repository::ResolveSnapshotId(const std::string& name) {
  return ResolveSnapshotId(name, SnapshotFilter{true, "", ""});
}

Result<std::string> Repository::ResolveSnapshotId(const std::string& name,
                                                  const SnapshotFilter& filter) {
  VELIN_ASSIGN(auto ids, ListSnapshotIds());
  VELIN_TRY(CatchUpIndex(ids));
  if (ids.empty())
    return UsageError(TrFormat("the repository at {} has no backups", backend_.Location()));
  if (name == "latest") {
    // The newest by time: ids sort by time, except same-minute suffixes; load to be exact.
    std::optional<Snapshot> best;
    size_t readable = 0;
    std::vector<std::pair<std::string, std::string>> damaged;  // id, why
    std::set<std::string> groups;                              // host/app of those matching
    auto fetcher = FetchSnapshots(ids);
    for (const auto& id : ids) {
      auto s = SnapshotFrom(id, fetcher->Next());
      if (!s && s.error().code != ExitCode::kDamage) return tl::unexpected(s.error());
      if (!s) {
        std::string why = s.error().message;  // "snapshot ID: what": the id is said already
        if (const size_t at = why.find(id + ": "); at != std::string::npos && at < 24) {
          why.erase(0, at + id.size() + 2);
        }
        damaged.emplace_back(id, std::move(why));
        continue;
      }
      ++readable;
      if (!filter.Matches(*s)) continue;
      groups.insert((s->host.empty() ? "-" : s->host) + "/" + (s->app.empty() ? "-" : s->app));
      if (!best || SnapshotNewer(*s, *best)) best = std::move(*s);
    }
    if (readable == 0)
      return DamageError(TrFormat("no readable backup in {}", backend_.Location()));
    // A new machine's first look (docs/operations.md, "The server is gone"): in a repository
    // that several hosts or applications share, the newest of them all is any one's, and
    // before 2026-12-07 `restore latest --target DIR` restored it, another application's
    // files, with exit 0.
    if (filter.latest_of_one_group && groups.size() > 1) {
      std::string names;
      for (const std::string& g : groups) names += (names.empty() ? "" : ", ") + g;
      return UsageError(
          TrFormat("`latest` is ambiguous: {} holds backups of several hosts and applications "
                   "({}); choose one with --host and --app (`velin backup list` shows them), or "
                   "--all for the newest of them all",
                   backend_.Location(), names));
    }
    // A backup that cannot be read may be the newest: `latest` would then mean an older one
    // without a word (and `forget latest` forget the last good backup). One whose id dates it
    // before the newest readable one is passed over; `list` and `verify --all` name it. An id
    // is its host's local time, at most 12 hours behind UTC (UTC-12): hence the margin.
    constexpr int64_t kLocalTimeMargin = 14 * 3600;
    for (const auto& [id, why] : damaged) {
      const std::optional<int64_t> minute = SnapshotIdMinute(id);
      if (best && minute && *minute + 60 + kLocalTimeMargin <= best->unix_time) continue;
      if (!best) {
        return DamageError(TrFormat(
            "no readable backup of {} in {}, and backup {} cannot be read ({}): name a backup "
            "(`velin backup list --all` shows them)",
            filter.Describe(), backend_.Location(), id, why));
      }
      return DamageError(TrFormat(
          "backup {} in {} cannot be read ({}), and it may be newer than {}: `latest` cannot "
          "tell which backup is the newest; name the backup to use (`velin backup list` shows "
          "them), or `velin backup forget {}` once you know it is lost",
          id, backend_.Location(), why, best->id, id));
    }
    if (!best) {
      return UsageError(
          TrFormat("no backup of {} in {} ({} of other hosts or apps: see `velin "
                   "backup list --all`, choose with --host/--app)",
                   filter.Describe(), backend_.Location(), readable));
    }
    return best->id;
  }
  std::vector<std::string> matches;
  for (const auto& id : ids) {
    if (id == name) return id;
    if (id.rfind(name, 0) == 0) matches.push_back(id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty())
    return UsageError(TrFormat("no backup '{}' in {}", name, backend_.Location()));
  return UsageError(TrFormat("backup '{}' is ambiguous ({} backups start with it: {}, {}, ...)",
                             name, std::to_string(matches.size()), matches[0], matches[1]));
}

}  // namespace velin::repo
