#include "velin/db/pg_dump_counter.hpp"

#include <algorithm>
#include <cstring>

#include "velin/db/table_name.hpp"

namespace velin::db {
namespace {

constexpr int kBlockData = 1;   // BLK_DATA: a table's (or another entry's) data
constexpr int kBlockBlobs = 3;  // BLK_BLOBS: large objects
// A table of contents larger than this is not read (the driver counts another way): it holds
// every object's definition, some KiB for a thousand tables.
constexpr size_t kMaxHead = 16 << 20;

// Reads the header and table of contents from a buffer that may end early (`short_`).
class HeadReader {
 public:
  explicit HeadReader(std::string_view s) : s_(s) {}
  bool short_ = false;  // the buffer ended: more bytes may complete it
  bool bad_ = false;    // not an archive this reader understands
  int int_size = 0;
  size_t pos = 0;

  bool Byte(int& b) {
    if (pos >= s_.size()) return Short();
    b = static_cast<unsigned char>(s_[pos++]);
    return true;
  }
  bool Skip(size_t n) {
    if (s_.size() - pos < n) return Short();
    pos += n;
    return true;
  }
  // pg_dump's WriteInt: a sign byte, then int_size bytes of magnitude, least significant first.
  bool Int(int64_t& v) {
    const size_t n = 1 + static_cast<size_t>(int_size);
    if (s_.size() - pos < n) return Short();
    uint64_t m = 0;
    for (int i = 0; i < int_size; ++i) {
      m |= static_cast<uint64_t>(static_cast<unsigned char>(s_[pos + 1 + i])) << (8 * i);
    }
    if (m > static_cast<uint64_t>(INT64_MAX)) return Bad();
    v = s_[pos] != 0 ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
    pos += n;
    return true;
  }
  // WriteStr: a length (-1 for NULL), then the bytes.
  bool Str(std::string& out, bool* null = nullptr) {
    int64_t n = 0;
    if (!Int(n)) return false;
    if (null) *null = n < 0;
    out.clear();
    if (n < 0) return true;
    if (static_cast<uint64_t>(n) > kMaxHead) return Bad();
    if (s_.size() - pos < static_cast<size_t>(n)) return Short();
    out.assign(s_.substr(pos, static_cast<size_t>(n)));
    pos += static_cast<size_t>(n);
    return true;
  }
  bool Bad() {
    bad_ = true;
    return false;
  }

 private:
  bool Short() {
    short_ = true;
    return false;
  }
  std::string_view s_;
};

}  // namespace

void PgDumpCounter::Fail() {
  state_ = State::kFailed;
  counting_ = nullptr;
  std::string().swap(head_);
}

int PgDumpCounter::ParseHead() {
  HeadReader r(head_);
  int b[8];
  for (int& x : b) {
    if (!r.Byte(x)) return 0;
  }
  // "PGDMP", major, minor, revision, int size, offset size, format (1: custom).
  if (head_.compare(0, 5, "PGDMP") != 0) return -1;
  int minor = b[6];
  if (!r.Byte(b[0]) || !r.Byte(b[1]) || !r.Byte(b[2])) return 0;
  const int int_size = b[0];
  const int off_size = b[1];
  if (b[5] != 1 || minor < 12 || minor > 15 || int_size < 1 || int_size > 8 || off_size < 1 ||
      off_size > 8 || b[2] != 1) {
    return -1;
  }
  r.int_size = int_size;
  int64_t v = 0;
  // The compression: an algorithm byte from 1.15 on, a level before; either way 0 = none.
  if (minor >= 15) {
    int algorithm = 0;
    if (!r.Byte(algorithm)) return 0;
    if (algorithm != 0) return -1;
  } else {
    if (!r.Int(v)) return r.bad_ ? -1 : 0;
    if (v != 0) return -1;
  }
  std::string text, database, server, version;
  bool ok = true;
  for (int i = 0; i < 7 && ok; ++i) ok = r.Int(v);  // the creation time
  ok = ok && r.Str(database) && r.Str(server) && r.Str(version);
  int64_t count = 0;
  ok = ok && r.Int(count);
  if (ok && count < 0) return -1;
  std::map<int64_t, Entry> with_data;
  std::vector<TocEntry> toc;
  for (int64_t i = 0; ok && i < count; ++i) {
    int64_t dump_id = 0, had_dumper = 0, section = 0;
    std::string tag, desc, schema, defn, owner;
    ok = r.Int(dump_id) && r.Int(had_dumper) && r.Str(text) && r.Str(text) && r.Str(tag) &&
         r.Str(desc) && r.Int(section) && r.Str(defn) && r.Str(text) && r.Str(text) &&
         r.Str(schema) && r.Str(text) && (minor < 14 || r.Str(text)) && r.Str(owner) && r.Str(text);
    for (bool null = false; ok && !null;) ok = r.Str(text, &null);  // dependencies, then NULL
    int flag = 0;
    ok = ok && r.Byte(flag) && r.Skip(static_cast<size_t>(off_size));  // the data's offset
    if (!ok) break;
    if (dump_id <= 0) return -1;
    const bool of_database =
        desc == "ENCODING" || desc == "DATABASE" || desc == "DATABASE PROPERTIES" ||
        ((desc == "ACL" || desc == "COMMENT") && tag.rfind("DATABASE ", 0) == 0);
    if (!of_database) defn.clear();
    if (desc != "DATABASE") owner.clear();
    toc.push_back({dump_id, desc, tag, schema, std::move(defn), std::move(owner)});
    if (had_dumper != 0) {
      Entry e;
      if (desc == "TABLE DATA") e.table = QualifiedTableName(schema, tag);
      if (!with_data.emplace(dump_id, std::move(e)).second) return -1;
    }
  }
  if (!ok) return r.bad_ ? -1 : 0;
  dump_version_ = version.substr(0, version.find(' '));
  int_size_ = int_size;
  with_data_ = std::move(with_data);
  toc_ = std::move(toc);
  toc_read_ = true;
  std::string rest = head_.substr(r.pos);
  std::string().swap(head_);
  state_ = State::kBlockType;
  Feed(rest);
  return 1;
}

bool PgDumpCounter::TakeInt(const char*& p, const char* end, int64_t& value) {
  const size_t need = 1 + static_cast<size_t>(int_size_);
  const char* bytes = p;  // pg_dump writes a chunk per row: the whole integer is usually here
  if (!int_bytes_.empty() || static_cast<size_t>(end - p) < need) {
    const size_t take = std::min(need - int_bytes_.size(), static_cast<size_t>(end - p));
    int_bytes_.append(p, take);
    p += take;
    if (int_bytes_.size() < need) return false;
    bytes = int_bytes_.data();
  } else {
    p += need;
  }
  uint64_t m = 0;
  for (int i = 0; i < int_size_; ++i) {
    m |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[1 + i])) << (8 * i);
  }
  const bool negative = bytes[0] != 0;
  int_bytes_.clear();
  if (m > static_cast<uint64_t>(INT64_MAX)) {
    Fail();
    return false;
  }
  value = negative ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
  return true;
}

// COPY text: a row per line, then a line `\.`, then only empty lines.
void PgDumpCounter::CountLines(const char* p, const char* const end) {
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* stop = nl ? nl : end;
    if (ended_ && stop != p) return Fail();
    for (size_t k = line_length_; k < 2 && p + (k - line_length_) < stop; ++k) {
      line_start_[k] = p[k - line_length_];
    }
    line_length_ = std::min<size_t>(line_length_ + static_cast<size_t>(stop - p), 3);
    if (!nl) return;
    if (!ended_) {
      if (line_length_ == 2 && line_start_[0] == '\\' && line_start_[1] == '.') {
        ended_ = true;
      } else {
        ++*counting_;
      }
    }
    line_length_ = 0;
    p = nl + 1;
  }
}

void PgDumpCounter::Feed(std::string_view chunk) {
  if (state_ == State::kFailed) return;
  if (state_ == State::kHead) {
    head_.append(chunk);
    if (head_.size() > kMaxHead) return Fail();
    // Tried again once it grew by half: linear in the table of contents' size however it is
    // cut into chunks (Finish() makes the last attempt).
    if (head_.size() < head_tried_ + head_tried_ / 2) return;
    int parsed = ParseHead();
    if (parsed < 0) return Fail();
    if (parsed == 0) head_tried_ = head_.size();
    return;
  }
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  int64_t v = 0;
  while (p < end && state_ != State::kFailed) {
    switch (state_) {
      case State::kBlockType: {
        const int type = static_cast<unsigned char>(*p++);
        if (type != kBlockData && type != kBlockBlobs) return Fail();
        in_blobs_ = type == kBlockBlobs;
        state_ = State::kDumpId;
        break;
      }
      case State::kDumpId: {
        if (!TakeInt(p, end, v)) break;
        auto it = with_data_.find(v);
        if (it == with_data_.end() || it->second.seen) return Fail();
        it->second.seen = true;
        counting_ = nullptr;
        if (!in_blobs_ && !it->second.table.empty()) {
          counting_ = &rows_.try_emplace(it->second.table, 0).first->second;
          line_length_ = 0;
          ended_ = false;
        }
        state_ = in_blobs_ ? State::kBlobOid : State::kChunkLength;
        break;
      }
      case State::kBlobOid:
        if (!TakeInt(p, end, v)) break;
        if (v < 0) return Fail();
        state_ = v == 0 ? State::kBlockType : State::kChunkLength;
        break;
      case State::kChunkLength:
        if (!TakeInt(p, end, v)) break;
        if (v < 0) return Fail();
        if (v > 0) {
          chunk_left_ = v;
          state_ = State::kChunkData;
        } else if (in_blobs_) {
          state_ = State::kBlobOid;
        } else {
          // A table's data always ends with its `\.` line.
          if (counting_ && (!ended_ || line_length_ != 0)) return Fail();
          counting_ = nullptr;
          state_ = State::kBlockType;
        }
        break;
      case State::kChunkData: {
        const int64_t n = std::min<int64_t>(chunk_left_, end - p);
        if (counting_) CountLines(p, p + n);
        p += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) state_ = State::kChunkLength;
        break;
      }
      case State::kHead:
      case State::kFailed:
        return;
    }
  }
}

void PgDumpCounter::Finish() {
  if (state_ != State::kHead) return;
  if (ParseHead() != 1) Fail();
}

bool PgDumpCounter::Complete() const {
  if (state_ != State::kBlockType) return false;
  for (const auto& [id, entry] : with_data_) {
    if (!entry.seen) return false;
  }
  return true;
}

std::vector<TableRows> PgDumpCounter::Tables() const {
  std::vector<TableRows> out;
  for (const auto& [name, rows] : rows_) out.push_back({name, rows});
  return out;
}

}  // namespace velin::db
