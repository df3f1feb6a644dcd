#include "velin/repo/tree.hpp"

#include <cstring>

#include "velin/core/i18n.hpp"

namespace velin::repo {

namespace {
constexpr std::string_view kTreeMagic = "VLNTREE1";
constexpr std::string_view kTreeMagic2 = "VLNTREE2";
// VLNTREE2 extra records: tag, length, bytes. Readers skip tags they do not know.
constexpr uint64_t kTagXattr = 1;  // name length, name, value (the rest)
constexpr uint64_t kTagFlags = 2;  // u64: bit 0 sparse
constexpr uint64_t kFlagSparse = 1;

// Little-endian, appended in one piece: eight push_backs (a capacity check each) were 5 % of a
// no-change backup's CPU, which re-encodes every directory's tree.
void PutU64(std::string& out, uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(bytes, sizeof bytes);
}
void PutString(std::string& out, std::string_view s) {
  PutU64(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U64(uint64_t& v) {
    if (data_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool U32(uint32_t& v) {
    uint64_t w;
    if (!U64(w) || w > 0xffffffffULL) return false;
    v = static_cast<uint32_t>(w);
    return true;
  }
  bool I64(int64_t& v) {
    uint64_t w;
    if (!U64(w)) return false;
    v = static_cast<int64_t>(w);
    return true;
  }
  bool Bytes(size_t n, std::string& out) {
    if (data_.size() - pos_ < n) return false;
    out.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool String(std::string& out) {
    uint64_t n;
    return U64(n) && Bytes(n, out);
  }
  bool Id(BlobId& id) {
    if (data_.size() - pos_ < 32) return false;
    std::memcpy(id.bytes.data(), data_.data() + pos_, 32);
    pos_ += 32;
    return true;
  }
  // The next n bytes as a reader of their own.
  bool Sub(size_t n, Reader& out) {
    if (data_.size() - pos_ < n) return false;
    out = Reader(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == data_.size(); }
  size_t Remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// type, name length, mode, uid, gid, mtime, ctime, inode, size: 9 u64s, then a non-empty
// name and a payload of at least 8 bytes (VLNTREE1), or a payload and the extra length
// (VLNTREE2).
constexpr size_t kMinNodeSize = 9 * 8 + 1 + 8;

bool ValidXattrName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxXattrName && name.find('\0') == std::string_view::npos;
}

// The VLNTREE2 extra records of a node.
bool DecodeExtra(Reader& r, Node& n) {
  while (!r.AtEnd()) {
    uint64_t tag, length;
    Reader rec("");
    if (!r.U64(tag) || !r.U64(length) || length > r.Remaining() || !r.Sub(length, rec)) {
      return false;
    }
    if (tag == kTagXattr) {
      std::string name, value;
      uint64_t name_length;
      if (!rec.U64(name_length) || !rec.Bytes(name_length, name) ||
          !rec.Bytes(rec.Remaining(), value) || !ValidXattrName(name) ||
          value.size() > kMaxXattrValue) {
        return false;
      }
      if (!n.xattrs.empty() && !(n.xattrs.back().first < name)) return false;  // sorted, unique
      n.xattrs.emplace_back(std::move(name), std::move(value));
    } else if (tag == kTagFlags) {
      uint64_t flags;
      if (!rec.U64(flags)) return false;
      n.sparse = (flags & kFlagSparse) != 0;
    }  // other tags: metadata of a later velin, ignored
  }
  return true;
}

bool DecodeNode(Reader& r, Node& n, int format) {
  uint64_t type;
  if (!r.U64(type) || type < 1 || type > (format == 1 ? 4 : 7)) return false;
  n.type = static_cast<NodeType>(type);
  if (!r.String(n.name) || !r.U32(n.mode) || !r.U32(n.uid) || !r.U32(n.gid) || !r.I64(n.mtime_ns) ||
      !r.I64(n.ctime_ns) || !r.U64(n.inode) || !r.U64(n.size)) {
    return false;
  }
  switch (n.type) {
    case NodeType::kFile: {
      uint64_t count;
      // Never more ids than the bytes left can hold: a crafted count must not allocate.
      if (!r.U64(count) || count > r.Remaining() / 32) return false;
      n.content.resize(count);
      for (auto& id : n.content) {
        if (!r.Id(id)) return false;
      }
      return true;
    }
    case NodeType::kDir:
      return r.Id(n.subtree);
    case NodeType::kSymlink:
    case NodeType::kHardlink:
      return r.String(n.target);
    case NodeType::kFifo:
      return true;
    case NodeType::kCharDevice:
    case NodeType::kBlockDevice:
      return r.U64(n.rdev);
  }
  return false;
}

bool DecodeNodeV2(Reader& r, Node& n) {
  uint64_t extra_length;
  Reader extra("");
  n.xattrs_known = true;
  return DecodeNode(r, n, 2) && r.U64(extra_length) && extra_length <= r.Remaining() &&
         r.Sub(extra_length, extra) && DecodeExtra(extra, n);
}

void PutRecord(std::string& out, uint64_t tag, std::string_view body) {
  PutU64(out, tag);
  PutString(out, body);
}

std::string EncodeExtra(const Node& n) {
  std::string extra;
  if (n.type == NodeType::kFile || n.type == NodeType::kDir) {
    for (const auto& [name, value] : n.xattrs) {
      std::string body;
      PutString(body, name);
      body.append(value);
      PutRecord(extra, kTagXattr, body);
    }
  }
  if (n.type == NodeType::kFile && n.sparse) {
    std::string body;
    PutU64(body, kFlagSparse);
    PutRecord(extra, kTagFlags, body);
  }
  return extra;
}
}  // namespace

bool IsValidNodeName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string EncodeTree(const Tree& tree) {
  std::string out(tree.format == 1 ? kTreeMagic : kTreeMagic2);
  out.reserve(16 + tree.nodes.size() * 128);  // ~9 words, a name and a chunk id or two a node
  PutU64(out, tree.nodes.size());
  for (const Node& n : tree.nodes) {
    PutU64(out, static_cast<uint64_t>(n.type));
    PutString(out, n.name);
    PutU64(out, n.mode);
    PutU64(out, n.uid);
    PutU64(out, n.gid);
    PutU64(out, static_cast<uint64_t>(n.mtime_ns));
    PutU64(out, static_cast<uint64_t>(n.ctime_ns));
    PutU64(out, n.inode);
    PutU64(out, n.size);
    switch (n.type) {
      case NodeType::kFile:
        PutU64(out, n.content.size());
        for (const auto& id : n.content)
          out.append(reinterpret_cast<const char*>(id.bytes.data()), 32);
        break;
      case NodeType::kDir:
        out.append(reinterpret_cast<const char*>(n.subtree.bytes.data()), 32);
        break;
      case NodeType::kSymlink:
      case NodeType::kHardlink:
        PutString(out, n.target);
        break;
      case NodeType::kFifo:
        break;
      case NodeType::kCharDevice:
      case NodeType::kBlockDevice:
        PutU64(out, n.rdev);
        break;
    }
    if (tree.format != 1) PutString(out, EncodeExtra(n));
  }
  return out;
}

Result<Tree> DecodeTree(std::string_view data, std::string_view top_name) {
  Tree tree;
  if (data.substr(0, kTreeMagic.size()) == kTreeMagic) {
    tree.format = 1;
  } else if (data.substr(0, kTreeMagic2.size()) == kTreeMagic2) {
    tree.format = 2;
  } else {
    return DamageError(std::string(Tr("not a tree (bad magic)")));
  }
  Reader r(data.substr(kTreeMagic.size()));
  uint64_t count;
  // A node takes at least kMinNodeSize bytes: a crafted count must not allocate.
  if (!r.U64(count) || count > r.Remaining() / kMinNodeSize) {
    return DamageError(std::string(Tr("tree is truncated")));
  }
  tree.nodes.resize(count);
  for (size_t i = 0; i < count; ++i) {
    Node& n = tree.nodes[i];
    if (!(tree.format == 1 ? DecodeNode(r, n, 1) : DecodeNodeV2(r, n)))
      return DamageError(std::string(Tr("tree is truncated or malformed")));
    if (count == 1 && !top_name.empty() && (n.name.empty() || n.name == ".")) {
      n.name = top_name;
    }
    if (!IsValidNodeName(n.name)) {
      return DamageError(
          TrFormat("tree holds an invalid name '{}' (empty, '.', '..', '/' or NUL)", n.name));
    }
    if (i > 0 && !(tree.nodes[i - 1].name < n.name)) {
      return DamageError(TrFormat("tree names are unsorted or duplicated at '{}'", n.name));
    }
  }
  if (!r.AtEnd()) return DamageError(std::string(Tr("tree has trailing bytes")));
  return tree;
}

std::string HardlinkTargetPath(const std::string& target, const std::string& top_name) {
  return !target.empty() && target[0] == '/' ? top_name + target : target;
}

}  // namespace velin::repo
