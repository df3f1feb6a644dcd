// VLNTREE2 (format version 4): fifos, device nodes, extended attributes and the sparse flag
// round-trip; unknown extra records are skipped; what breaks the rules is damage; a VLNTREE1
// reader's rules stay as they were (docs/repository-format.md, "VLNTREE2").
#include <gtest/gtest.h>

#include "velin/repo/tree.hpp"

namespace velin::repo {
namespace {

std::string U64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A VLNTREE2 fifo node named `name` with `extra` as its extra bytes.
std::string FifoNode(const std::string& name, const std::string& extra) {
  return U64(5) + U64(name.size()) + name + U64(0600) + U64(0) + U64(0) + U64(0) + U64(0) + U64(0) +
         U64(0) + U64(extra.size()) + extra;
}

std::string Record(uint64_t tag, const std::string& body) {
  return U64(tag) + U64(body.size()) + body;
}

std::string XattrRecord(const std::string& name, const std::string& value) {
  return Record(1, U64(name.size()) + name + value);
}

Tree Sample() {
  Tree t;
  t.format = 2;
  Node blk;
  blk.type = NodeType::kBlockDevice;
  blk.name = "blk";
  blk.rdev = 0x0701;
  Node chr;
  chr.type = NodeType::kCharDevice;
  chr.name = "chr";
  chr.rdev = 0x0103;
  Node dir;
  dir.type = NodeType::kDir;
  dir.name = "dir";
  dir.subtree = Sha256("sub");
  dir.xattrs = {{"system.posix_acl_default", std::string("\x02\0\0\0", 4)}};
  Node file;
  file.type = NodeType::kFile;
  file.name = "file";
  file.size = 200 << 20;
  file.sparse = true;
  file.content = {Sha256("c")};
  file.xattrs = {{"security.selinux", "system_u:object_r:httpd_sys_content_t:s0"},
                 {"user.empty", ""},
                 {"user.tag", std::string("bl\0ue", 5)}};
  Node pipe;
  pipe.type = NodeType::kFifo;
  pipe.name = "pipe";
  pipe.mode = 0640;
  t.nodes = {blk, chr, dir, file, pipe};
  return t;
}

TEST(TreeV2Test, EveryNewFieldRoundTrips) {
  Tree t = Sample();
  std::string enc = EncodeTree(t);
  EXPECT_EQ(enc.substr(0, 8), "VLNTREE2");
  auto back = DecodeTree(enc);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->format, 2);
  ASSERT_EQ(back->nodes.size(), 5u);
  for (const auto& n : back->nodes) EXPECT_TRUE(n.xattrs_known) << n.name;
  EXPECT_EQ(back->nodes[0].type, NodeType::kBlockDevice);
  EXPECT_EQ(back->nodes[0].rdev, 0x0701u);
  EXPECT_EQ(back->nodes[1].type, NodeType::kCharDevice);
  EXPECT_EQ(back->nodes[1].rdev, 0x0103u);
  EXPECT_EQ(back->nodes[2].xattrs, t.nodes[2].xattrs);
  EXPECT_EQ(back->nodes[3].xattrs, t.nodes[3].xattrs);
  EXPECT_TRUE(back->nodes[3].sparse);
  EXPECT_EQ(back->nodes[3].content, t.nodes[3].content);
  EXPECT_EQ(back->nodes[4].type, NodeType::kFifo);
  EXPECT_EQ(back->nodes[4].mode, 0640u);
  EXPECT_FALSE(back->nodes[4].sparse);
  EXPECT_EQ(EncodeTree(*back), enc);  // stable: the same tree has the same id
}

TEST(TreeV2Test, VersionOneTreesStayAsTheyWere) {
  Tree t;
  Node file;
  file.type = NodeType::kFile;
  file.name = "f";
  file.content = {Sha256("c")};
  t.nodes = {file};
  std::string enc = EncodeTree(t);
  EXPECT_EQ(enc.substr(0, 8), "VLNTREE1");
  auto back = DecodeTree(enc);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->format, 1);
  EXPECT_FALSE(back->nodes[0].xattrs_known);  // unknown, not "none"
  // A VLNTREE1 tree never holds the new types: its readers (older velins) reject them.
  std::string fifo = FifoNode("p", "");
  EXPECT_FALSE(DecodeTree("VLNTREE1" + U64(1) + fifo.substr(0, fifo.size() - 8) + U64(0)));
}

TEST(TreeV2Test, UnknownExtraRecordsAreSkipped) {
  const std::string extra =
      Record(99, "from a later velin") + XattrRecord("user.a", "1") + Record(2, U64(1 | 2 | 8));
  auto back = DecodeTree("VLNTREE2" + U64(1) + FifoNode("p", extra));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->nodes.size(), 1u);
  EXPECT_EQ(back->nodes[0].xattrs, (Xattrs{{"user.a", "1"}}));
  EXPECT_TRUE(back->nodes[0].sparse);
}

TEST(TreeV2Test, BrokenExtendedAttributesAreDamage) {
  const std::string bad[] = {
      XattrRecord("user.b", "") + XattrRecord("user.a", ""),  // unsorted
      XattrRecord("user.a", "") + XattrRecord("user.a", ""),  // duplicated
      XattrRecord("", "v"),                                   // empty name
      XattrRecord(std::string("user.\0x", 7), "v"),           // NUL in the name
      XattrRecord("user." + std::string(251, 'n'), "v"),      // 256 bytes of name
      XattrRecord("user.big", std::string(65537, 'v')),       // more than XATTR_SIZE_MAX
      Record(1, U64(1000) + "user.a"),                        // name longer than its record
      Record(2, "shrt"),                                      // flags without 8 bytes
      U64(1) + U64(1ULL << 40),                               // a record past the end
  };
  for (const auto& extra : bad) {
    auto tree = DecodeTree("VLNTREE2" + U64(1) + FifoNode("p", extra));
    EXPECT_FALSE(tree) << extra.size();
  }
  // An extra length past the tree's end; a type beyond 7.
  std::string node = FifoNode("p", "");
  EXPECT_FALSE(DecodeTree("VLNTREE2" + U64(1) + node.substr(0, node.size() - 8) + U64(1000)));
  EXPECT_FALSE(DecodeTree("VLNTREE2" + U64(1) + U64(8) + node.substr(8)));
  // The limits themselves are fine.
  auto ok = DecodeTree(
      "VLNTREE2" + U64(1) +
      FifoNode("p", XattrRecord("user." + std::string(250, 'n'), std::string(65536, 'v'))));
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace velin::repo
